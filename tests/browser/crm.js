#!/usr/bin/env node
// Headless-browser end-to-end check of the console's CRM call centers.
//
//   CENTRALITA_URL=http://127.0.0.1:8080 SCREENSHOT_DIR=/tmp/shots node crm.js
//
// The admin opens Call centers and sees the demo's "Demo"; creates a call
// center from seed 002's XML (internal/crm/testdata/seed002.xml) and sees it
// listed with its external data; tries a bad XML (allowCategorization
// "maybe") and sees the server's error naming the section and item; exports
// the XML and sees reqAdapterUrl pointing at <server>/softphone/; edits the
// call center (a bad softphone height first: the error and the marked
// field; then priority Contact › Account); and previews a screen pop for
// SearchBy=phoneNumber, SearchData=+34911234567 with a Contact and an
// Account found: the decision opens the Contact. Prints one JSON line; on
// the first failure a JSON line with ok=false, and exits 1. Run by
// internal/web/browser_test.go (TestBrowserCRM).
'use strict';

const fs = require('fs');
const path = require('path');
const { STEP_TIMEOUT, BASE, CheckError, check, firstLine, isLoginPage, isConsole, visible, waitURL, createRun } = require('./lib');

const run = createRun({ name: 'crm.js', failureShot: 'crm-failure.png' });
const { step, shot } = run;

const SEED = fs.readFileSync(path.join(__dirname, '..', '..', 'internal', 'crm', 'testdata', 'seed002.xml'), 'utf8');
const BAD = SEED.replace(/(name="allowCategorization"[^>]*>)true<\/item>/, '$1maybe</item>');
const NAME = 'Seed 002';
const EXTERNAL = 'neoContactId__c-contactId|neoBaseId__c-contactBaseId|neoCrmId__c-crmId';

const expectedPatterns = [
  /^400 POST \/api\/v2\/crm\/callcenters\/import$/, // the bad XML
  /^400 PUT \/api\/v2\/crm\/callcenters\/[^/]+$/, // the bad softphone height
];
const expectedErrors = { has: (what) => expectedPatterns.some((p) => p.test(what)) };

async function waitFor(page, fn, arg, what) {
  try {
    await page.waitForFunction(fn, arg, { timeout: STEP_TIMEOUT });
  } catch (err) {
    throw new CheckError(`${what} (${firstLine(err)})`);
  }
}

async function main() {
  run.preflight();
  check(BAD !== SEED, 'seed002.xml has no allowCategorization item with true');
  await step('launch', async () => {
    await run.launch();
  });
  const { page } = await run.newPage({
    locale: 'en-US',
    viewport: { width: 1280, height: 1000 },
    label: 'admin',
    expectedErrors,
    ignoreConsole: /^Failed to load resource: the server responded with a status of/,
  });
  run.currentPage = page;
  const panel = page.getByRole('tabpanel');

  await step('admin signs in and opens Call centers', async () => {
    await page.goto(`${BASE}/ui/#users`);
    await waitURL(page, isLoginPage, 'the login page /oauth/authorize');
    await page.getByLabel('User', { exact: true }).fill('admin');
    await page.getByLabel('Password', { exact: true }).fill('admin');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await waitURL(page, isConsole, 'the console /ui/');
    const tab = page.getByRole('tab', { name: 'Call centers', exact: true });
    await visible(tab, 'tab "Call centers"');
    await tab.click();
    await visible(panel.getByRole('heading', { name: 'Call centers', exact: true, level: 2 }), 'heading "Call centers"');
    await visible(panel.getByRole('cell', { name: 'Demo', exact: true }), 'the demo call center "Demo"');
  });

  await step('create a call center from seed 002 XML', async () => {
    await panel.getByRole('button', { name: 'New from XML', exact: true }).click();
    const form = panel.getByRole('form', { name: 'New from XML', exact: true });
    await visible(form, 'the New from XML form');
    await form.getByLabel('Call center name', { exact: true }).fill(NAME);
    await form.getByLabel('XML text', { exact: true }).fill(SEED);
    await form.getByRole('button', { name: 'Import XML', exact: true }).click();
    await visible(panel.getByRole('status').filter({ hasText: 'Call center imported.' }), 'the "Call center imported." status');
    const row = panel.getByRole('row').filter({ has: page.getByRole('cell', { name: NAME, exact: true }) });
    await visible(row, `row "${NAME}"`);
    const text = await row.innerText();
    check(text.includes(EXTERNAL), `row "${NAME}" does not show its external data: ${text}`);
    check(text.includes('Salesforce') && text.includes('Neotel CTI'), `row "${NAME}" lacks connector or display name: ${text}`);
  });

  await step('a bad XML shows the error naming the item', async () => {
    await panel.getByRole('button', { name: 'New from XML', exact: true }).click();
    const form = panel.getByRole('form', { name: 'New from XML', exact: true });
    await form.getByLabel('Call center name', { exact: true }).fill('Bad XML');
    await form.getByLabel('XML text', { exact: true }).fill(BAD);
    await form.getByRole('button', { name: 'Import XML', exact: true }).click();
    const alert = form.getByRole('alert');
    await visible(alert, 'the import error');
    const text = await alert.innerText();
    check(/neotelConfigOptions/.test(text) && /allowCategorization/.test(text) && /maybe/.test(text),
      `the error does not name section and item: ${text}`);
    check((await form.getByLabel('XML text', { exact: true }).getAttribute('aria-invalid')) === 'true', 'the XML text is not marked invalid');
    await form.getByRole('button', { name: 'Cancel', exact: true }).click();
    check((await panel.getByRole('cell', { name: 'Bad XML', exact: true }).count()) === 0, 'the bad XML created a call center');
  });

  await step('export the XML', async () => {
    await panel.getByRole('button', { name: `XML of ${NAME}`, exact: true }).click();
    const region = panel.getByRole('region', { name: `XML definition of ${NAME}`, exact: true });
    await visible(region, 'the XML panel');
    await region.getByRole('button', { name: 'Export XML', exact: true }).click();
    const area = region.getByLabel('Exported XML', { exact: true });
    await visible(area, 'the exported XML');
    const xml = await area.inputValue();
    const m = /name="reqAdapterUrl"[^>]*>([^<]*)</.exec(xml);
    check(m, `no reqAdapterUrl in the export: ${xml.slice(0, 300)}`);
    check(m[1] === `${BASE}/softphone/`, `reqAdapterUrl is ${m[1]}, want ${BASE}/softphone/`);
    check(xml.includes(EXTERNAL), 'the export lacks the external data');
    await visible(region.getByRole('button', { name: 'Download XML', exact: true }), 'the Download XML button');
    await region.getByRole('button', { name: 'Close', exact: true }).click();
  });

  await step('edit: a bad height is marked, then priority Contact › Account', async () => {
    await panel.getByRole('button', { name: `Edit ${NAME}`, exact: true }).click();
    const form = panel.getByRole('form', { name: `Edit call center ${NAME}`, exact: true });
    await visible(form, 'the call center form');
    const ext = await form.getByLabel('External data', { exact: true }).inputValue();
    check(ext === EXTERNAL, `external data is ${ext}`);
    const height = form.getByLabel('Softphone height (px)', { exact: true });
    await height.fill('10');
    // Skip the browser's own min check so the server's answer is shown.
    await form.evaluate((f) => { f.noValidate = true; });
    await form.getByRole('button', { name: 'Save call center', exact: true }).click();
    const alert = form.getByRole('alert');
    await visible(alert, 'the save error');
    check(/softphoneHeight/.test(await alert.innerText()), `the error does not name softphoneHeight: ${await alert.innerText()}`);
    check((await height.getAttribute('aria-invalid')) === 'true', 'the height is not marked invalid');
    await height.fill('420');
    await form.getByLabel('Contact', { exact: true }).check();
    await form.getByLabel('Account', { exact: true }).check();
    // Lead moves up above Account and back: the order buttons work.
    await form.getByRole('button', { name: 'Move Lead up', exact: true }).click();
    await form.getByRole('button', { name: 'Move Lead down', exact: true }).click();
    await visible(form.getByText('Priority: Contact › Account', { exact: true }), 'the priority summary');
    await shot(page, 'crm-form.png');
    await form.getByRole('button', { name: 'Save call center', exact: true }).click();
    await visible(panel.getByRole('status').filter({ hasText: 'Saved.' }), 'the "Saved." status');
    const row = panel.getByRole('row').filter({ has: page.getByRole('cell', { name: NAME, exact: true }) });
    await visible(row.getByRole('cell', { name: 'Contact › Account', exact: true }), 'the new priority in the list');
  });

  await step('preview a screen pop', async () => {
    const tool = panel.getByRole('region', { name: 'Screen-pop preview', exact: true });
    await visible(tool, 'the preview tool');
    await tool.getByLabel('Call center', { exact: true }).selectOption({ label: NAME });
    await tool.getByLabel('Value of SearchBy', { exact: true }).fill('phoneNumber');
    await tool.getByLabel('Value of SearchData', { exact: true }).fill('+34911234567');
    await tool.getByLabel('Decide with these search results', { exact: true }).check();
    await tool.getByLabel('Match 1 type', { exact: true }).selectOption('Contact');
    await tool.getByLabel('Match 1 ID', { exact: true }).fill('003A');
    await tool.getByLabel('Match 1 name', { exact: true }).fill('Ana');
    await tool.getByRole('button', { name: 'Add match', exact: true }).click();
    await tool.getByLabel('Match 2 type', { exact: true }).selectOption('Account');
    await tool.getByLabel('Match 2 ID', { exact: true }).fill('001B');
    await tool.getByLabel('Match 2 name', { exact: true }).fill('ACME');
    await tool.getByRole('button', { name: 'Preview', exact: true }).click();
    const verdict = tool.locator('.decision .verdict');
    await visible(verdict, 'the decision');
    const v = await verdict.innerText();
    check(v === 'Open Contact 003A', `the decision is "${v}", want "Open Contact 003A"`);
    const plan = await tool.locator('dl.plan').innerText();
    check(plan.includes('Phone fields equal to +34911234567'), `the plan does not search the phone: ${plan}`);
    check(plan.includes('Contact › Account'), `the plan lacks the priority: ${plan}`);
    await shot(page, 'crm-preview.png');
  });

  await step('the page in Spanish', async () => {
    await page.getByRole('combobox', { name: 'Language' }).selectOption('es');
    await visible(page.getByRole('tab', { name: 'Centros de llamadas', exact: true }), 'tab "Centros de llamadas"');
    await visible(panel.getByRole('heading', { name: 'Vista previa del screen pop', exact: true }), 'the Spanish preview heading');
    await visible(panel.locator('.decision .verdict').filter({ hasText: 'Abrir Contacto 003A' }), 'the Spanish decision');
    await visible(panel.getByRole('button', { name: 'Nuevo desde XML', exact: true }), 'the Spanish "Nuevo desde XML"');
  });

  await run.finish();
}

run.main(main);
