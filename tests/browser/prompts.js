#!/usr/bin/env node
// Headless-browser check of the console's Prompts page.
//
//   CENTRALITA_URL=http://127.0.0.1:8080 SCREENSHOT_DIR=/tmp/shots node prompts.js
//
// The admin opens Prompts and sees the four built-in prompts; plays "moh"
// (decoded by Web Audio); adds "gracias" with a file that is not a WAV
// (the prompt is created, the upload refused with an error saying what a
// prompt must be); uploads a 1.5 s WAV to it from its row, plays it
// (1.5 s decoded) and deletes it. Prints one JSON line; on the first
// failure a JSON line with ok=false, and exits 1. Run by
// internal/web/prompts_browser_test.go.
'use strict';

const { BASE, check, isLoginPage, isConsole, visible, waitURL, createRun } = require('./lib');

const run = createRun({ name: 'prompts.js', failureShot: 'prompts-failure.png' });
const { step, shot } = run;

// wav is n samples of a 700 Hz tone as a mono 8 kHz 16-bit PCM WAV file.
function wav(n) {
  const b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVE', 8);
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(8000, 24); b.writeUInt32LE(16000, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 700 * i) / 8000)), 44 + 2 * i);
  return b;
}

async function main() {
  run.preflight();
  await step('launch', async () => {
    await run.launch();
  });
  const { page } = await run.newPage({
    locale: 'en-US',
    viewport: { width: 1280, height: 1000 },
    label: 'admin',
    // The refused upload: its prompt's id is not known in advance.
    expectedErrors: { has: (what) => /^400 PUT \/api\/v2\/architect\/prompts\/[0-9a-f-]{36}\/audio$/.test(what) },
    ignoreConsole: /^Failed to load resource: the server responded with a status of 400/,
  });
  run.currentPage = page;
  const panel = page.getByRole('tabpanel');
  const row = (name) => panel.locator(`tr[data-prompt="${name}"]`);

  await step('admin signs in and opens Prompts', async () => {
    await page.goto(`${BASE}/ui/#users`);
    await waitURL(page, isLoginPage, 'the login page /oauth/authorize');
    await page.getByLabel('User', { exact: true }).fill('admin');
    await page.getByLabel('Password', { exact: true }).fill('admin');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await waitURL(page, isConsole, 'the console /ui/');
    const tab = page.getByRole('tab', { name: 'Prompts', exact: true });
    await visible(tab, 'tab "Prompts"');
    await tab.click();
    await visible(panel.getByRole('heading', { name: 'Prompts', exact: true, level: 2 }), 'heading "Prompts"');
    await visible(row('moh'), 'the built-in moh');
    const builtIn = panel.locator('tr[data-builtin="true"]');
    check((await builtIn.count()) === 4, `${await builtIn.count()} built-in prompts, want 4`);
    check((await row('moh').innerText()).includes('built-in'), `row moh: ${await row('moh').innerText()}`);
  });

  await step('the built-in music on hold plays', async () => {
    await row('moh').getByRole('button', { name: 'Play moh', exact: true }).click();
    await visible(row('moh').getByRole('button', { name: 'Stop', exact: true }), 'the Stop button while it plays');
    const duration = Number(await row('moh').getAttribute('data-duration'));
    check(duration > 2 && duration < 60, `moh decodes to ${duration} s`);
    await row('moh').getByRole('button', { name: 'Stop', exact: true }).click();
  });

  const form = panel.getByRole('form', { name: 'Add prompt', exact: true });
  await step('a file that is not a WAV is refused, saying why', async () => {
    await form.getByLabel('Name', { exact: true }).fill('gracias');
    await form.getByLabel('Description', { exact: true }).fill('Thanks for waiting');
    await form.getByLabel('WAV file (8 kHz mono 16-bit)', { exact: true })
      .setInputFiles({ name: 'gracias.wav', mimeType: 'audio/wav', buffer: Buffer.from('this is not audio at all, just some text') });
    await form.getByRole('button', { name: 'Add prompt', exact: true }).click();
    const alert = form.getByRole('alert');
    await visible(alert, 'the error');
    const text = await alert.innerText();
    check(text.includes('8 kHz mono'), `the error does not say what a prompt must be: ${text}`);
    await visible(row('gracias'), 'the created prompt');
    check((await row('gracias').innerText()).includes('no audio yet'), `row gracias: ${await row('gracias').innerText()}`);
  });

  await step('upload a WAV to the prompt, play it, delete it', async () => {
    await row('gracias').getByLabel('Upload audio gracias', { exact: true })
      .setInputFiles({ name: 'gracias.wav', mimeType: 'audio/wav', buffer: wav(12000) });
    await visible(panel.getByRole('status').filter({ hasText: 'Audio uploaded.' }), 'the "Audio uploaded." status');
    await visible(row('gracias').getByText('1.5 s', { exact: true }), 'the duration 1.5 s');
    await row('gracias').getByRole('button', { name: 'Play gracias', exact: true }).click();
    await visible(row('gracias').getByRole('link', { name: 'Download', exact: true }), 'the Download link');
    const duration = Number(await row('gracias').getAttribute('data-duration'));
    check(Math.abs(duration - 1.5) < 0.05, `the decoded prompt lasts ${duration} s, want 1.5`);
    await shot(page, 'prompts.png');
    await row('gracias').getByRole('button', { name: 'Delete gracias', exact: true }).click();
    await visible(panel.getByRole('status').filter({ hasText: 'Deleted.' }), 'the "Deleted." status');
    try {
      await row('gracias').waitFor({ state: 'detached' });
    } catch {
      check(false, 'gracias is still listed');
    }
  });

  await run.finish();
}

run.main(main);
