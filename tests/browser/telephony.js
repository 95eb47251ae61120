#!/usr/bin/env node
// Headless-browser check of the console's telephony pages.
//
//   CENTRALITA_URL=http://127.0.0.1:8080 SCREENSHOT_DIR=/tmp/shots CONVERSATION_ID=... node telephony.js
//
// The admin opens SIP trunks and sees the demo's "Demo carrier" with its
// numbers; adds a trunk whose numbers name an unknown queue (the error),
// then a good one (listed, its password never shown), and deletes it. Then
// opens Recordings, asks for the conversation CONVERSATION_ID (a call the
// Go test recorded on the simulated switch) and plays its recording (the
// WAV decoded by Web Audio lasts the 5 s recorded). Prints one JSON line; on the first failure
// a JSON line with ok=false, and exits 1. Run by
// internal/web/telephony_browser_test.go.
'use strict';

const { BASE, check, isLoginPage, isConsole, visible, waitURL, createRun } = require('./lib');

const run = createRun({ name: 'telephony.js', failureShot: 'telephony-failure.png' });
const { step, shot } = run;
const CONVERSATION = process.env.CONVERSATION_ID || '';

async function main() {
  run.preflight();
  check(CONVERSATION, 'CONVERSATION_ID is not set');
  await step('launch', async () => {
    await run.launch();
  });
  const { page } = await run.newPage({
    locale: 'en-US',
    viewport: { width: 1280, height: 1000 },
    label: 'admin',
    expectedErrors: new Set(),
    ignoreConsole: /^Failed to load resource: the server responded with a status of/,
  });
  run.currentPage = page;
  const panel = page.getByRole('tabpanel');

  await step('admin signs in and opens SIP trunks', async () => {
    await page.goto(`${BASE}/ui/#users`);
    await waitURL(page, isLoginPage, 'the login page /oauth/authorize');
    await page.getByLabel('User', { exact: true }).fill('admin');
    await page.getByLabel('Password', { exact: true }).fill('admin');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await waitURL(page, isConsole, 'the console /ui/');
    const tab = page.getByRole('tab', { name: 'SIP trunks', exact: true });
    await visible(tab, 'tab "SIP trunks"');
    await tab.click();
    await visible(panel.getByRole('heading', { name: 'SIP trunks', exact: true, level: 2 }), 'heading "SIP trunks"');
    const row = panel.getByRole('row').filter({ has: page.getByRole('cell', { name: 'Demo carrier', exact: true }) });
    await visible(row, 'the demo trunk');
    const text = await row.innerText();
    check(text.includes('2001 → Ventas') && text.includes('+34910000002 → Soporte'), `the demo trunk's numbers: ${text}`);
  });

  const form = panel.getByRole('form', { name: 'Add trunk', exact: true });
  await step('a number for an unknown queue is refused', async () => {
    await form.getByLabel('Name', { exact: true }).fill('Carrier B');
    await form.getByLabel('Address (host:port)', { exact: true }).fill('192.0.2.20:5060');
    await form.getByLabel('Numbers (DIDs)', { exact: true }).fill('+34910000077 = Nowhere');
    await form.getByRole('button', { name: 'Add trunk', exact: true }).click();
    const alert = form.getByRole('alert');
    await visible(alert, 'the error');
    check((await alert.innerText()).includes('Nowhere'), `the error does not name the queue: ${await alert.innerText()}`);
  });

  await step('add a trunk, see it, delete it', async () => {
    await form.getByLabel('Digest user', { exact: true }).fill('acct');
    await form.getByLabel('Digest password', { exact: true }).fill('browser-secret');
    await form.getByLabel('Numbers (DIDs)', { exact: true }).fill('+34910000077 = Soporte\n3001 = ventas');
    await form.getByRole('button', { name: 'Add trunk', exact: true }).click();
    await visible(panel.getByRole('status').filter({ hasText: 'Created.' }), 'the "Created." status');
    const row = panel.getByRole('row').filter({ has: page.getByRole('cell', { name: 'Carrier B', exact: true }) });
    await visible(row, 'row "Carrier B"');
    const text = await row.innerText();
    check(text.includes('+34910000077 → Soporte') && text.includes('3001 → Ventas') && !text.includes('browser-secret'), `row "Carrier B": ${text}`);
    check(!(await page.content()).includes('browser-secret'), 'the password is on the page');
    await shot(page, 'telephony-trunks.png');
    await row.getByRole('button', { name: 'Delete Carrier B', exact: true }).click();
    await visible(panel.getByRole('status').filter({ hasText: 'Deleted.' }), 'the "Deleted." status');
    // The list reloads after the status shows: wait (bounded) for the row to go.
    const gone = await panel.getByRole('cell', { name: 'Carrier B', exact: true })
      .waitFor({ state: 'detached', timeout: 10000 }).then(() => true, () => false);
    check(gone, 'Carrier B is still listed');
  });

  await step('recordings of a conversation play', async () => {
    await page.getByRole('tab', { name: 'Recordings', exact: true }).click();
    await visible(panel.getByRole('heading', { name: 'Recordings', exact: true, level: 2 }), 'heading "Recordings"');
    await panel.getByLabel('Conversation id', { exact: true }).fill(CONVERSATION);
    await panel.getByRole('button', { name: 'Show recordings', exact: true }).click();
    const row = panel.locator('tr[data-recording]');
    await visible(row.first(), 'a recording row');
    check((await row.count()) === 1, `${await row.count()} recording rows, want 1`);
    check((await row.innerText()).includes('5 s'), `the duration: ${await row.innerText()}`);
    await row.getByRole('button', { name: 'Play', exact: true }).click();
    await visible(row.getByRole('button', { name: 'Stop', exact: true }), 'the Stop button while it plays');
    await visible(row.getByRole('link', { name: 'Download', exact: true }), 'the Download link');
    const duration = Number(await row.getAttribute('data-duration'));
    check(Math.abs(duration - 5) < 0.05, `the decoded audio lasts ${duration} s, want 5`);
    await shot(page, 'telephony-recordings.png');
  });

  await run.finish();
}

run.main(main);
