// Shared scaffolding of the headless-browser checks (console.js, agent.js):
// settings from the environment, the system Chromium launch, the single
// JSON result line, steps, the global timeout guard, the failure
// screenshot, readable waits and a page that fails on page errors,
// unexpected HTTP errors and CSP violations and collects console errors.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const STEP_TIMEOUT = 15_000; // per action / wait
const GLOBAL_TIMEOUT = 90_000; // whole script
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const BASE = (process.env.CENTRALITA_URL || '').replace(/\/+$/, '');
const SHOTS = process.env.SCREENSHOT_DIR || '';

class CheckError extends Error {}
function check(cond, message) {
  if (!cond) throw new CheckError(message);
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const firstLine = (err) => String(err && err.message || err).split('\n')[0];
const isLoginPage = (u) => u.pathname === '/oauth/authorize';
// After the code exchange the app replaces the URL with /ui/ + hash, no query.
const isConsole = (u) => u.pathname === '/ui/' && u.search === '';

// visible waits for a locator to be visible, with a readable failure.
async function visible(locator, what, timeout = STEP_TIMEOUT) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch (err) {
    throw new CheckError(`${what} not visible within ${timeout / 1000} s (${firstLine(err)})`);
  }
}

async function waitURL(page, pred, what) {
  try {
    await page.waitForURL(pred, { timeout: STEP_TIMEOUT });
  } catch (err) {
    throw new CheckError(`expected to be on ${what}, still at ${page.url()} (${firstLine(err)})`);
  }
}

// createRun starts one script's run: its results, the global guard and
// the helpers that share its state (browser, current step and page).
//   name         script name for the stderr failure line ("agent.js")
//   failureShot  file name of the screenshot taken on failure
//   results      extra initial result fields (after ok/steps/screenshots/consoleErrors)
//   stepLimit    when true, each step is bounded to STEP_TIMEOUT as a whole
function createRun({ name, failureShot, results: extra = {}, stepLimit = false }) {
  const started = Date.now();
  const results = { ok: false, steps: [], screenshots: [], consoleErrors: [], ...extra };
  const run = { results, browser: null, currentStep: 'start', currentPage: null, finished: false };

  async function fail(message) {
    if (run.finished) return;
    run.finished = true;
    results.ok = false;
    results.failedStep = run.currentStep;
    results.error = message;
    results.ms = Date.now() - started;
    const page = run.currentPage;
    if (page && SHOTS) {
      try {
        const file = path.join(SHOTS, failureShot);
        await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
        results.screenshots.push(file);
      } catch { /* the page may be gone */ }
    }
    if (page) {
      try {
        results.url = page.url();
        results.pageText = (await page.locator('body').innerText({ timeout: 2_000 })).slice(0, 1500);
      } catch { /* ditto */ }
    }
    emit(results);
    process.stderr.write(`${name}: FAIL in step "${run.currentStep}": ${message}\n`);
    try { if (run.browser) await Promise.race([run.browser.close(), new Promise((r) => setTimeout(r, 5_000))]); } catch { /* ignore */ }
    process.exit(1);
  }

  // The global guard: whatever hangs, the script ends within GLOBAL_TIMEOUT.
  const guard = setTimeout(() => {
    fail(`global timeout: script still running after ${GLOBAL_TIMEOUT / 1000} s`);
    // If even fail() hangs (closing the browser), leave anyway.
    setTimeout(() => process.exit(1), 8_000).unref();
  }, GLOBAL_TIMEOUT);
  guard.unref();

  async function step(stepName, fn) {
    run.currentStep = stepName;
    const t0 = Date.now();
    if (!stepLimit) {
      await fn();
    } else {
      // Bound the step to STEP_TIMEOUT on top of the per-action timeouts.
      let timer;
      const limit = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new CheckError(`step took longer than ${STEP_TIMEOUT / 1000} s`)), STEP_TIMEOUT);
      });
      try {
        await Promise.race([fn(), limit]);
      } finally {
        clearTimeout(timer);
      }
    }
    results.steps.push({ name: stepName, ms: Date.now() - t0 });
  }

  // preflight checks the environment and makes the screenshot folder.
  function preflight() {
    check(/^https?:\/\/[^/]+/.test(BASE), 'CENTRALITA_URL must be set to the server address (http://host:port)');
    check(fs.existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install chromium)`);
    if (SHOTS) fs.mkdirSync(SHOTS, { recursive: true });
  }

  // launch starts the system Chromium. A plain launch runs on a fresh
  // temporary profile that Playwright creates and removes itself (it
  // refuses --user-data-dir here), and lets each context have its own locale.
  async function launch() {
    run.browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: STEP_TIMEOUT,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    results.browser = `Chromium ${run.browser.version()}`;
    return run.browser;
  }

  // newPage opens a browser context and its page. The page fails the run on
  // an uncaught exception, an HTTP error not in expectedErrors and a CSP
  // violation, and records other console messages of consoleTypes (those
  // matching ignoreConsole are skipped). label, if given, tags messages.
  async function newPage({ locale, viewport, label, expectedErrors, consoleTypes = ['error'], ignoreConsole = null }) {
    const tag = label ? ` (${label})` : '';
    const context = await run.browser.newContext({ locale, viewport, colorScheme: 'light' });
    context.setDefaultTimeout(STEP_TIMEOUT);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT);
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      // An uncaught exception in the console is a bug even if the flow goes on.
      fail(`uncaught page error${tag} at ${page.url()}: ${firstLine(err)}`);
    });
    page.on('response', (res) => {
      if (res.status() < 400) return;
      const u = new URL(res.url());
      const what = `${res.status()} ${res.request().method()} ${u.pathname}`;
      if (expectedErrors.has(what)) return;
      fail(`unexpected HTTP ${what}${tag} at ${page.url()}`);
    });
    page.on('console', (msg) => {
      if (!consoleTypes.includes(msg.type())) return;
      const text = msg.text();
      if (ignoreConsole && ignoreConsole.test(text)) return;
      if (/Content.Security.Policy/i.test(text)) {
        fail(`CSP violation${tag} at ${page.url()}: ${text}`);
        return;
      }
      results.consoleErrors.push(label ? `${label}: ${text.slice(0, 300)}` : text.slice(0, 300));
    });
    return { context, page };
  }

  async function shot(page, file) {
    if (!SHOTS) return;
    const p = path.join(SHOTS, file);
    await page.screenshot({ path: p, fullPage: true });
    results.screenshots.push(p);
  }

  // finish closes the browser and prints the successful result.
  async function finish() {
    await step('close', async () => {
      await run.browser.close();
      run.browser = null;
    });
    results.ok = true;
    results.ms = Date.now() - started;
    run.finished = true;
    clearTimeout(guard);
    emit(results);
  }

  // main runs the script's flow; any error ends the run through fail.
  function main(fn) {
    fn().catch((err) => fail(err instanceof CheckError ? err.message : (err && err.stack) || String(err)));
  }

  return Object.assign(run, { fail, step, preflight, launch, newPage, shot, finish, main });
}

module.exports = {
  STEP_TIMEOUT, BASE, CheckError, check, firstLine, isLoginPage, isConsole, visible, waitURL, createRun,
};
