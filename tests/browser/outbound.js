#!/usr/bin/env node
// Headless-browser end-to-end check of the console's outbound pages.
//
//   CENTRALITA_URL=http://127.0.0.1:8080 SCREENSHOT_DIR=/tmp/shots node outbound.js
//
// The admin creates a schema (a Clave_1 key, a phone field and a
// disposition tree), a contact list, imports a CSV with one bad row without
// "Skip invalid rows" (the report names the row and the column; nothing is
// imported) and again with it (two imported), sees the contacts, creates a
// do-not-call list with a number, creates a preview campaign on the list and
// sees it listed, and sees the server's error for a campaign without a list.
// Then agent1 signs in, logs into station 1001 and into the campaign from
// the Agent view's outbound desk and sees it as current. Prints one JSON
// line; on the first failure a JSON line with ok=false, and exits 1. Drives
// the system Chromium with playwright-core, as console.js does; run by
// internal/web/browser_test.go (TestBrowserOutbound).
'use strict';

const { STEP_TIMEOUT, BASE, CheckError, check, firstLine, isLoginPage, isConsole, visible, waitURL, createRun } = require('./lib');

const run = createRun({ name: 'outbound.js', failureShot: 'outbound-failure.png' });
const { results, step, shot } = run;

const SCHEMA = 'Clientes Navegador';
const LIST = 'Base Navegador';
const DNC = 'DNC Navegador';
const DNC_NUMBER = '+34911000111';
const CAMPAIGN = 'Campaña Navegador';
const CAMPAIGN_NUMBER = '501';

// Row 3 (the header is row 1) has a phone that does not parse.
const CSV = [
  'crmKey,phone,firstName',
  'K001,+34911234567,Ana',
  'K002,not-a-phone,Luis',
  'K003,911234568,Eva',
].join('\n') + '\n';

// The error answers the flow provokes on purpose (the desk's GET
// /api/v2/outbound/me may also answer 404/409 while the dialer is not
// there: the desk hides itself quietly then).
const expectedPatterns = [
  /^400 POST \/api\/v2\/outbound\/contactlists\/[^/]+\/import$/, // the bad row without skipInvalid
  /^400 POST \/api\/v2\/outbound\/campaigns$/, // a campaign without a list
  /^(404|409) GET \/api\/v2\/outbound\/me$/,
  /^(404|409) GET \/api\/v2\/outbound\/campaigns\/[^/]+\/stats$/,
];
const expectedErrors = { has: (what) => expectedPatterns.some((p) => p.test(what)) };

function newContext(label) {
  return run.newPage({
    locale: 'en-US',
    viewport: { width: 1280, height: 1000 },
    label,
    expectedErrors,
    ignoreConsole: /^Failed to load resource: the server responded with a status of/,
  });
}

async function login(page, user, password, hash) {
  await page.goto(`${BASE}/ui/#${hash}`);
  await waitURL(page, isLoginPage, 'the login page /oauth/authorize');
  await page.getByLabel('User', { exact: true }).fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await waitURL(page, isConsole, 'the console /ui/');
}

async function openTab(page, name) {
  const tab = page.getByRole('tab', { name, exact: true });
  await visible(tab, `tab "${name}"`);
  await tab.click();
  await visible(page.getByRole('tabpanel').getByRole('heading', { name, exact: true, level: 2 }), `heading "${name}"`);
  return page.getByRole('tabpanel');
}

// waitFor waits for a page-side condition, with a readable failure.
async function waitFor(page, fn, arg, what) {
  try {
    await page.waitForFunction(fn, arg, { timeout: STEP_TIMEOUT });
  } catch (err) {
    throw new CheckError(`${what} (${firstLine(err)})`);
  }
}

// options waits until a select offers an option with this text.
async function hasOption(page, select, label, what) {
  const handle = await select.elementHandle();
  await waitFor(page, ([el, l]) => [...el.options].some((o) => o.textContent.trim() === l), [handle, label], `${what}: no option "${label}"`);
}

async function main() {
  run.preflight();
  await step('launch', async () => {
    await run.launch();
  });

  const admin = await newContext('admin');
  const page = admin.page;
  run.currentPage = page;

  await step('admin signs in at Schemas', async () => {
    await login(page, 'admin', 'admin', 'schemas');
    const tab = page.getByRole('tab', { name: 'Schemas', exact: true });
    await visible(tab, 'tab "Schemas"');
    check((await tab.getAttribute('aria-selected')) === 'true', 'tab "Schemas" is not selected after login at #schemas');
    for (const name of ['Contact lists', 'Do-not-call lists', 'Campaigns', 'Callbacks']) {
      await visible(page.getByRole('tab', { name, exact: true }), `tab "${name}"`);
    }
  });

  await step('create a schema with fields and dispositions', async () => {
    const panel = await openTab(page, 'Schemas');
    await panel.getByRole('button', { name: 'New schema', exact: true }).click();
    const form = panel.locator('form.editor');
    await visible(form.getByRole('heading', { name: 'New schema', exact: true }), 'the schema form');
    await form.getByLabel('Name', { exact: true }).first().fill(SCHEMA);
    const field = (n) => form.getByRole('group', { name: `Field ${n}`, exact: true });
    await field(1).getByLabel('Name', { exact: true }).fill('crmKey');
    await field(1).getByLabel('Label', { exact: true }).fill('Salesforce Id');
    await field(1).getByLabel('Type', { exact: true }).selectOption('Clave_1');
    await field(2).getByLabel('Name', { exact: true }).fill('phone');
    await field(2).getByLabel('Label', { exact: true }).fill('Teléfono');
    await field(2).getByLabel('Type', { exact: true }).selectOption('phone');
    await form.getByRole('button', { name: 'Add field', exact: true }).click();
    // The new row's name gets the focus, for keyboard users.
    const third = field(3).getByLabel('Name', { exact: true });
    await visible(third, 'field 3');
    check(await third.evaluate((el) => el === document.activeElement), 'the added field row did not get the focus');
    await third.fill('firstName');
    await field(3).getByLabel('Label', { exact: true }).fill('Nombre');
    await field(3).getByLabel('Type', { exact: true }).selectOption('text');

    const category = (n) => form.getByRole('group', { name: `Category ${n}`, exact: true });
    const sub = (n) => form.getByRole('group', { name: `Subcategory ${n}`, exact: true });
    await form.getByRole('button', { name: 'Add category', exact: true }).click();
    await category(1).getByLabel('Category', { exact: true }).fill('Venta');
    await sub('1.1').getByLabel('Subcategory', { exact: true }).fill('Cerrada');
    await sub('1.1').getByLabel('Outcome', { exact: true }).selectOption('final');
    await category(1).getByRole('button', { name: 'Add subcategory to category 1', exact: true }).click();
    await sub('1.2').getByLabel('Subcategory', { exact: true }).fill('Volver a llamar');
    await sub('1.2').getByLabel('Outcome', { exact: true }).selectOption('callback');
    await form.getByRole('button', { name: 'Add category', exact: true }).click();
    await category(2).getByLabel('Category', { exact: true }).fill('No contactado');
    await sub('2.1').getByLabel('Subcategory', { exact: true }).fill('Buzón');
    await sub('2.1').getByLabel('Outcome', { exact: true }).selectOption('retry');
    await shot(page, 'outbound-schema-form.png');
    await form.getByRole('button', { name: 'Save schema', exact: true }).click();
    await visible(panel.getByRole('status').getByText('Saved.', { exact: true }), 'status "Saved."');
    const row = panel.getByRole('row').filter({ has: page.getByRole('cell', { name: SCHEMA, exact: true }) });
    await visible(row, `schema "${SCHEMA}" in the table`);
    await visible(row.getByText(/Venta \(2\)/), 'the dispositions in the schema row');
  });

  let listId = '';
  await step('create a contact list', async () => {
    const panel = await openTab(page, 'Contact lists');
    const schema = panel.getByLabel('Schema', { exact: true });
    await hasOption(page, schema, SCHEMA, 'select "Schema"');
    await panel.getByLabel('Name', { exact: true }).fill(LIST);
    await schema.selectOption({ label: SCHEMA });
    check((await panel.getByLabel('Default country', { exact: true }).inputValue()) === 'ES', 'default country is not ES');
    const created = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v2/outbound/contactlists');
    await panel.getByRole('button', { name: 'Create contact list', exact: true }).click();
    const res = await created;
    check(res.ok(), `creating the list: HTTP ${res.status()}`);
    listId = (await res.json()).id;
    await visible(panel.getByRole('button', { name: LIST, exact: true }), `list "${LIST}" in the table`);
  });

  const detailOf = (panel) => panel.locator('section.detail').filter({ has: page.getByRole('heading', { name: `Contacts of ${LIST}`, exact: true }) });

  await step('import with a bad row: report, nothing imported', async () => {
    const panel = page.getByRole('tabpanel');
    await panel.getByRole('button', { name: LIST, exact: true }).click();
    const detail = detailOf(panel);
    await visible(detail, 'the list\'s contacts');
    await visible(detail.getByText('Nothing here yet.', { exact: true }), 'an empty contact table');
    const form = detail.locator('form.csv-upload');
    await form.getByLabel('CSV file', { exact: true }).setInputFiles({ name: 'clientes.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    const skip = form.getByLabel('Skip invalid rows', { exact: true });
    check(!(await skip.isChecked()), '"Skip invalid rows" is checked by default');
    await form.getByRole('button', { name: 'Import', exact: true }).click();
    await visible(form.getByRole('alert'), 'the import error');
    const report = form.getByRole('table', { name: 'Import report' });
    await visible(report, 'the import report table');
    const bad = report.getByRole('row').filter({ has: page.getByRole('cell', { name: '3', exact: true }) });
    await visible(bad, 'a report row for file row 3');
    await visible(bad.getByRole('cell', { name: 'phone', exact: true }), 'column "phone" in the report');
    results.importError = (await form.getByRole('alert').innerText()).trim();
    results.importReport = (await report.innerText()).trim();
    await shot(page, 'outbound-import-report.png');
    // Still no contacts: in the table and in the list's size.
    await visible(detail.getByText('Nothing here yet.', { exact: true }), 'the contact table after the failed import');
    const size = await page.evaluate(async (id) => {
      const token = JSON.parse(sessionStorage.getItem('centralita.token')).access_token;
      const r = await fetch(`/api/v2/outbound/contactlists/${id}`, { headers: { Authorization: 'Bearer ' + token } });
      return (await r.json()).size;
    }, listId);
    check(size === 0, `the list holds ${size} contacts after a failed import, want 0`);
  });

  await step('import skipping invalid rows', async () => {
    const panel = page.getByRole('tabpanel');
    const detail = detailOf(panel);
    const form = detail.locator('form.csv-upload');
    await form.getByLabel('CSV file', { exact: true }).setInputFiles({ name: 'clientes.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await form.getByLabel('Skip invalid rows', { exact: true }).check();
    await form.getByRole('button', { name: 'Import', exact: true }).click();
    await visible(form.getByRole('status').getByText('Imported 2, updated 0, skipped 1.', { exact: true }), 'status "Imported 2, updated 0, skipped 1."');
    check((await form.getByRole('alert').count()) === 0, 'an error alert after a successful import');
    await visible(form.getByRole('table', { name: 'Skipped rows' }).getByRole('cell', { name: '3', exact: true }), 'the skipped row 3');
  });

  await step('the list shows its contacts', async () => {
    const panel = page.getByRole('tabpanel');
    const detail = detailOf(panel);
    for (const key of ['K001', 'K003']) {
      await visible(detail.getByRole('cell', { name: key, exact: true }), `contact ${key}`);
    }
    await visible(detail.getByRole('cell', { name: 'Ana', exact: true }), 'the first name "Ana"');
    check((await detail.getByRole('cell', { name: 'K002', exact: true }).count()) === 0, 'the bad row K002 was imported');
    const row = panel.getByRole('row').filter({ has: page.getByRole('button', { name: LIST, exact: true }) });
    await visible(row.getByRole('cell', { name: '2', exact: true }), 'size 2 in the list table');
    // Search narrows the table.
    await detail.getByLabel('Search contacts', { exact: true }).fill('K003');
    await detail.getByRole('button', { name: 'Search', exact: true }).click();
    await detail.getByRole('cell', { name: 'K001', exact: true }).waitFor({ state: 'detached', timeout: STEP_TIMEOUT })
      .catch(() => { throw new CheckError('search "K003" still shows K001'); });
    await visible(detail.getByRole('cell', { name: 'K003', exact: true }), 'contact K003 after the search');
    await shot(page, 'outbound-contacts.png');
  });

  await step('create a do-not-call list and add a number', async () => {
    const panel = await openTab(page, 'Do-not-call lists');
    await panel.getByLabel('Name', { exact: true }).fill(DNC);
    await panel.getByRole('button', { name: 'Create do-not-call list', exact: true }).click();
    const open = panel.getByRole('button', { name: DNC, exact: true });
    await visible(open, `list "${DNC}" in the table`);
    await open.click();
    const detail = panel.locator('section.detail');
    await visible(detail.getByRole('heading', { name: `Numbers of ${DNC}`, exact: true }), 'the numbers of the list');
    await detail.getByLabel('Phone numbers', { exact: true }).fill(DNC_NUMBER);
    await detail.getByRole('button', { name: 'Add numbers', exact: true }).click();
    await visible(detail.getByRole('cell', { name: DNC_NUMBER, exact: true }), `number ${DNC_NUMBER} in the list`);
  });

  let campaignId = '';
  await step('create a preview campaign on the list', async () => {
    const panel = await openTab(page, 'Campaigns');
    await panel.getByRole('button', { name: 'New campaign', exact: true }).click();
    const form = panel.locator('form.editor');
    await visible(form.getByRole('heading', { name: 'New campaign', exact: true }), 'the campaign form');
    await form.getByLabel('Name', { exact: true }).first().fill(CAMPAIGN);
    await form.getByLabel('Number', { exact: true }).first().fill(CAMPAIGN_NUMBER);
    await form.getByLabel('Direction', { exact: true }).selectOption('outbound');
    await form.getByLabel('Dialing mode', { exact: true }).selectOption('preview');
    check((await form.getByLabel('Power ratio', { exact: true }).count()) === 0, '"Power ratio" shown for preview');
    await form.getByLabel('Dialing mode', { exact: true }).selectOption('power');
    await visible(form.getByLabel('Power ratio', { exact: true }), '"Power ratio" for power');
    await form.getByLabel('Dialing mode', { exact: true }).selectOption('preview');
    const lists = form.getByRole('group', { name: 'Contact lists', exact: true });
    await visible(lists.getByRole('checkbox', { name: LIST, exact: true }), `checkbox "${LIST}"`);
    await lists.getByRole('checkbox', { name: LIST, exact: true }).check();
    const dncs = form.getByRole('group', { name: 'Do-not-call lists', exact: true });
    await visible(dncs.getByRole('checkbox', { name: DNC, exact: true }), `checkbox "${DNC}"`);
    await dncs.getByRole('checkbox', { name: DNC, exact: true }).check();
    await form.getByRole('button', { name: 'Add transfer number', exact: true }).click();
    const transfer = form.getByRole('group', { name: 'Transfer number 1', exact: true });
    await transfer.getByLabel('Name', { exact: true }).fill('Supervisión');
    await transfer.getByLabel('Number', { exact: true }).fill('+34911000000');
    const window1 = form.getByRole('group', { name: 'Window 1', exact: true });
    check(await window1.getByRole('checkbox', { name: 'Monday', exact: true }).isChecked(), 'window 1 does not include Monday');
    await window1.getByRole('checkbox', { name: 'Saturday', exact: true }).check();
    check(await form.getByLabel('Allow release without category', { exact: true }).isChecked(), '"Allow release without category" is not on by default');
    await shot(page, 'outbound-campaign-form.png');
    const created = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v2/outbound/campaigns');
    await form.getByRole('button', { name: 'Save campaign', exact: true }).click();
    const res = await created;
    const body = await res.json().catch(() => null);
    check(res.ok(), `creating the campaign: HTTP ${res.status()} ${JSON.stringify(body)}`);
    campaignId = body.id;
    check(body.dialingMode === 'preview' && body.contactListIds?.length === 1 && body.callingHours?.windows?.[0]?.days?.includes('sat'),
      `campaign as saved: ${JSON.stringify(body)}`);
    const row = panel.getByRole('row').filter({ has: page.getByRole('button', { name: `Details of ${CAMPAIGN}`, exact: true }) });
    await visible(row, `campaign "${CAMPAIGN}" in the table`);
    for (const text of [CAMPAIGN_NUMBER, 'Outbound', 'Preview', 'Off', LIST]) {
      await visible(row.getByRole('cell', { name: text, exact: true }), `"${text}" in the campaign row`);
    }
  });

  await step('campaign details: figures and agents', async () => {
    const panel = page.getByRole('tabpanel');
    await panel.getByRole('button', { name: `Details of ${CAMPAIGN}`, exact: true }).click();
    const detail = panel.locator('section.detail');
    await visible(detail.getByRole('heading', { name: `${CAMPAIGN_NUMBER} - ${CAMPAIGN}`, exact: true }), 'the campaign details');
    await visible(detail.locator('[data-testid=stats]'), 'the live figures (or "—")');
    // The campaign has not dialed: its 30-day abandonment record is empty,
    // read from the attempt history, against the default 3 % cap.
    await visible(detail.getByRole('heading', { name: 'Abandonment, last 30 days', exact: true }), 'the abandonment record heading');
    const window30 = detail.getByTestId('abandon-window');
    await visible(window30, 'the 30-day abandonment line');
    const line = await window30.textContent();
    if (!line.includes('0 of 0 live answers abandoned (0.00 %); cap 3 %')) throw new Error(`30-day abandonment line: ${line}`);
    await visible(detail.getByText('From the attempt history', { exact: false }), 'where the record comes from');
    await visible(detail.getByRole('heading', { name: 'Agents logged in', exact: true }), 'the agents heading');
    await detail.getByRole('button', { name: 'Close', exact: true }).click();
  });

  await step('a campaign without a list shows the server error', async () => {
    const panel = page.getByRole('tabpanel');
    await panel.getByRole('button', { name: 'New campaign', exact: true }).click();
    const form = panel.locator('form.editor');
    await form.getByLabel('Name', { exact: true }).first().fill('Sin lista');
    await form.getByLabel('Number', { exact: true }).first().fill('502');
    await form.getByRole('button', { name: 'Save campaign', exact: true }).click();
    const alert = form.getByRole('alert');
    await visible(alert, 'an error next to the campaign form');
    const text = (await alert.innerText()).trim();
    results.noListError = text;
    check(/list/i.test(text), `the error does not speak of the list: ${JSON.stringify(text)}`);
    check((await form.getByRole('group', { name: 'Contact lists', exact: true }).getAttribute('aria-invalid')) === 'true',
      'the contact lists are not marked invalid');
    await shot(page, 'outbound-campaign-error.png');
    await form.getByRole('button', { name: 'Cancel', exact: true }).click();
    check((await panel.getByRole('cell', { name: 'Sin lista', exact: true }).count()) === 0, 'the campaign without a list was listed');
  });

  // ---- agent1 logs into the campaign ----------------------------------------
  const agent = await newContext('agent1');
  const ap = agent.page;
  run.currentPage = ap;
  await step('agent1 signs in; outbound tabs', async () => {
    await login(ap, 'agent1', 'agent', 'agent');
    await visible(ap.getByRole('tab', { name: 'Callbacks', exact: true }), 'tab "Callbacks" for an agent');
    for (const name of ['Schemas', 'Contact lists', 'Do-not-call lists', 'Campaigns']) {
      check((await ap.getByRole('tab', { name, exact: true }).count()) === 0, `an agent sees tab "${name}"`);
    }
  });

  await step('station login 1001', async () => {
    const panel = ap.getByRole('tabpanel');
    await panel.getByLabel('Device', { exact: true }).fill('1001');
    await panel.getByLabel('Device password', { exact: true }).fill('device');
    await panel.getByRole('button', { name: 'Log in', exact: true }).click();
    await visible(panel.locator('[data-testid=device]').getByText('1001', { exact: true }), 'device 1001 shown as logged in');
  });

  await step('log into the campaign from the desk', async () => {
    const panel = ap.getByRole('tabpanel');
    const desk = panel.locator('section.desk');
    const select = desk.getByLabel('Campaign', { exact: true });
    await visible(select, 'select "Campaign"');
    const label = `${CAMPAIGN_NUMBER} - ${CAMPAIGN}`;
    await hasOption(ap, select, label, 'select "Campaign"');
    const current = desk.locator('[data-testid=outbound-campaign]');
    await visible(current.getByText('None', { exact: true }), 'no current campaign');
    await select.selectOption({ label });
    await desk.getByRole('button', { name: 'Log in to campaign', exact: true }).click();
    await visible(current.getByText(label, { exact: true }), `current campaign "${label}"`);
    check((await current.getAttribute('data-campaign')) === campaignId, 'the current campaign is not the one created');
    await visible(desk.getByRole('status').getByText('Logged into the campaign.', { exact: true }), 'status "Logged into the campaign."');
    await visible(desk.getByRole('button', { name: 'Log out of campaign', exact: true }), 'button "Log out of campaign"');
    await shot(ap, 'outbound-desk.png');
  });

  await step('the campaign lists agent1 (admin)', async () => {
    run.currentPage = page;
    const panel = page.getByRole('tabpanel');
    await panel.getByRole('button', { name: `Details of ${CAMPAIGN}`, exact: true }).click();
    const detail = panel.locator('section.detail');
    await visible(detail.getByRole('cell', { name: 'Lucía Martín (agent1)', exact: true }), 'agent1 among the campaign\'s agents');
    run.currentPage = ap;
  });

  await step('work the demo preview campaign: dial, categorize, ready', async () => {
    const panel = ap.getByRole('tabpanel');
    const desk = panel.locator('section.desk');
    await panel.getByRole('button', { name: 'On queue', exact: true }).click();
    await desk.getByRole('button', { name: 'Log out of campaign', exact: true }).click();
    await visible(desk.locator('[data-testid=outbound-campaign]').getByText('None', { exact: true }), 'no current campaign');
    await desk.getByLabel('Campaign', { exact: true }).selectOption({ label: '98 - Preview Cobranzas' });
    await desk.getByRole('button', { name: 'Log in to campaign', exact: true }).click();
    const dial = desk.getByRole('button', { name: 'Dial', exact: true });
    await visible(dial, 'the record offered for preview ("Dial")');
    await visible(desk.getByRole('button', { name: 'Skip', exact: true }), '"Skip" next to "Dial"');
    await shot(ap, 'outbound-preview.png');
    await dial.click();
    // The customer answers after 1 s and hangs up 3 s later: the contact
    // then waits to be released.
    const categorize = desk.getByRole('button', { name: 'Categorize', exact: true });
    await visible(categorize, 'the release form after the call');
    await desk.getByLabel('Category', { exact: true }).selectOption({ label: 'Venta' });
    await desk.getByLabel('Subcategory', { exact: true }).selectOption({ label: 'Cerrada' });
    await shot(ap, 'outbound-release.png');
    await categorize.click();
    const ready = desk.getByRole('button', { name: 'Ready', exact: true });
    await visible(ready, '"Ready" after releasing the contact');
    await ready.click();
    await visible(desk.getByRole('button', { name: 'Dial', exact: true }), 'the next record after "Ready"');
  });

  await step('desk in Spanish, then log out of the campaign', async () => {
    const panel = ap.getByRole('tabpanel');
    const desk = panel.locator('section.desk');
    await ap.getByRole('combobox', { name: 'Language' }).selectOption('es');
    await visible(desk.getByLabel('Campaña', { exact: true }), 'select "Campaña"');
    await desk.getByRole('button', { name: 'Salir de la campaña', exact: true }).click();
    await visible(desk.locator('[data-testid=outbound-campaign]').getByText('Ninguna', { exact: true }), 'no current campaign after logging out');
    await ap.getByRole('combobox', { name: 'Idioma' }).selectOption('en');
    await visible(desk.getByLabel('Campaign', { exact: true }), 'select "Campaign" again');
  });

  await run.finish();
}

run.main(main);
