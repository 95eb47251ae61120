#!/usr/bin/env node
// Headless-browser check of the softphone's call-center flows (the second
// half of the softphone's checks; softphone.js has sign-in, the screen pop,
// DTMF, reload, attended transfer, conference, messages and Open CTI):
//
//   CENTRALITA_URL=http://127.0.0.1:8080 SCREENSHOT_DIR=/tmp/shots node softphone-flows.js
//
// Against a fresh demo whose external numbers answer after 1 s and talk a
// few seconds (internal/web: TestBrowserSoftphoneFlows). agent1 signs in,
// logs into device 1001 and goes On queue; Ventas asks for a mandatory
// wrap-up. Each direct transfer kind: to a number, to a queue (Soporte), to
// a user (agent2, device 1002), each followed by the wrap-up (categorize
// and release the call). An unknown caller gets a new-record pop; once the
// record is saved (API) Sync links the call to it. A call is answered and a supervisor (device 1003,
// another browser) listens, whispers and ends monitoring from their
// softphone; agent1 hangs up and wraps up. Then every break state, a custom one created for the
// test included, and back On queue. Then the predictive campaign: log in,
// Ready, a predictive call connects, the customer hangs up, a callback is
// scheduled with the date/time picker, the contact is categorized and
// released, log out of the campaign. With the call center's text
// messages turned off, sending one shows why. CENTRALITA_SCREENSHOTS=1 writes the
// documentation screenshots (docs/img/softphone-*.png) too.
// Prints one JSON line (ok=false and exit 1 on the first failure).
'use strict';

const path = require('path');
const { STEP_TIMEOUT, BASE, CheckError, check, firstLine, isLoginPage, visible, waitURL, createRun } = require('./lib');

const CLIENT = { id: 'demo-client', secret: 'demo-secret' };
const CALLER = '+34919000005'; // a demo contact's number
const NUMBER = '+34611222444'; // an external number (answers after 1 s)
const CUSTOM_BREAK = 'Pausa activa';

const run = createRun({ name: 'softphone-flows.js', failureShot: 'softphone-flows-failure.png', results: {}, stepLimit: true });
const { results, step, shot } = run;

const DOCS = process.env.CENTRALITA_SCREENSHOTS === '1' ? path.join(__dirname, '..', '..', 'docs', 'img') : '';
async function docShot(target, name) {
  if (!DOCS) return;
  const file = path.join(DOCS, `softphone-${name}.png`);
  // A page is shot from its top; an element as it is.
  if (typeof target.goto === 'function') await target.evaluate(() => window.scrollTo(0, 0));
  await target.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
  results.screenshots.push(file);
}

const expectedPatterns = [
  /^(404|409) GET \/api\/v2\/outbound\/me$/,
  /^404 GET \/api\/v2\/users\/me\/outboundcampaign$/,
  /^404 GET \/api\/v2\/crm\/conversations\/[^/]+\/screenpop$/,
  /^404 GET \/api\/v2\/conversations\/calls\/[^/]+$/,
  /^403 POST \/api\/v2\/conversations\/messages\/agentless$/, // the call center without text messages
];
const expectedErrors = { has: (what) => expectedPatterns.some((p) => p.test(what)) };

async function attr(locator, name, want, what, timeout = STEP_TIMEOUT) {
  const deadline = Date.now() + timeout;
  let got;
  for (;;) {
    got = await locator.first().getAttribute(name, { timeout }).catch(() => undefined);
    if (typeof want === 'function' ? want(got) : got === want) return got;
    if (Date.now() > deadline) throw new CheckError(`${what}: ${name}=${JSON.stringify(got)}, want ${typeof want === 'function' ? 'a match' : JSON.stringify(want)} within ${timeout / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function gone(locator, what, timeout = STEP_TIMEOUT) {
  try {
    await locator.first().waitFor({ state: 'detached', timeout });
  } catch (err) {
    throw new CheckError(`${what} still there after ${timeout / 1000} s (${firstLine(err)})`);
  }
}

let clientToken = null;
async function rest(method, p, body) {
  if (!clientToken) {
    const res = await fetch(`${BASE}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: 'Basic ' + Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64') },
      body: 'grant_type=client_credentials',
      signal: AbortSignal.timeout(STEP_TIMEOUT),
    });
    check(res.ok, `client-credentials token: HTTP ${res.status}`);
    clientToken = (await res.json()).access_token;
  }
  const res = await fetch(BASE + p, {
    method,
    headers: { Authorization: 'Bearer ' + clientToken, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(STEP_TIMEOUT),
  });
  const text = await res.text();
  check(res.ok, `${method} ${p}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

const findByName = async (p, name) => {
  const r = await rest('GET', `${p}?pageSize=500`);
  const x = (r.entities || []).find((e) => e.name === name);
  check(x, `${name} not found in ${p}`);
  return x;
};

// signIn opens /softphone/ as a demo user and logs into a device.
async function signIn(page, user, password, device) {
  await page.goto(`${BASE}/softphone/`);
  await waitURL(page, isLoginPage, 'the login page /oauth/authorize');
  await page.getByLabel('User', { exact: true }).fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await waitURL(page, (u) => u.pathname === '/softphone/' && u.search === '', 'the softphone /softphone/');
  await attr(page.locator('[data-live]'), 'data-live', 'open', 'live updates (WebSocket)');
  await page.getByLabel('Device', { exact: true }).fill(device);
  await page.getByLabel('Password', { exact: true }).fill('device');
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await visible(page.locator('[data-testid=device]').getByText(device, { exact: true }), `device ${device}`);
}

async function main() {
  run.preflight();
  const ids = {};

  await step('set up (API): Ventas with a mandatory wrap-up, agent2 on device 1002, a custom break', async () => {
    const q = await findByName('/api/v2/routing/queues', 'Ventas');
    ids.ventas = q.id;
    ids.soporte = (await findByName('/api/v2/routing/queues', 'Soporte')).id;
    await rest('PUT', `/api/v2/routing/queues/${q.id}`, {
      name: q.name, description: q.description, routingStrategy: q.routingStrategy, skillEvaluationMethod: q.skillEvaluationMethod,
      mediaSettings: { call: { ...q.mediaSettings.call, alertingTimeoutSeconds: 60 } },
      acwSettings: { wrapupPrompt: 'MANDATORY' },
    });
    const users = await rest('GET', '/api/v2/users?pageSize=100');
    ids.agent2 = users.entities.find((u) => u.username === 'agent2').id;
    await rest('POST', `/api/v2/users/${ids.agent2}/station`, { stationName: '1002', password: 'device' });
    await rest('POST', '/api/v2/presencedefinitions', { breakNumber: 9, label: CUSTOM_BREAK });
  });

  await step('launch', async () => { await run.launch(); });

  const { page } = await run.newPage({ locale: 'en-US', viewport: { width: 420, height: 620 }, label: 'agent1', expectedErrors, consoleTypes: ['error'] });
  run.currentPage = page;
  const routing = page.locator('[data-testid=routing-status]');
  const call = page.locator('article.sp-call');

  await step('agent1: sign in, device 1001, On queue', async () => {
    await signIn(page, 'agent1', 'agent', '1001');
    await page.getByRole('button', { name: 'On queue', exact: true }).click();
    await attr(routing, 'data-status', 'IDLE', 'routing status');
  });

  const answerNext = async (what) => {
    await rest('POST', '/api/v2/simulation/calls', { to: 'Ventas', from: CALLER });
    await attr(call, 'data-state', 'alerting', what);
    await call.getByRole('button', { name: 'Answer', exact: true }).click();
    await attr(call, 'data-state', 'connected', `${what} after Answer`);
    return call.getAttribute('data-conversation');
  };
  // wrapUp picks the first wrap-up code and releases the call.
  const wrapUp = async (what, docName) => {
    await attr(call, 'data-state', 'wrapup', `the wrap-up after ${what}`);
    const select = call.getByLabel('Wrap-up code', { exact: true });
    await page.waitForFunction(() => document.querySelectorAll('#sp-wrapup option').length > 1, null, { timeout: STEP_TIMEOUT })
      .catch(() => { throw new CheckError('no wrap-up codes offered'); });
    await select.selectOption({ index: 1 });
    check(!(await call.getByRole('button', { name: 'Skip', exact: true }).count()), 'Skip offered on a mandatory wrap-up');
    if (docName) await docShot(page, docName);
    await call.getByRole('button', { name: 'Done', exact: true }).click();
    await gone(call, `the call after its wrap-up (${what})`);
  };

  await step('direct transfer to a number; wrap-up', async () => {
    ids.numberCall = await answerNext('the call for the number transfer');
    await call.getByRole('button', { name: 'Transfer', exact: true }).click();
    await call.getByLabel('Target', { exact: true }).fill(NUMBER);
    await call.getByRole('button', { name: 'Direct transfer', exact: true }).click();
    await wrapUp('the transfer to a number', 'wrapup');
    const c = await rest('GET', `/api/v2/conversations/calls/${ids.numberCall}`);
    check((c.participants || []).some((p) => String(p.address || '').endsWith(NUMBER)), `the call was not transferred to ${NUMBER}`);
  });

  await step('direct transfer to a queue (Soporte); wrap-up', async () => {
    const id = await answerNext('the call for the queue transfer');
    await call.getByRole('button', { name: 'Transfer', exact: true }).click();
    await call.getByLabel('Transfer to', { exact: true }).selectOption('queue');
    await page.waitForFunction(() => document.querySelectorAll('#sp-transfer-target option').length > 1, null, { timeout: STEP_TIMEOUT });
    await call.getByLabel('Target', { exact: true }).selectOption({ label: 'Soporte' });
    await call.getByRole('button', { name: 'Direct transfer', exact: true }).click();
    await wrapUp('the transfer to a queue');
    const c = await rest('GET', `/api/v2/conversations/calls/${id}`);
    check(JSON.stringify(c.participants || []).includes(ids.soporte), 'the call did not reach Soporte');
    await rest('POST', `/api/v2/conversations/${id}/disconnect`);
  });

  await step('direct transfer to a user (agent2); wrap-up', async () => {
    const id = await answerNext('the call for the user transfer');
    await call.getByRole('button', { name: 'Transfer', exact: true }).click();
    await call.getByLabel('Transfer to', { exact: true }).selectOption('agent');
    await page.waitForFunction(() => document.querySelectorAll('#sp-transfer-target option').length > 1, null, { timeout: STEP_TIMEOUT });
    const label = (await call.locator('#sp-transfer-target option').allInnerTexts()).find((x) => x.endsWith('(agent2)'));
    check(label, 'agent2 not offered as a transfer target');
    await call.getByLabel('Target', { exact: true }).selectOption({ label });
    await call.getByRole('button', { name: 'Direct transfer', exact: true }).click();
    await wrapUp('the transfer to a user');
    const c = await rest('GET', `/api/v2/conversations/calls/${id}`);
    check((c.participants || []).some((p) => p.user?.id === ids.agent2), 'the call did not reach agent2');
    await rest('POST', `/api/v2/conversations/${id}/disconnect`);
  });

  await step('an unknown caller: new-record pop; the record is saved; Sync links it', async () => {
    const unknown = '+34955123457'; // no demo contact has it
    await rest('POST', '/api/v2/simulation/calls', { to: 'Ventas', from: unknown });
    await attr(call, 'data-state', 'alerting', 'the unknown caller');
    await call.getByRole('button', { name: 'Answer', exact: true }).click();
    await attr(call, 'data-state', 'connected', 'the unknown caller after Answer');
    const id = await call.getAttribute('data-conversation');
    await attr(page.locator('.sp-pop'), 'data-kind', 'new', 'the new-record screen pop');
    const pop = await rest('GET', `/api/v2/crm/conversations/${id}/screenpop`);
    check(pop.syncId, `the pop has no syncId: ${JSON.stringify(pop).slice(0, 300)}`);
    // The agent saves the new-record form: the built-in CRM keys it by the neoSyncId.
    const lists = await rest('GET', `/api/v2/outbound/contactlists?name=${encodeURIComponent('Base Demo')}`);
    const list = lists.entities.find((l) => l.name === 'Base Demo');
    await rest('POST', `/api/v2/outbound/contactlists/${list.id}/contacts`, { key: pop.syncId, data: { firstName: 'Nueva', lastName: 'Clienta' }, phones: { phone: unknown } });
    await page.getByRole('button', { name: 'Sync', exact: true }).click();
    await visible(page.locator('[data-testid=synced-record]').getByText(/Nueva Clienta/), 'the synced record');
    const c = await rest('GET', `/api/v2/conversations/calls/${id}`);
    check((c.participants || []).some((p) => p.attributes?.crmRecordId), 'the call is not linked to the synced record');
    await call.getByRole('button', { name: 'Hang up', exact: true }).click();
    await wrapUp('the synced call');
  });

  await step('a call; the supervisor listens, whispers and ends monitoring', async () => {
    ids.monitored = await answerNext('the monitored call');
    const { page: sp, context: sctx } = await run.newPage({ locale: 'en-US', viewport: { width: 420, height: 620 }, label: 'supervisor', expectedErrors, consoleTypes: ['error'] });
    run.currentPage = sp;
    try {
      await signIn(sp, 'supervisor', 'supervisor', '1003');
      await sp.getByRole('button', { name: 'Monitor', exact: true }).click();
      const row = sp.getByRole('group', { name: 'Lucía Martín', exact: true });
      await visible(row, 'agent1 among the agents on calls');
      const monitoring = sp.locator('[data-testid=monitoring]');
      await row.getByRole('button', { name: 'Listen', exact: true }).click();
      await attr(monitoring, 'data-mode', 'listen', 'monitoring');
      const c1 = await rest('GET', `/api/v2/conversations/calls/${ids.monitored}`);
      check((c1.participants || []).some((p) => p.purpose === 'monitor' && ['alerting', 'connected'].includes(p.state)), 'no monitor participant on the server');
      await docShot(sp.locator('section.sp-monitor'), 'monitor');
      await sp.getByRole('button', { name: 'End monitoring', exact: true }).click();
      await gone(monitoring, 'the monitoring bar after End monitoring');
      await row.getByRole('button', { name: 'Whisper', exact: true }).click();
      await attr(monitoring, 'data-mode', 'whisper', 'coaching');
      await sp.getByRole('button', { name: 'End monitoring', exact: true }).click();
      await gone(monitoring, 'the monitoring bar after the whisper');
      const c2 = await rest('GET', `/api/v2/conversations/calls/${ids.monitored}`);
      check(!(c2.participants || []).some((p) => p.purpose === 'monitor' && ['alerting', 'connected'].includes(p.state)), 'a monitor is still on the call');
    } finally {
      run.currentPage = page;
      await sctx.close();
    }
    await call.getByRole('button', { name: 'Hang up', exact: true }).click();
    await wrapUp('the monitored call');
  });

  await step('every break state, a custom one included; back On queue', async () => {
    const select = page.getByLabel('Break', { exact: true });
    const labels = (await select.locator('option').allInnerTexts()).slice(1);
    results.breakOptions = labels;
    check(labels.some((l) => l.includes(CUSTOM_BREAK)), `the custom break "${CUSTOM_BREAK}" is not offered: ${JSON.stringify(labels)}`);
    for (const label of labels) {
      await select.selectOption({ label });
      await page.waitForFunction((l) => {
        const s = document.getElementById('sp-break');
        return s && s.selectedOptions[0]?.textContent === l && !s.disabled;
      }, label, { timeout: STEP_TIMEOUT }).catch(() => { throw new CheckError(`the presence did not become "${label}"`); });
      await attr(routing, 'data-status', 'OFF_QUEUE', `routing status on "${label}"`);
    }
    await page.getByRole('button', { name: 'On queue', exact: true }).click();
    await attr(routing, 'data-status', 'IDLE', 'routing status back On queue');
  });

  const desk = page.locator('section.desk');
  await step('log into the predictive campaign; Ready', async () => {
    const select = desk.getByLabel('Campaign', { exact: true });
    const label = (await select.locator('option').allInnerTexts()).find((x) => x.includes('SALESFORCE'));
    check(label, 'the predictive campaign SALESFORCE is not offered');
    await select.selectOption({ label });
    await desk.getByRole('button', { name: 'Log in to campaign', exact: true }).click();
    await attr(desk.locator('[data-testid=outbound-campaign]'), 'data-campaign', (v) => !!v, 'the current campaign');
    const ready = desk.getByRole('button', { name: 'Ready', exact: true });
    if (await ready.count()) await ready.click();
    await docShot(desk, 'campaign');
  });

  await step('a predictive call connects; the customer hangs up', async () => {
    await attr(call, 'data-state', 'connected', 'the predictive call', STEP_TIMEOUT);
    ids.predictive = await call.getAttribute('data-conversation');
    const c = await rest('GET', `/api/v2/conversations/calls/${ids.predictive}`);
    const data = Object.assign({}, ...(c.participants || []).map((p) => p.attributes || {}));
    check(data.callDialer || data.campaignId || data.contactId, `the call carries no campaign data: ${JSON.stringify(data)}`);
    results.predictiveContact = data.contactId;
    await visible(desk.getByRole('button', { name: 'Categorize', exact: true }), 'the release form after the call', STEP_TIMEOUT);
  });

  await step('schedule a callback (date/time picker), categorize and release', async () => {
    const when = new Date(Date.now() + 24 * 3600 * 1000);
    const pad = (n) => String(n).padStart(2, '0');
    const local = `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}T10:30`;
    await desk.getByLabel('Callback time', { exact: true }).fill(local);
    await desk.getByRole('button', { name: 'Schedule', exact: true }).click();
    await visible(desk.getByText(/Callback scheduled for/), 'the callback confirmation');
    const cbs = await rest('GET', '/api/v2/outbound/callbacks?pageSize=100');
    check((cbs.entities || []).some((cb) => !results.predictiveContact || cb.contactId === results.predictiveContact || cb.contact?.id === results.predictiveContact),
      `no callback for the contact on the server: ${JSON.stringify(cbs).slice(0, 300)}`);
    await desk.getByLabel('Category', { exact: true }).selectOption({ label: 'Venta' });
    await desk.getByLabel('Subcategory', { exact: true }).selectOption({ label: 'Volver a llamar' });
    await docShot(desk, 'categorize');
    await desk.getByRole('button', { name: 'Categorize', exact: true }).click();
    await gone(desk.getByRole('button', { name: 'Categorize', exact: true }), 'the release form after Categorize');
  });

  await step('log out of the campaign', async () => {
    await desk.getByRole('button', { name: 'Log out of campaign', exact: true }).click();
    await visible(desk.locator('[data-testid=outbound-campaign]').getByText('None', { exact: true }), 'no current campaign');
  });

  await step('a call center without text messages: the reason is shown', async () => {
    const cc = (await rest('GET', '/api/v2/crm/callcenters')).entities[0];
    await rest('PUT', `/api/v2/crm/callcenters/${cc.id}`, { ...cc, allowTextMessage: false });
    await page.getByRole('button', { name: 'Message', exact: true }).click();
    const form = page.getByRole('form', { name: 'Message', exact: true });
    await form.getByLabel('To', { exact: true }).fill('+34911234567');
    await form.getByLabel('Text', { exact: true }).fill('hola');
    await form.getByRole('button', { name: 'Send message', exact: true }).click();
    await visible(form.getByRole('alert').getByText('This call center does not allow text messages.'), 'the reason the message was refused');
    await page.getByRole('button', { name: 'Message', exact: true }).click();
  });

  await step('Spanish: the softphone\'s own texts', async () => {
    await page.getByRole('combobox', { name: 'Language' }).selectOption('es');
    await page.getByRole('button', { name: 'Mensaje', exact: true }).click();
    await visible(page.getByRole('button', { name: 'Enviar mensaje', exact: true }), 'button "Enviar mensaje"');
    await visible(page.getByLabel('Canal', { exact: true }), 'select "Canal"');
    await page.getByRole('combobox', { name: 'Idioma' }).selectOption('en');
  });

  await run.finish();
}

run.main(main);
