#!/usr/bin/env node
// Headless-browser end-to-end check of the agent softphone (/softphone/):
//
//   CENTRALITA_URL=http://127.0.0.1:8080 SCREENSHOT_DIR=/tmp/shots node softphone.js
//
// Against a fresh demo (internal/app/apptest: no simulated traffic, no
// auto-answering demo agents). agent1 opens /softphone/, signs in through
// the login page (same window: the page is top-level), logs into device
// 1001, goes On queue; the script (the demo's client-credentials client)
// makes a demo contact's number call Ventas; agent1 answers, sees the
// caller and the screen pop with the contact found, sends DTMF, reloads the
// page mid-call, still has the call and hangs up; the information panel
// shows call id 0; then agent1 takes a break. Then an Open CTI host: a
// second local origin (a tiny HTTP server here) serves a page that frames
// /softphone/?sfdcIframeOrigin=… and a stand-in opencti_min.js recording
// every call; agent1 signs in through the popup, and the next call's
// screen pop reaches Salesforce as screenPop(SOBJECT, the contact's id);
// the agent opens another record (onNavigationChange) and the server links
// the call to it; the call center logs from the browser, so the wrap-up
// ends in saveLog with the server's Task fields for that record; and a
// click-to-dial from the host places a call carrying the record; an unknown
// caller pops a new-record form (NEW_RECORD_MODAL with the defaults) and,
// with auto-minimize on, hides the panel; and a session ended on the
// server makes the framed softphone ask to sign in again, saying why.
// During the first call agent1 also sends an SMS to the caller, which the
// demo's built-in receiver (/demo/messages) gets with a valid signature.
//
// CENTRALITA_SCREENSHOTS=1 also writes the documentation screenshots
// (docs/img/softphone-*.png, 420×620) from the same run.
// Prints one JSON line (ok=false and exit 1 on the first failure).
'use strict';

const http = require('http');
const path = require('path');
const { STEP_TIMEOUT, BASE, CheckError, check, firstLine, isLoginPage, visible, waitURL, createRun } = require('./lib');

const CLIENT = { id: 'demo-client', secret: 'demo-secret' };
const CALLER = '+34919000005'; // a demo contact's number
const CONSULT_NUMBER = '+34611222333'; // not a demo contact: the demo answers it after 3 s

const run = createRun({ name: 'softphone.js', failureShot: 'softphone-failure.png', results: {}, stepLimit: true });
const { results, step, shot } = run;

// docShot writes a documentation screenshot (the visible 420×620 page or
// an element) into docs/img when CENTRALITA_SCREENSHOTS=1.
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
  /^404 GET \/favicon\.ico$/, // the stand-in Salesforce host has none
  /^404 GET \/api\/v2\/crm\/conversations\/[^/]+\/screenpop$/, // before the pop is made; the event brings it
  /^404 GET \/api\/v2\/conversations\/calls\/[^/]+$/, // a call read after it was cleaned up
];
// Once the test ends the framed session on purpose, its refusals are expected.
let sessionEnded = false;
const endedPatterns = [/^401 [A-Z]+ \/api\/v2\//, /^40[01] POST \/oauth\/token$/];
const expectedErrors = { has: (what) => expectedPatterns.some((p) => p.test(what)) || (sessionEnded && endedPatterns.some((p) => p.test(what))) };

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

// The Open CTI host: a page framing the softphone like Salesforce does, and
// a stand-in opencti_min.js that records the calls made to it.
const OPENCTI_STUB = `
window.__opencti = [];
(function () {
  function rec(name) {
    return function (args) {
      var copy = {};
      for (var k in (args || {})) if (typeof args[k] !== 'function') copy[k] = args[k];
      window.parent.postMessage({ openctiCall: name, args: copy }, '*');
      var value = name === 'getCallCenterSettings'
        ? { '/reqGeneralInfo/reqSoftphoneWidth': '320', '/reqGeneralInfo/reqSoftphoneHeight': '540' } : null;
      if (args && args.callback) setTimeout(function () { args.callback({ success: true, returnValue: value }); }, 0);
      if (name === 'onClickToDial') window.__clickToDial = args.listener;
      if (name === 'onNavigationChange') window.__navigate = args.listener;
    };
  }
  window.sforce = { opencti: { SCREENPOP_TYPE: { SOBJECT: 'sobject', NEW_RECORD_MODAL: 'newRecordModal', SEARCH: 'search' } } };
  ['enableClickToDial', 'onClickToDial', 'screenPop', 'saveLog', 'setSoftphonePanelVisibility', 'setSoftphonePanelHeight',
    'setSoftphonePanelWidth', 'getCallCenterSettings', 'onNavigationChange', 'refreshView'].forEach(function (n) { window.sforce.opencti[n] = rec(n); });
})();
`;

function startHost() {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const u = new URL(req.url, 'http://localhost');
      if (u.pathname === '/support/api/60.0/lightning/opencti_min.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript' });
        res.end(OPENCTI_STUB);
        return;
      }
      if (u.pathname === '/host') {
        const origin = `http://localhost:${server.address().port}`;
        const src = `${BASE}/softphone/?sfdcIframeOrigin=${encodeURIComponent(origin)}`;
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><title>Salesforce stand-in</title>
<script>window.calls = []; addEventListener('message', function (e) { if (e.data && e.data.openctiCall) window.calls.push(e.data); });</script>
<iframe id="softphone" title="Softphone" src="${src}" width="400" height="800"></iframe>`);
        return;
      }
      res.writeHead(404);
      res.end();
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function main() {
  run.preflight();

  await step('set up queue Ventas (API)', async () => {
    const qs = await rest('GET', '/api/v2/routing/queues?name=Ventas');
    const q = (qs.entities || []).find((x) => x.name === 'Ventas');
    check(q, 'demo queue Ventas not found');
    await rest('PUT', `/api/v2/routing/queues/${q.id}`, {
      name: q.name, description: q.description, routingStrategy: q.routingStrategy, skillEvaluationMethod: q.skillEvaluationMethod,
      mediaSettings: { call: { ...q.mediaSettings.call, alertingTimeoutSeconds: 60 } },
      acwSettings: { wrapupPrompt: 'OPTIONAL' },
    });
  });

  await step('launch', async () => { await run.launch(); });

  const { page } = await run.newPage({ locale: 'en-US', viewport: { width: 420, height: 620 }, label: 'agent1', expectedErrors, consoleTypes: ['error'] });
  run.currentPage = page;
  const routing = page.locator('[data-testid=routing-status]');
  const call = page.locator('article.sp-call');

  await step('agent1 signs in to /softphone/', async () => {
    await page.goto(`${BASE}/softphone/`);
    await waitURL(page, isLoginPage, 'the login page /oauth/authorize');
    await page.getByLabel('User', { exact: true }).fill('agent1');
    await page.getByLabel('Password', { exact: true }).fill('agent');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await waitURL(page, (u) => u.pathname === '/softphone/' && u.search === '', 'the softphone /softphone/');
    await visible(page.locator('[data-testid=me]').getByText('Lucía Martín', { exact: true }), 'signed-in name');
    await attr(page.locator('[data-live]'), 'data-live', 'open', 'live updates (WebSocket)');
  });

  await step('station login 1001', async () => {
    check(await page.getByLabel('User', { exact: true }).inputValue() === 'agent1', 'the User field does not show agent1');
    await page.getByLabel('Device', { exact: true }).fill('1001');
    await docShot(page, 'login');
    await page.getByLabel('Device', { exact: true }).fill('1001');
    await page.getByLabel('Password', { exact: true }).fill('device');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await visible(page.locator('[data-testid=device]').getByText('1001', { exact: true }), 'device 1001');
    await visible(page.getByRole('button', { name: 'Log out', exact: true }), 'button "Log out"');
  });

  await step('on queue; controls present', async () => {
    await page.getByRole('button', { name: 'On queue', exact: true }).click();
    await attr(routing, 'data-status', 'IDLE', 'routing status');
    for (const name of ['Dial', 'Information', 'Settings']) await visible(page.getByRole('button', { name, exact: true }), `button "${name}"`);
    await visible(page.getByLabel('Number', { exact: true }), 'field "Number"');
    await visible(page.getByLabel('Break', { exact: true }), 'select "Break"');
    await visible(page.getByLabel('Campaign', { exact: true }), 'select "Campaign"');
    const t1 = await page.locator('[data-testid=time-in-state]').innerText();
    await page.waitForFunction((v) => document.querySelector('[data-testid=time-in-state]')?.textContent !== v, t1, { timeout: 5000 })
      .catch(() => { throw new CheckError('the time in state does not tick'); });
    await shot(page, 'softphone-idle.png');
    await docShot(page, 'idle');
  });

  await step('a demo contact calls Ventas; answer', async () => {
    await rest('POST', '/api/v2/simulation/calls', { to: 'Ventas', from: CALLER });
    await attr(call, 'data-state', 'alerting', 'the call');
    await docShot(page, 'ringing');
    await call.getByRole('button', { name: 'Answer', exact: true }).click();
    await attr(call, 'data-state', 'connected', 'the call after Answer');
    results.conversationId = await call.getAttribute('data-conversation');
    results.caller = await page.locator('[data-testid=caller]').innerText();
    check(!/No call/.test(results.caller), `the status shows no caller: ${results.caller}`);
  });

  await step('the screen pop shows the contact found', async () => {
    const pop = page.locator('.sp-pop');
    await attr(pop, 'data-kind', 'open', 'the screen pop');
    results.recordId = await pop.getAttribute('data-record');
    check(results.recordId, 'the screen pop names no record');
    results.recordName = await page.locator('[data-testid=pop-record]').innerText();
    await shot(page, 'softphone-call.png');
    await docShot(page, 'connected');
  });

  await step('DTMF 12', async () => {
    await call.getByLabel('Digits', { exact: true }).fill('12');
    await call.getByRole('button', { name: 'Send DTMF', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('article.sp-call input[name=digits]')?.value === '', null, { timeout: STEP_TIMEOUT })
      .catch(() => { throw new CheckError('the digits field was not cleared after sending'); });
    check((await call.getByRole('alert').count()) === 0, `an error after DTMF: ${await call.getByRole('alert').allInnerTexts()}`);
  });

  await step('information panel during the call', async () => {
    await page.getByRole('button', { name: 'Information', exact: true }).click();
    await visible(page.locator('[data-testid=info-call-id]').getByText(results.conversationId, { exact: true }), 'the call id in Information');
    await docShot(page.locator('section.sp-info'), 'information');
  });

  await step('an SMS to the caller, seen by the demo receiver', async () => {
    await page.getByRole('button', { name: 'Message', exact: true }).click();
    const form = page.getByRole('form', { name: 'Message', exact: true });
    await visible(form, 'the Message form');
    const to = await form.getByLabel('To', { exact: true }).inputValue();
    check(to === CALLER, `To is ${JSON.stringify(to)}, want the caller ${CALLER} prefilled`);
    await form.getByLabel('Channel', { exact: true }).selectOption('sms');
    const text = 'Gracias por llamar. Su cita es el martes a las 10:00.';
    await form.getByLabel('Text', { exact: true }).fill(text);
    await docShot(form, 'message');
    await form.getByRole('button', { name: 'Send message', exact: true }).click();
    // Pushed on v2.users.{id}.messages: the fallback poll first asks after 5 s.
    await attr(form.locator('[data-testid=message-status]'), 'data-state', 'delivered', 'the message delivery, pushed', 4000);
    const got = await fetch(`${BASE}/demo/messages?format=json`, { signal: AbortSignal.timeout(STEP_TIMEOUT) }).then((r) => r.json());
    const m = (got.entities || []).find((x) => x.text === text && x.conversationId === results.conversationId);
    check(m, `the demo receiver did not get the message: ${JSON.stringify(got).slice(0, 300)}`);
    check(m.signatureOk && m.to === CALLER && m.messengerType === 'sms' && m.conversationId === results.conversationId,
      `the demo receiver got ${JSON.stringify(m)} (want the call ${results.conversationId})`);
    results.message = m;
    await page.getByRole('button', { name: 'Message', exact: true }).click();
  });

  await step('reload mid-call', async () => {
    await page.reload();
    await attr(call, 'data-state', 'connected', 'the call after the reload');
    check(await call.getAttribute('data-conversation') === results.conversationId, 'another call after the reload');
    await attr(page.locator('.sp-pop'), 'data-record', results.recordId, 'the screen pop after the reload');
    await visible(page.locator('[data-testid=device]').getByText('1001', { exact: true }), 'device 1001 after the reload');
  });

  await step('hang up', async () => {
    await call.getByRole('button', { name: 'Hang up', exact: true }).click();
    await page.waitForFunction(() => ['wrapup', undefined].includes(document.querySelector('article.sp-call')?.dataset.state), null, { timeout: STEP_TIMEOUT })
      .catch(() => { throw new CheckError('the call is still live after Hang up'); });
    if (await call.count()) {
      await call.getByRole('button', { name: 'Skip', exact: true }).click();
      await gone(call, 'the call after its wrap-up');
    }
    await page.getByRole('button', { name: 'Information', exact: true }).click();
    await visible(page.locator('[data-testid=info-call-id]').getByText('0', { exact: true }), 'call id 0 once the call ended');
    await page.getByRole('button', { name: 'Information', exact: true }).click();
  });

  // Ends the call on the softphone: waits for it to leave the live states and skips its wrap-up.
  const callOver = async (what) => {
    await page.waitForFunction(() => ['wrapup', undefined].includes(document.querySelector('article.sp-call')?.dataset.state), null, { timeout: STEP_TIMEOUT })
      .catch(() => { throw new CheckError(`the call is still live after ${what}`); });
    if (await call.count()) {
      await call.getByRole('button', { name: 'Skip', exact: true }).click();
      await gone(call, `the call after its wrap-up (${what})`);
    }
  };
  const answerNext = async (what) => {
    await rest('POST', '/api/v2/simulation/calls', { to: 'Ventas', from: CALLER });
    await attr(call, 'data-state', 'alerting', what);
    await call.getByRole('button', { name: 'Answer', exact: true }).click();
    await attr(call, 'data-state', 'connected', `${what} after Answer`);
  };

  await step('keypad fills Number', async () => {
    const keypad = page.getByRole('group', { name: 'Keypad', exact: true });
    for (const k of ['5', '0', '#']) await keypad.getByRole('button', { name: k, exact: true }).click();
    const v = await page.getByLabel('Number', { exact: true }).inputValue();
    check(v === '50#', `Number after the keypad: ${JSON.stringify(v)}, want "50#"`);
    await page.getByLabel('Number', { exact: true }).fill('');
  });

  await step('attended transfer to a number, end transfer', async () => {
    await answerNext('the call for the attended transfer');
    await call.getByRole('button', { name: 'Transfer', exact: true }).click();
    await call.getByLabel('Target', { exact: true }).fill(CONSULT_NUMBER);
    await docShot(call, 'transfer');
    await call.getByRole('button', { name: 'Attended transfer', exact: true }).click();
    const consult = call.locator('.sp-consult');
    await attr(consult, 'data-state', 'connected', 'the consulted number (answers after 3 s)', STEP_TIMEOUT + 5000);
    await visible(call.locator(`.sp-parties li[data-consulted=true][data-state=connected]`), 'the consulted party in the party list');
    await shot(page, 'softphone-consult.png');
    await call.getByRole('button', { name: 'End transfer', exact: true }).click();
    await callOver('End transfer');
  });

  await step('conference: invite a number, kick all', async () => {
    await answerNext('the call for the conference');
    await call.getByRole('button', { name: 'Conference', exact: true }).click();
    await call.getByLabel('Who', { exact: true }).fill(CONSULT_NUMBER);
    await call.getByRole('button', { name: 'Invite', exact: true }).click();
    await page.waitForFunction(() => document.querySelectorAll('article.sp-call .sp-parties li[data-state=connected]').length === 2, null, { timeout: STEP_TIMEOUT + 5000 })
      .catch(() => { throw new CheckError('the invited number never joined (two other connected parties)'); });
    await visible(call.getByRole('button', { name: 'End conference', exact: true }), 'button "End conference"');
    await shot(page, 'softphone-conference.png');
    await call.getByRole('button', { name: 'Kick all', exact: true }).click();
    await gone(call.locator('.sp-parties'), 'the party list after Kick all');
    await attr(call, 'data-state', 'connected', 'the call with the caller after Kick all');
    await call.getByRole('button', { name: 'Hang up', exact: true }).click();
    await callOver('Hang up after the conference');
  });

  await step('a break', async () => {
    const select = page.getByLabel('Break', { exact: true });
    const labels = await select.locator('option').allInnerTexts();
    results.breakOptions = labels;
    check(labels.includes('1 - Break'), `break options ${JSON.stringify(labels)} lack "1 - Break"`);
    await select.selectOption({ label: '1 - Break' });
    await attr(select, 'data-presence', 'Break', 'presence after choosing "1 - Break"');
    await attr(routing, 'data-status', 'OFF_QUEUE', 'routing status on a break');
  });

  await step('settings', async () => {
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await visible(page.getByLabel('Width (px)', { exact: true }), 'field "Width (px)"');
    await docShot(page.getByRole('form', { name: 'Settings', exact: true }), 'settings');
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
  });

  await step('Spanish', async () => {
    await page.getByRole('combobox', { name: 'Language' }).selectOption('es');
    await visible(page.getByRole('button', { name: 'Información', exact: true }), 'button "Información"');
    await visible(page.getByRole('button', { name: 'Ajustes', exact: true }), 'button "Ajustes"');
    await page.getByRole('combobox', { name: 'Idioma' }).selectOption('en');
    await visible(page.getByRole('button', { name: 'Information', exact: true }), 'button "Information" again');
  });

  // ---- Open CTI ---------------------------------------------------------------------
  await step('call center logs from the browser; another record to open (API)', async () => {
    const ccs = await rest('GET', '/api/v2/crm/callcenters');
    const cc = ccs.entities[0];
    await rest('PUT', `/api/v2/crm/callcenters/${cc.id}`, { ...cc, settings: { ...(cc.settings || {}), activityLogFrom: 'browser' } });
    const lists = await rest('GET', `/api/v2/outbound/contactlists?name=${encodeURIComponent('Base Demo')}`);
    const list = (lists.entities || []).find((l) => l.name === 'Base Demo');
    check(list, 'demo list "Base Demo" not found');
    const cs = await rest('GET', `/api/v2/outbound/contactlists/${list.id}/contacts?pageSize=5`);
    const other = (cs.entities || []).find((c) => c.id !== results.recordId);
    check(other, 'no second demo contact');
    results.otherRecordId = other.id;
  });

  const host = await startHost();
  const hostOrigin = `http://localhost:${host.address().port}`;
  try {
    const { page: hp, context: hctx } = await run.newPage({ locale: 'en-US', viewport: { width: 900, height: 900 }, label: 'host', expectedErrors, consoleTypes: ['error', 'warning'] });
    run.currentPage = hp;
    const frame = hp.frameLocator('#softphone');

    await step('Open CTI: framed softphone, sign in through the popup', async () => {
      await hp.goto(`${hostOrigin}/host`);
      const signIn = frame.getByRole('button', { name: 'Sign in', exact: true });
      await visible(signIn, 'button "Sign in" in the frame');
      const [popup] = await Promise.all([hctx.waitForEvent('page'), signIn.click()]);
      await popup.waitForURL((u) => u.pathname === '/oauth/authorize', { timeout: STEP_TIMEOUT });
      await popup.getByLabel('User', { exact: true }).fill('agent1');
      await popup.getByLabel('Password', { exact: true }).fill('agent');
      await popup.getByRole('button', { name: 'Log in', exact: true }).click();
      await popup.waitForEvent('close', { timeout: STEP_TIMEOUT });
      await visible(frame.locator('[data-testid=me]').getByText('Lucía Martín', { exact: true }), 'signed-in name in the frame');
    });

    const calls = () => hp.evaluate(() => window.calls);
    await step('Open CTI: click-to-dial enabled, settings read', async () => {
      await hp.waitForFunction(() => window.calls.some((c) => c.openctiCall === 'onClickToDial'), null, { timeout: 8000, polling: 100 })
        .catch(async () => {
          const f = hp.frames().find((x) => x.url().includes('/softphone/'));
          const info = f && await f.evaluate(() => ({ scripts: [...document.scripts].map((x) => x.src), sforce: typeof window.sforce, url: location.href }));
          throw new CheckError(`onClickToDial never called (frame: ${JSON.stringify(info)}; calls: ${JSON.stringify(await calls())})`);
        });
      const names = (await calls()).map((c) => c.openctiCall);
      for (const want of ['enableClickToDial', 'getCallCenterSettings']) check(names.includes(want), `${want} not called: ${JSON.stringify(names)}`);
      await frame.getByRole('button', { name: 'Settings', exact: true }).click();
      await visible(frame.getByText('Host: opencti'), 'the Open CTI bridge chosen (Settings)');
      await frame.getByLabel('Width (px)', { exact: true }).fill('360');
      await frame.getByRole('button', { name: 'Save', exact: true }).click();
      await hp.waitForFunction(() => window.calls.some((c) => c.openctiCall === 'setSoftphonePanelWidth' && c.args.widthPX === 360), null, { timeout: 5000, polling: 100 })
        .catch(() => { throw new CheckError('setSoftphonePanelWidth(360) not called after saving the settings'); });
    });

    await step('Open CTI: on queue, a call, screenPop with the record', async () => {
      await frame.getByRole('button', { name: 'On queue', exact: true }).click();
      await attr(frame.locator('[data-testid=routing-status]'), 'data-status', 'IDLE', 'routing status (framed)');
      await rest('POST', '/api/v2/simulation/calls', { to: 'Ventas', from: CALLER });
      const fcall = frame.locator('article.sp-call');
      await attr(fcall, 'data-state', 'alerting', 'the call (framed)');
      await fcall.getByRole('button', { name: 'Answer', exact: true }).click();
      await hp.waitForFunction(() => window.calls.some((c) => c.openctiCall === 'screenPop'), null, { timeout: STEP_TIMEOUT, polling: 100 })
        .catch(() => { throw new CheckError('screenPop never called'); });
      const pops = (await calls()).filter((c) => c.openctiCall === 'screenPop');
      results.openctiScreenPop = pops[0].args;
      check(pops[0].args.type === 'sobject' && pops[0].args.params?.recordId === results.recordId,
        `screenPop ${JSON.stringify(pops[0].args)}, want sobject ${results.recordId}`);
      await shot(hp, 'softphone-opencti.png');
      results.openctiConversationId = await fcall.getAttribute('data-conversation');
    });

    const softFrame = () => hp.frames().find((f) => f.url().includes('/softphone/'));
    const linkedRecord = async (convId) => {
      const c = await rest('GET', `/api/v2/conversations/calls/${convId}`);
      return (c.participants || []).map((p) => p.attributes?.crmRecordId).find(Boolean) || '';
    };
    await step('Open CTI: the agent opens another record; the call is relinked on the server', async () => {
      const id = results.openctiConversationId;
      await softFrame().evaluate((rid) => window.__navigate({ recordId: rid, objectType: 'Contact', recordName: 'Otro', url: '/lightning/r/Contact/' + rid + '/view' }),
        results.otherRecordId);
      const deadline = Date.now() + STEP_TIMEOUT;
      let got = '';
      while (Date.now() < deadline && (got = await linkedRecord(id)) !== results.otherRecordId) await new Promise((r) => setTimeout(r, 200));
      check(got === results.otherRecordId, `the call is linked to ${JSON.stringify(got)}, want ${results.otherRecordId} after onNavigationChange`);
    });

    await step('Open CTI: hang up and wrap up; saveLog with the Task fields', async () => {
      const fcall = frame.locator('article.sp-call');
      await fcall.getByRole('button', { name: 'Hang up', exact: true }).click();
      await softFrame().waitForFunction(() => ['wrapup', undefined].includes(document.querySelector('article.sp-call')?.dataset.state), null, { timeout: STEP_TIMEOUT })
        .catch(() => { throw new CheckError('the framed call is still live after Hang up'); });
      if (await fcall.count()) await fcall.getByRole('button', { name: 'Skip', exact: true }).click();
      await hp.waitForFunction(() => window.calls.some((c) => c.openctiCall === 'saveLog'), null, { timeout: STEP_TIMEOUT, polling: 100 })
        .catch(async () => { throw new CheckError(`saveLog never called: ${JSON.stringify((await calls()).map((c) => c.openctiCall))}`); });
      const log = (await calls()).find((c) => c.openctiCall === 'saveLog').args.value || {};
      results.openctiSaveLog = log;
      const id = results.openctiConversationId;
      for (const [k, want] of Object.entries({ entityApiName: 'Task', TaskSubtype: 'Call', CallType: 'Inbound', Status: 'Completed',
        WhoId: results.otherRecordId, neoCallId__c: id, CallObject: id })) {
        check(log[k] === want, `saveLog ${k} = ${JSON.stringify(log[k])}, want ${JSON.stringify(want)} (${JSON.stringify(log)})`);
      }
      check(typeof log.CallDurationInSeconds === 'number' && log.Subject, `saveLog duration/subject: ${JSON.stringify(log)}`);
      await hp.waitForFunction(() => window.calls.some((c) => c.openctiCall === 'refreshView'), null, { timeout: 5000, polling: 100 })
        .catch(() => { throw new CheckError('refreshView not called after saveLog'); });
    });

    await step('Open CTI: click-to-dial round trip', async () => {
      await softFrame().evaluate(([n, rid]) => window.__clickToDial({ number: n, objectType: 'Contact', recordId: rid, recordName: 'Otro' }),
        [CONSULT_NUMBER, results.otherRecordId]);
      const fcall = frame.locator('article.sp-call');
      await attr(fcall, 'data-state', (v) => v === 'dialing' || v === 'connected', 'the click-to-dial call (framed)');
      const id = await fcall.getAttribute('data-conversation');
      check(await linkedRecord(id) === results.otherRecordId, 'the click-to-dial call does not carry the record');
      const c = await rest('GET', `/api/v2/conversations/calls/${id}`);
      check((c.participants || []).some((p) => String(p.address || '').endsWith(CONSULT_NUMBER)), `the click-to-dial call does not dial ${CONSULT_NUMBER}`);
      await fcall.getByRole('button', { name: 'Hang up', exact: true }).click();
      await softFrame().waitForFunction(() => !['dialing', 'connected'].includes(document.querySelector('article.sp-call')?.dataset.state), null, { timeout: STEP_TIMEOUT })
        .catch(() => { throw new CheckError('the click-to-dial call is still live after Hang up'); });
    });

    await step('Open CTI: a new-record pop with its defaults; the panel minimizes', async () => {
      const fcall = frame.locator('article.sp-call');
      if (await fcall.count()) await fcall.getByRole('button', { name: 'Skip', exact: true }).click().catch(() => {});
      if (!(await frame.getByLabel('Width (px)', { exact: true }).count())) await frame.getByRole('button', { name: 'Settings', exact: true }).click();
      await frame.getByLabel('Minimize when a new-record form or search opens', { exact: true }).check();
      await frame.getByRole('button', { name: 'Save', exact: true }).click();
      await attr(frame.locator('[data-testid=routing-status]'), 'data-status', 'IDLE', 'routing status before the unknown caller');
      const unknown = '+34955123458'; // no demo contact has it
      await rest('POST', '/api/v2/simulation/calls', { to: 'Ventas', from: unknown });
      await attr(fcall, 'data-state', 'alerting', 'the unknown caller (framed)');
      await fcall.getByRole('button', { name: 'Answer', exact: true }).click();
      await hp.waitForFunction(() => window.calls.some((c) => c.openctiCall === 'screenPop' && c.args.type === 'newRecordModal'), null, { timeout: STEP_TIMEOUT, polling: 100 })
        .catch(async () => { throw new CheckError(`no NEW_RECORD_MODAL screenPop: ${JSON.stringify((await calls()).filter((c) => c.openctiCall === 'screenPop'))}`); });
      const pop = (await calls()).find((c) => c.openctiCall === 'screenPop' && c.args.type === 'newRecordModal').args.params;
      check(pop.entityName === 'Contact' && /^\d{18}$/.test(pop.defaultFieldValues?.neoSyncId__c || '') && pop.defaultFieldValues?.Phone === unknown,
        `new-record pop ${JSON.stringify(pop)}`);
      await hp.waitForFunction(() => window.calls.some((c) => c.openctiCall === 'setSoftphonePanelVisibility' && c.args.visible === false), null, { timeout: 5000, polling: 100 })
        .catch(() => { throw new CheckError('setSoftphonePanelVisibility(false) not called for a new-record pop with auto-minimize on'); });
      await fcall.getByRole('button', { name: 'Hang up', exact: true }).click();
      await softFrame().waitForFunction(() => !['alerting', 'connected'].includes(document.querySelector('article.sp-call')?.dataset.state), null, { timeout: STEP_TIMEOUT })
        .catch(() => { throw new CheckError('the unknown caller is still live after Hang up'); });
    });

    await step('Open CTI: an ended session asks to sign in again, saying why', async () => {
      const token = await softFrame().evaluate(() => JSON.parse(sessionStorage.getItem('centralita.token') || 'null')?.access_token);
      check(token, 'no token in the framed softphone');
      sessionEnded = true;
      const res = await fetch(`${BASE}/api/v2/tokens/me`, { method: 'DELETE', headers: { Authorization: 'Bearer ' + token }, signal: AbortSignal.timeout(STEP_TIMEOUT) });
      check(res.status === 204, `DELETE /api/v2/tokens/me: HTTP ${res.status}`);
      await frame.getByLabel('Break', { exact: true }).selectOption({ label: '1 - Break' });
      await visible(frame.getByRole('button', { name: 'Sign in', exact: true }), 'button "Sign in" after the session ended');
      await visible(frame.getByRole('alert').getByText('Your session has expired: sign in again.'), 'the reason');
    });
  } finally {
    host.close();
  }

  await run.finish();
}

run.main(main);
