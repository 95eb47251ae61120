#!/usr/bin/env node
// Headless-browser end-to-end check of the console's Agent view: a person
// takes a simulated call from ringing to wrap-up.
//
//   CENTRALITA_URL=http://127.0.0.1:8080 SCREENSHOT_DIR=/tmp/shots node agent.js
//
// Against a fresh demo with no simulated traffic and no auto-answering demo
// agents (what internal/app/apptest starts), so agent1 is the only agent on
// queue and the only one who can get the call. Set-up through the API with
// the demo's client-credentials client: queue Ventas asks for a mandatory
// wrap-up and rings long enough for a slow machine. Then agent1 signs in,
// logs into station 1001, tries a break state, goes On queue; the admin,
// in a second browser context, makes a call to Ventas with the Agent view's
// "Simulate a call" form; agent1 sees it ring (through the notification
// WebSocket), answers, holds, resumes, mutes, sends DTMF, opens the transfer
// form, hangs up and categorizes; the call leaves the list and the routing
// status is IDLE again. Prints one JSON line; on the first failure a JSON
// line with ok=false, and exits 1. Drives the system Chromium with
// playwright-core, as console.js does; run by internal/web/browser_test.go.
'use strict';

const { STEP_TIMEOUT, BASE, CheckError, check, firstLine, isLoginPage, isConsole, visible, waitURL, createRun } = require('./lib');

const CLIENT = { id: 'demo-client', secret: 'demo-secret' };
const CALLER = '+34600111222';

const run = createRun({ name: 'agent.js', failureShot: 'agent-failure.png', results: { socketTopics: [] }, stepLimit: true });
const { results, step, shot } = run;

async function gone(locator, what, timeout = STEP_TIMEOUT) {
  try {
    await locator.first().waitFor({ state: 'detached', timeout });
  } catch (err) {
    throw new CheckError(`${what} still there after ${timeout / 1000} s (${firstLine(err)})`);
  }
}

// attr waits until a locator's attribute has a value.
async function attr(locator, name, want, what, timeout = STEP_TIMEOUT) {
  const deadline = Date.now() + timeout;
  let got;
  for (;;) {
    got = await locator.first().getAttribute(name, { timeout }).catch(() => undefined);
    if (got === want) return;
    if (Date.now() > deadline) throw new CheckError(`${what}: ${name}=${JSON.stringify(got)}, want ${JSON.stringify(want)} within ${timeout / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The only error answers the flow provokes on purpose: none.
const expectedErrors = new Set([]);

function newContext(label) {
  return run.newPage({
    locale: 'en-US',
    viewport: { width: 1280, height: 900 },
    label,
    expectedErrors,
    consoleTypes: ['error', 'warning'],
  });
}

async function login(page, user, password) {
  await page.goto(`${BASE}/ui/#agent`);
  await waitURL(page, isLoginPage, 'the login page /oauth/authorize');
  await page.getByLabel('User', { exact: true }).fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await waitURL(page, isConsole, 'the console /ui/');
  check(new URL(page.url()).hash === '#agent', `after login the console is at ${page.url()}, want #agent`);
  const tab = page.getByRole('tab', { name: 'Agent', exact: true });
  await visible(tab, 'tab "Agent"');
  check((await tab.getAttribute('aria-selected')) === 'true', 'tab "Agent" is not selected');
  await visible(page.getByRole('tabpanel').getByRole('heading', { name: 'Agent', exact: true }), 'heading "Agent"');
}


// ---- the API, for set-up and checks -------------------------------------

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

async function main() {
  run.preflight();

  await step('set up queue Ventas (API)', async () => {
    const qs = await rest('GET', '/api/v2/routing/queues?name=Ventas');
    const q = (qs.entities || []).find((x) => x.name === 'Ventas');
    check(q, 'demo queue Ventas not found');
    // A wrap-up the agent must give, and time to answer on a slow machine.
    await rest('PUT', `/api/v2/routing/queues/${q.id}`, {
      name: q.name, description: q.description, routingStrategy: q.routingStrategy, skillEvaluationMethod: q.skillEvaluationMethod,
      mediaSettings: { call: { ...q.mediaSettings.call, alertingTimeoutSeconds: 60 } },
      acwSettings: { wrapupPrompt: 'MANDATORY' },
    });
    const after = await rest('GET', `/api/v2/routing/queues/${q.id}`);
    check(after.acwSettings?.wrapupPrompt === 'MANDATORY', `Ventas wrap-up prompt is ${after.acwSettings?.wrapupPrompt}`);
    results.queueId = q.id;
  });

  await step('launch', async () => {
    await run.launch();
  });

  // ---- agent1 ------------------------------------------------------------
  const agent = await newContext('agent1');
  const page = agent.page;
  run.currentPage = page;
  const frames = []; // {topic, at} of every event the agent's sockets got
  page.on('websocket', (ws) => {
    results.socketURL = ws.url().replace(/streaming-[^/]+$/, 'streaming-…');
    ws.on('framereceived', ({ payload }) => {
      try {
        const env = JSON.parse(String(payload));
        frames.push({ topic: env.topicName, at: Date.now(), body: env.eventBody });
      } catch { /* not JSON */ }
    });
  });
  const panel = page.getByRole('tabpanel');
  const live = panel.locator('[data-live]');
  const routing = panel.locator('[data-testid=routing-status]');
  const presenceNow = panel.locator('[data-testid=presence]');

  await step('agent1 signs in to the Agent view', async () => {
    await login(page, 'agent1', 'agent');
    await visible(page.locator('header .me').getByText('Lucía Martín', { exact: true }), 'signed-in name "Lucía Martín"');
    await attr(live, 'data-live', 'open', 'live updates (WebSocket)');
    await attr(routing, 'data-status', 'OFF_QUEUE', 'routing status before the station login');
    await visible(panel.getByText('No calls right now.', { exact: true }), 'the empty call list');
    check((await panel.getByRole('button', { name: 'Simulate a call' }).count()) === 0, 'an agent sees "Simulate a call"');
  });

  await step('station login 1001', async () => {
    await panel.getByLabel('Device', { exact: true }).fill('1001');
    await panel.getByLabel('Device password', { exact: true }).fill('device');
    await panel.getByRole('button', { name: 'Log in', exact: true }).click();
    await visible(panel.locator('[data-testid=device]').getByText('1001', { exact: true }), 'device 1001 shown as logged in');
    await visible(panel.getByRole('button', { name: 'Log out', exact: true }), 'station "Log out"');
    check((await panel.getByLabel('Device password', { exact: true }).count()) === 0, 'the station form is still shown');
  });

  await step('presence: a break state, then On queue', async () => {
    const select = panel.getByLabel('Presence', { exact: true });
    await visible(select, 'select "Presence"');
    const labels = await select.locator('option').allInnerTexts();
    results.presenceOptions = labels;
    for (const want of ['Available', 'On Queue', '1 - Break', '2 - Lunch']) {
      check(labels.includes(want), `presence options ${JSON.stringify(labels)} lack "${want}"`);
    }
    await select.selectOption({ label: '1 - Break' });
    await attr(presenceNow, 'data-presence', 'Break', 'presence after choosing "1 - Break"');
    await visible(presenceNow.getByText('1 - Break', { exact: true }), 'presence "1 - Break"');
    await attr(routing, 'data-status', 'OFF_QUEUE', 'routing status on a break');
    await panel.getByRole('button', { name: 'On queue', exact: true }).click();
    await attr(presenceNow, 'data-presence', 'On Queue', 'presence after "On queue"');
    await attr(routing, 'data-status', 'IDLE', 'routing status On Queue');
    check(await panel.getByRole('button', { name: 'Off queue', exact: true }).isEnabled(), '"Off queue" disabled while On Queue');
    check(frames.some((f) => /\.routingStatus$/.test(f.topic) && f.body?.routingStatus?.status === 'IDLE'),
      'no routingStatus IDLE event on the WebSocket');
  });

  // ---- the admin makes the phone ring ---------------------------------------
  const admin = await newContext('admin');
  let rangAt = 0;
  await step('admin simulates a call to Ventas', async () => {
    run.currentPage = admin.page;
    await login(admin.page, 'admin', 'admin');
    const ap = admin.page.getByRole('tabpanel');
    const form = ap.locator('section.simulate');
    await visible(form.getByRole('heading', { name: 'Simulate a call', exact: true }), 'heading "Simulate a call" (admin)');
    await form.getByLabel('To', { exact: true }).fill('Ventas');
    await form.getByLabel('From', { exact: true }).fill(CALLER);
    rangAt = Date.now();
    await form.getByRole('button', { name: 'Simulate a call', exact: true }).click();
    await visible(form.getByRole('status').getByText('Call sent to Ventas.', { exact: true }), 'status "Call sent to Ventas."');
    run.currentPage = page;
  });

  const call = panel.locator('article.call');
  await step('the call rings in the Agent view', async () => {
    await visible(call.filter({ hasText: `Call with ${CALLER}` }), `a call with ${CALLER}`);
    await attr(call, 'data-state', 'alerting', 'the call');
    results.ringMs = Date.now() - rangAt;
    await visible(call.getByText('Ringing', { exact: true }), 'badge "Ringing"');
    await visible(call.getByText(/Queue: Ventas/), 'queue Ventas on the call');
    results.conversationId = await call.getAttribute('data-conversation');
    check(frames.some((f) => /\.conversations$/.test(f.topic) && f.body?.id === results.conversationId),
      'the call showed up without a conversation event on the WebSocket');
    check((await live.getAttribute('data-live')) === 'open', 'the WebSocket is not open (polling?)');
    await attr(routing, 'data-status', 'INTERACTING', 'routing status while ringing');
    await shot(page, 'agent-ringing.png');
  });

  await step('answer', async () => {
    await call.getByRole('button', { name: 'Answer', exact: true }).click();
    await attr(call, 'data-state', 'connected', 'the call after Answer');
    await visible(call.getByText('Connected', { exact: true }), 'badge "Connected"');
    await visible(call.getByRole('button', { name: 'Hang up', exact: true }), 'button "Hang up"');
  });

  await step('hold and resume', async () => {
    await call.getByRole('button', { name: 'Hold', exact: true }).click();
    await attr(call, 'data-state', 'held', 'the call after Hold');
    await call.getByRole('button', { name: 'Resume', exact: true }).click();
    await attr(call, 'data-state', 'connected', 'the call after Resume');
  });

  await step('mute, DTMF, transfer form', async () => {
    const mute = call.getByRole('button', { name: 'Mute', exact: true });
    await mute.click();
    await attr(mute, 'aria-pressed', 'true', 'button "Mute"');
    await visible(call.getByText(/Muted/), 'badge "Muted"');
    await call.getByLabel('Digits', { exact: true }).fill('12#');
    await call.getByRole('button', { name: 'Send DTMF', exact: true }).click();
    try {
      await page.waitForFunction(() => document.querySelector('article.call input[name=digits]')?.value === '', null, { timeout: STEP_TIMEOUT });
    } catch {
      throw new CheckError('the digits field was not cleared after sending');
    }
    check((await call.getByRole('alert').count()) === 0, `an error after DTMF: ${await call.getByRole('alert').allInnerTexts()}`);
    const transfer = call.getByRole('button', { name: 'Transfer', exact: true });
    await transfer.click();
    await attr(transfer, 'aria-expanded', 'true', 'button "Transfer"');
    const kind = call.getByLabel('Transfer to', { exact: true });
    await kind.selectOption('agent');
    try {
      await page.waitForFunction(() => [...document.querySelectorAll('article.call select[name=target] option')]
        .some((o) => o.textContent === 'Carlos Gómez (agent2)'), null, { timeout: STEP_TIMEOUT });
    } catch {
      throw new CheckError('user agent2 is not among the transfer targets');
    }
    await kind.selectOption('queue');
    await visible(call.getByRole('button', { name: 'Direct transfer', exact: true }), 'button "Direct transfer"');
    await shot(page, 'agent-connected.png');
    await transfer.click();
    await attr(transfer, 'aria-expanded', 'false', 'button "Transfer" (closed)');
    await mute.click();
    await attr(mute, 'aria-pressed', 'false', 'button "Mute" (unmuted)');
  });

  await step('hang up: mandatory wrap-up', async () => {
    await call.getByRole('button', { name: 'Hang up', exact: true }).click();
    await attr(call, 'data-state', 'wrapup', 'the call after Hang up');
    const group = call.getByRole('group', { name: 'Categorize', exact: true });
    await visible(group, 'the "Categorize" group');
    await attr(routing, 'data-status', 'INTERACTING', 'routing status during wrap-up');
    check((await group.getByRole('button', { name: 'Skip', exact: true }).count()) === 0, 'a mandatory wrap-up offers "Skip"');
    const select = group.getByLabel('Wrap-up code', { exact: true });
    try {
      await page.waitForFunction(() => document.querySelectorAll('article.call select[name=code] optgroup').length > 0, null, { timeout: STEP_TIMEOUT });
    } catch {
      throw new CheckError('no wrap-up code groups loaded');
    }
    const groups = await select.locator('optgroup').evaluateAll((gs) => gs.map((g) => g.label));
    results.wrapupGroups = groups;
    for (const want of ['Venta', 'No venta', 'Contacto', 'Soporte']) {
      check(groups.includes(want), `wrap-up groups ${JSON.stringify(groups)} lack "${want}"`);
    }
    const cerrada = await select.locator('optgroup[label="Venta"] option', { hasText: 'Cerrada' }).getAttribute('value');
    await select.selectOption(cerrada);
    await group.getByLabel('Notes', { exact: true }).fill('Quiere el plan anual');
    await shot(page, 'agent-wrapup.png');
    await group.getByRole('button', { name: 'Done', exact: true }).click();
    await gone(call, 'the call after its wrap-up');
    await visible(panel.getByText('No calls right now.', { exact: true }), 'the empty call list');
    await attr(routing, 'data-status', 'IDLE', 'routing status after the wrap-up');
    await shot(page, 'agent-done.png');
  });

  await step('the wrap-up is recorded (API)', async () => {
    const conv = await rest('GET', `/api/v2/conversations/${results.conversationId}`);
    const mine = conv.participants.filter((p) => p.purpose === 'agent' && p.state === 'disconnected' && p.wrapup);
    check(mine.length === 1, `want one agent participant with a wrap-up, got ${JSON.stringify(conv.participants.map((p) => [p.purpose, p.state, p.wrapup]))}`);
    check(mine[0].wrapup.name === 'Venta - Cerrada' && mine[0].wrapup.notes === 'Quiere el plan anual',
      `recorded wrap-up ${JSON.stringify(mine[0].wrapup)}`);
    check(conv.state === 'disconnected', `conversation state ${conv.state}`);
  });

  await step('Spanish labels', async () => {
    await page.getByRole('combobox', { name: 'Language' }).selectOption('es');
    await visible(panel.getByRole('heading', { name: 'Agente', exact: true }), 'heading "Agente"');
    await visible(panel.getByLabel('Presencia', { exact: true }), 'select "Presencia"');
    await visible(panel.getByRole('button', { name: 'Fuera de cola', exact: true }), 'button "Fuera de cola"');
    await visible(panel.getByRole('button', { name: 'Salir', exact: true }), 'button "Salir"');
    await visible(routing.getByText('Libre', { exact: true }), 'routing status "Libre"');
    const options = await panel.getByLabel('Presencia', { exact: true }).locator('option').allInnerTexts();
    check(options.includes('1 - Descanso'), `Spanish presence options ${JSON.stringify(options)} lack "1 - Descanso"`);
    await page.getByRole('combobox', { name: 'Idioma' }).selectOption('en');
    await visible(panel.getByRole('heading', { name: 'Agent', exact: true }), 'heading "Agent" again');
  });

  await step('off queue and station logout', async () => {
    await panel.getByRole('button', { name: 'Off queue', exact: true }).click();
    await attr(routing, 'data-status', 'OFF_QUEUE', 'routing status after "Off queue"');
    await panel.getByRole('button', { name: 'Log out', exact: true }).click();
    await visible(panel.getByLabel('Device password', { exact: true }), 'the station form after logging out');
  });

  results.socketTopics = [...new Set(frames.map((f) => f.topic.replace(/v2\.users\.[^.]+\./, 'v2.users.{me}.')))];
  await run.finish();
}

run.main(main);
