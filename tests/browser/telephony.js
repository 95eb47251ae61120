#!/usr/bin/env node
// Headless-browser check of the console's telephony pages.
//
//   CENTRALITA_URL=http://127.0.0.1:8080 SCREENSHOT_DIR=/tmp/shots CONVERSATION_ID=... node telephony.js
//
// The admin opens SIP trunks and sees the demo's "Demo carrier" with its
// numbers; adds a trunk whose numbers name an unknown queue (the error),
// one that registers with the carrier without credentials (the server's
// error), then a good one that registers over TLS (the transport select,
// udp by default, with its hint; the SRTP box only offered with TLS, with
// its hint; listed with its registration on and "(TLS, SRTP)", its password
// never shown), edits its caller id (the form comes prefilled, the register
// box ticked with its time, TLS selected and SRTP ticked, the password left
// empty keeps the stored one), and deletes it. Then opens Recordings, which lists the latest recordings
// without typing an id: the conversation CONVERSATION_ID (a call the Go test
// recorded on the simulated switch) is there and its recording plays (the
// WAV decoded by Web Audio lasts the 5 s recorded); filtering by that id
// shows the one recording. Prints one JSON line; on the first failure
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
    // the server refuses a trunk that registers without credentials
    expectedErrors: new Set(['400 POST /api/v2/telephony/sip/trunks']),
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

  await step('registering without credentials is refused', async () => {
    await form.getByLabel('Numbers (DIDs)', { exact: true }).fill('+34910000077 = Soporte');
    const register = form.getByLabel('Register with the carrier', { exact: true });
    check(!(await register.isChecked()), 'the register box is ticked on a new trunk');
    const hint = await register.getAttribute('aria-describedby');
    check(hint && (await page.locator(`#${hint}`).innerText()).includes('digest user and password'), `the register hint: ${hint}`);
    await register.check();
    const expires = form.getByLabel('Registration time (seconds)', { exact: true });
    await visible(expires, 'the registration time field');
    check((await expires.inputValue()) === '3600', `the default registration time: ${await expires.inputValue()}`);
    await expires.fill('600');
    await form.getByRole('button', { name: 'Add trunk', exact: true }).click();
    const alert = form.getByRole('alert');
    await visible(alert.filter({ hasText: 'required to register' }), 'the error about the credentials');
    check((await alert.innerText()).includes('password'), `the error does not name the password: ${await alert.innerText()}`);
  });

  await step('add a trunk, see it, delete it', async () => {
    await form.getByLabel('Digest user', { exact: true }).fill('acct');
    await form.getByLabel('Digest password', { exact: true }).fill('browser-secret');
    await form.getByLabel('Numbers (DIDs)', { exact: true }).fill('+34910000077 = Soporte\n3001 = ventas');
    const transport = form.getByLabel('Transport', { exact: true });
    check((await transport.inputValue()) === 'udp', `the default transport: ${await transport.inputValue()}`);
    const thint = await transport.getAttribute('aria-describedby');
    check(thint && (await page.locator(`#${thint}`).innerText()).includes('sip_tls_listen'), `the transport hint: ${thint}`);
    const srtp = form.getByLabel('Encrypt audio (SRTP)', { exact: true });
    check((await srtp.count()) === 0, 'the SRTP box is offered with UDP');
    await transport.selectOption('tls');
    await visible(srtp, 'the SRTP box with TLS');
    check(!(await srtp.isChecked()), 'the SRTP box is ticked on a new trunk');
    const shint = await srtp.getAttribute('aria-describedby');
    check(shint && (await page.locator(`#${shint}`).innerText()).includes('unencrypted audio'), `the SRTP hint: ${shint}`);
    await srtp.check();
    await form.getByRole('button', { name: 'Add trunk', exact: true }).click();
    await visible(panel.getByRole('status').filter({ hasText: 'Created.' }), 'the "Created." status');
    const row = panel.getByRole('row').filter({ has: page.getByRole('cell', { name: 'Carrier B', exact: true }) });
    await visible(row, 'row "Carrier B"');
    const text = await row.innerText();
    check(text.includes('+34910000077 → Soporte') && text.includes('3001 → Ventas') && !text.includes('browser-secret'), `row "Carrier B": ${text}`);
    check(text.includes('192.0.2.20:5060 (TLS, SRTP)'), `row "Carrier B" does not show TLS and SRTP: ${text}`);
    check(!(await page.content()).includes('browser-secret'), 'the password is on the page');
    // The simulated switch registers nothing: the column says it is on.
    await visible(row.locator('td[data-registration="on"]').filter({ hasText: 'on' }), 'the registration on in row "Carrier B"');
    await shot(page, 'telephony-trunks.png');
  });

  await step('edit a trunk\'s caller id', async () => {
    const row = panel.getByRole('row').filter({ has: page.getByRole('cell', { name: 'Carrier B', exact: true }) });
    await row.getByRole('button', { name: 'Edit Carrier B', exact: true }).click();
    const edit = panel.getByRole('form', { name: 'Edit trunk', exact: true });
    await visible(edit, 'the "Edit trunk" form');
    check((await edit.getByLabel('Name', { exact: true }).inputValue()) === 'Carrier B', 'the form is not prefilled with the name');
    check((await edit.getByLabel('Digest user', { exact: true }).inputValue()) === 'acct', 'the form is not prefilled with the user');
    const password = edit.getByLabel('Digest password', { exact: true });
    check((await password.inputValue()) === '', 'the password field is not empty');
    const hint = await password.getAttribute('aria-describedby');
    check(hint && (await page.locator(`#${hint}`).innerText()).includes('keep the current password'), `the password hint: ${hint}`);
    const dids = await edit.getByLabel('Numbers (DIDs)', { exact: true }).inputValue();
    check(dids.includes('+34910000077 = Soporte') && dids.includes('3001 = Ventas'), `the prefilled numbers: ${dids}`);
    check(await edit.getByLabel('Register with the carrier', { exact: true }).isChecked(), 'the register box is not ticked');
    const expires = await edit.getByLabel('Registration time (seconds)', { exact: true }).inputValue();
    check(expires === '600', `the prefilled registration time: ${expires}`);
    const transport = await edit.getByLabel('Transport', { exact: true }).inputValue();
    check(transport === 'tls', `the prefilled transport: ${transport}`);
    check(await edit.getByLabel('Encrypt audio (SRTP)', { exact: true }).isChecked(), 'the SRTP box is not ticked');
    await edit.getByLabel('Caller id', { exact: true }).fill('+34910000099');
    await edit.getByRole('button', { name: 'Save trunk', exact: true }).click();
    await visible(panel.getByRole('status').filter({ hasText: 'Trunk saved.' }), 'the "Trunk saved." status');
    await visible(row.getByRole('cell', { name: '+34910000099', exact: true }), 'the new caller id in row "Carrier B"');
    const text = await row.innerText();
    check(text.includes('+34910000077 → Soporte') && text.includes('3001 → Ventas'), `the numbers after the edit: ${text}`);
    await visible(row.getByRole('cell', { name: 'set', exact: true }), 'the password still set after an edit without one');
    await visible(panel.getByRole('form', { name: 'Add trunk', exact: true }), 'the form back to "Add trunk"');
  });

  await step('delete a trunk', async () => {
    const row = panel.getByRole('row').filter({ has: page.getByRole('cell', { name: 'Carrier B', exact: true }) });
    await row.getByRole('button', { name: 'Delete Carrier B', exact: true }).click();
    await visible(panel.getByRole('status').filter({ hasText: 'Deleted.' }), 'the "Deleted." status');
    // The list reloads after the status shows: wait (bounded) for the row to go.
    const gone = await panel.getByRole('cell', { name: 'Carrier B', exact: true })
      .waitFor({ state: 'detached', timeout: 10000 }).then(() => true, () => false);
    check(gone, 'Carrier B is still listed');
  });

  await step('the latest recordings show without an id, and play', async () => {
    await page.getByRole('tab', { name: 'Recordings', exact: true }).click();
    await visible(panel.getByRole('heading', { name: 'Recordings', exact: true, level: 2 }), 'heading "Recordings"');
    await visible(panel.getByRole('heading', { name: 'Latest recordings', exact: true }), 'heading "Latest recordings"');
    check((await panel.getByLabel('Conversation id', { exact: true }).inputValue()) === '', 'the conversation id is filled in');
    const row = panel.locator(`tr[data-recording][data-conversation="${CONVERSATION}"]`);
    await visible(row.first(), 'the recording row of the recorded call');
    check((await row.count()) === 1, `${await row.count()} recording rows, want 1`);
    await visible(row.getByRole('button', { name: `Recordings of conversation ${CONVERSATION}`, exact: true }), 'the conversation id cell');
    check((await row.innerText()).includes(CONVERSATION.slice(0, 8)), `the conversation id: ${await row.innerText()}`);
    check((await row.innerText()).includes('5 s'), `the duration: ${await row.innerText()}`);
    await row.getByRole('button', { name: 'Play', exact: true }).click();
    await visible(row.getByRole('button', { name: 'Stop', exact: true }), 'the Stop button while it plays');
    await visible(row.getByRole('link', { name: 'Download', exact: true }), 'the Download link');
    const duration = Number(await row.getAttribute('data-duration'));
    check(Math.abs(duration - 5) < 0.05, `the decoded audio lasts ${duration} s, want 5`);
    await shot(page, 'telephony-recordings.png');
  });

  await step('the conversation id filter still works', async () => {
    await panel.getByLabel('Conversation id', { exact: true }).fill(CONVERSATION);
    await panel.getByRole('button', { name: 'Show recordings', exact: true }).click();
    const latest = await panel.getByRole('heading', { name: 'Latest recordings', exact: true })
      .waitFor({ state: 'detached', timeout: 10000 }).then(() => true, () => false);
    check(latest, 'the latest recordings still show after filtering');
    const row = panel.locator('tr[data-recording]');
    await visible(row.first(), 'a recording row of the conversation');
    check((await row.count()) === 1, `${await row.count()} recording rows, want 1`);
    check((await row.innerText()).includes('5 s'), `the duration: ${await row.innerText()}`);
    await panel.getByRole('button', { name: 'Show the latest recordings', exact: true }).click();
    await visible(panel.getByRole('heading', { name: 'Latest recordings', exact: true }), 'the latest recordings again');
  });

  await run.finish();
}

run.main(main);
