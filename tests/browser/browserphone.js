#!/usr/bin/env node
// Headless-browser check of the browser phone: the softphone page as the
// agent's phone on the SIP switch (WebRTC through pion).
//
//   CENTRALITA_URL=http://127.0.0.1:8080 BP_STATION=2901 BP_PASSWORD=web node browserphone.js
//
// Run by internal/app/browserphone_test.go, which starts the program with
// the SIP switch, makes BP_STATION a "webrtc" station and plays a SIP
// customer. Here agent1 opens /softphone/, signs in, logs into the
// station and waits for the browser phone to be ready, then prints the
// line PHONE-READY; the Go side calls the station. agent1 answers with the
// softphone's Answer button; the page's remote audio must carry the
// customer's 1000 Hz tone (a WebAudio AnalyserNode on the received track);
// a reload mid-call gets the call and its audio back (the server offers it
// again); the keypad plays "5" in band (RTCDTMFSender); the line
// PHONE-TALKED tells the Go side, which checks what it received and hangs
// up; the call leaves
// the softphone and the phone is ready again. Chromium runs with a fake
// microphone (a beep) and loopback ICE allowed.
'use strict';

const { chromium } = require('playwright-core');
const { STEP_TIMEOUT, BASE, CheckError, check, firstLine, isLoginPage, visible, waitURL, createRun } = require('./lib');

const STATION = process.env.BP_STATION || '2901';
const PASSWORD = process.env.BP_PASSWORD || 'web';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CALL_TIMEOUT = 30_000;

const run = createRun({ name: 'browserphone.js', failureShot: 'browserphone-failure.png', results: {} });
const { results, step, shot } = run;

const expectedPatterns = [
  /^(404|409) GET \/api\/v2\/outbound\/me$/,
  /^404 GET \/api\/v2\/users\/me\/outboundcampaign$/,
  /^404 GET \/api\/v2\/crm\/conversations\/[^/]+\/screenpop$/,
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

// remoteRMS runs in the page: the loudest RMS of the remote audio over
// 2.5 s, and the frequency of the strongest spectrum peak then, through a
// WebAudio AnalyserNode on the <audio> element's stream.
async function remoteRMS() {
  const el = document.querySelector('[data-testid=remote-audio]');
  if (!el || !el.srcObject) return { error: 'no remote stream on the audio element' };
  const ctx = new AudioContext();
  await ctx.resume();
  const an = ctx.createAnalyser();
  an.fftSize = 2048;
  ctx.createMediaStreamSource(el.srcObject).connect(an);
  const buf = new Float32Array(an.fftSize);
  const spectrum = new Float32Array(an.frequencyBinCount);
  let max = 0;
  let peakHz = 0;
  const end = performance.now() + 2500;
  while (performance.now() < end) {
    await new Promise((res) => setTimeout(res, 50));
    an.getFloatTimeDomainData(buf);
    let s = 0;
    for (const v of buf) s += v * v;
    const rms = Math.sqrt(s / buf.length);
    if (rms > max) {
      max = rms;
      an.getFloatFrequencyData(spectrum);
      let best = 1;
      for (let i = 1; i < spectrum.length; i++) if (spectrum[i] > spectrum[best]) best = i;
      peakHz = (best * ctx.sampleRate) / an.fftSize;
    }
  }
  await ctx.close();
  return { rms: max, peakHz };
}

// heardTone checks a remoteRMS result: loud, and the customer's 1000 Hz.
function heardTone(r, when) {
  check(!r.error, r.error);
  check(r.rms > 0.02, `the remote audio is silent ${when} (max RMS ${r.rms})`);
  check(Math.abs(r.peakHz - 1000) < 60, `the remote audio peaks at ${Math.round(r.peakHz)} Hz ${when}, want the customer's 1000 Hz`);
}

// A line for the Go side (the JSON result stays the last line).
const tell = (line) => process.stdout.write(line + '\n');

async function main() {
  run.preflight();

  await step('launch (fake microphone, loopback ICE)', async () => {
    run.browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: STEP_TIMEOUT,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
        '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required'],
    });
    results.browser = `Chromium ${run.browser.version()}`;
  });

  const { context, page } = await run.newPage({ locale: 'en-US', viewport: { width: 400, height: 900 }, label: 'agent1', expectedErrors });
  run.currentPage = page;
  await context.grantPermissions(['microphone'], { origin: BASE });
  const call = page.locator('article.sp-call');
  const phone = page.locator('[data-testid=browser-phone]');

  await step('agent1 signs in to /softphone/', async () => {
    await page.goto(`${BASE}/softphone/`);
    await waitURL(page, isLoginPage, 'the login page /oauth/authorize');
    await page.getByLabel('User', { exact: true }).fill('agent1');
    await page.getByLabel('Password', { exact: true }).fill('agent');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await waitURL(page, (u) => u.pathname === '/softphone/' && u.search === '', 'the softphone /softphone/');
    await visible(page.locator('[data-testid=me]'), 'signed-in name');
  });

  await step(`station login ${STATION} (a browser device)`, async () => {
    await page.getByLabel('Device', { exact: true }).fill(STATION);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await visible(page.locator('[data-testid=device]').getByText(STATION, { exact: true }), `device ${STATION}`);
    await attr(phone, 'data-state', 'ready', 'the browser phone');
    await shot(page, 'browserphone-ready.png');
  });

  await step('the station rings; Answer', async () => {
    tell('PHONE-READY');
    await attr(call, 'data-state', 'alerting', 'the call', CALL_TIMEOUT);
    await attr(phone, 'data-state', 'ringing', 'the browser phone while alerting');
    await call.getByRole('button', { name: 'Answer', exact: true }).click();
    await attr(call, 'data-state', 'connected', 'the call after Answer');
    await attr(phone, 'data-state', 'connected', 'the browser phone after Answer');
  });

  await step('the remote audio carries the customer\'s tone', async () => {
    const r = await page.evaluate(remoteRMS);
    results.remote = { rms: Number((r.rms || 0).toFixed(4)), peakHz: Math.round(r.peakHz || 0) };
    heardTone(r, 'in the call');
    await shot(page, 'browserphone-call.png');
  });

  await step('reload mid-call: the call and its audio come back', async () => {
    await page.reload();
    await attr(call, 'data-state', 'connected', 'the call after the reload');
    await attr(phone, 'data-state', 'connected', 'the browser phone after the reload');
    const r = await page.evaluate(remoteRMS);
    results.afterReload = { rms: Number((r.rms || 0).toFixed(4)), peakHz: Math.round(r.peakHz || 0) };
    heardTone(r, 'after the reload');
  });

  await step('keypad 5 in band', async () => {
    const keypad = call.getByRole('group', { name: 'Keypad', exact: true });
    await keypad.getByRole('button', { name: '5', exact: true }).click();
    const digits = await call.getByLabel('Digits', { exact: true }).inputValue();
    check(digits === '', `the keypad typed ${JSON.stringify(digits)} instead of playing the tone in the call`);
    await new Promise((r) => setTimeout(r, 500)); // the tone lasts 100 ms
    tell('PHONE-TALKED');
  });

  await step('the customer hangs up', async () => {
    await page.waitForFunction(() => ['wrapup', undefined].includes(document.querySelector('article.sp-call')?.dataset.state), null, { timeout: CALL_TIMEOUT })
      .catch(() => { throw new CheckError('the call is still live after the customer hung up'); });
    await attr(phone, 'data-state', 'ready', 'the browser phone after the call');
  });

  await run.finish();
}

run.main(main);
