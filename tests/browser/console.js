#!/usr/bin/env node
// Headless-browser end-to-end check of the Centralita web console.
//
//   CENTRALITA_URL=http://127.0.0.1:8080 SCREENSHOT_DIR=/tmp/shots node console.js
//
// Drives the system Chromium (/usr/bin/chromium; never a downloaded one)
// with playwright-core through the real login (OAuth code + PKCE), the
// admin's create forms, the server's error display, log-out, a failed login
// and a Spanish agent session. Prints one JSON line with the results; on the
// first failure prints a JSON line with ok=false and exits 1. Run by
// internal/web/browser_test.go as part of `go test ./...`.
'use strict';

const { BASE, check, isLoginPage, isConsole, visible, waitURL, createRun } = require('./lib');

const run = createRun({ name: 'console.js', failureShot: 'failure.png' });
const { results, step, shot } = run;

async function newContext(locale) {
  const opened = await run.newPage({
    locale,
    viewport: { width: 1280, height: 800 },
    expectedErrors,
    // Error responses are judged by the response listener.
    ignoreConsole: /^Failed to load resource: the server responded with a status of/,
  });
  run.currentPage = opened.page;
  return opened;
}

// The only error answers the flow provokes on purpose.
const expectedErrors = new Set([
  '400 POST /api/v2/routing/skills', // duplicate skill
  '401 POST /oauth/authorize', // wrong password
]);

async function htmlLang(page) {
  return page.evaluate(() => document.documentElement.lang);
}

async function login(page, { user, password, texts }) {
  await visible(page.getByRole('heading', { name: texts.heading, exact: true }), `login heading "${texts.heading}"`);
  await page.getByLabel(texts.user, { exact: true }).fill(user);
  await page.getByLabel(texts.password, { exact: true }).fill(password);
  await page.getByRole('button', { name: texts.submit, exact: true }).click();
}


const EN = { heading: 'Sign in', user: 'User', password: 'Password', submit: 'Log in' };
const ES = { heading: 'Iniciar sesión', user: 'Usuario', password: 'Contraseña', submit: 'Entrar' };

async function main() {
  run.preflight();

  await step('launch', async () => {
    await run.launch();
    results.playwright = require('playwright-core/package.json').version;
  });

  // ---- a. English login as admin --------------------------------------
  const en = await newContext('en-US');
  const page = en.page;
  await step('login page (en)', async () => {
    await page.goto(`${BASE}/ui/`);
    await waitURL(page, isLoginPage, 'the login page /oauth/authorize');
    check((await htmlLang(page)) === 'en', `login page lang is "${await htmlLang(page)}", want "en"`);
    await visible(page.getByText('Centralita contact center', { exact: true }), 'product line');
    await visible(page.getByLabel('User', { exact: true }), 'field "User"');
    await visible(page.getByLabel('Password', { exact: true }), 'field "Password"');
    await visible(page.getByRole('button', { name: 'Log in', exact: true }), 'button "Log in"');
  });
  await step('log in as admin', async () => {
    await login(page, { user: 'admin', password: 'admin', texts: EN });
    await waitURL(page, isConsole, 'the console /ui/');
    await visible(page.locator('header .me').getByText('Ana Administradora', { exact: true }), 'signed-in name "Ana Administradora"');
    await visible(page.getByRole('button', { name: 'Log out', exact: true }), 'button "Log out"');
    const token = await page.evaluate(() => sessionStorage.getItem('centralita.token'));
    check(token && JSON.parse(token).access_token, 'no access token in sessionStorage after login');
  });

  // ---- b. lists and create forms -----------------------------------------
  await step('users tab lists demo users', async () => {
    const tab = page.getByRole('tab', { name: 'Users', exact: true });
    await visible(tab, 'tab "Users"');
    check((await tab.getAttribute('aria-selected')) === 'true', 'tab "Users" is not the selected tab');
    const panel = page.getByRole('tabpanel');
    await visible(panel.getByRole('heading', { name: 'Users', exact: true }), 'heading "Users"');
    for (const name of ['Lucía Martín', 'Ana Administradora', 'Elena Torres']) {
      await visible(panel.getByRole('cell', { name, exact: true }), `user "${name}" in the table`);
    }
    await visible(page.getByRole('button', { name: 'Create user', exact: true }), 'button "Create user" (admin)');
  });
  await step('create skill', async () => {
    await page.getByRole('tab', { name: 'Skills', exact: true }).click();
    const panel = page.getByRole('tabpanel');
    await visible(panel.getByRole('heading', { name: 'Skills', exact: true }), 'heading "Skills"');
    await panel.getByLabel('Name', { exact: true }).fill('Navegador');
    await panel.getByRole('button', { name: 'Create skill', exact: true }).click();
    await visible(panel.getByRole('status').getByText('Created.', { exact: true }), 'status "Created."');
    await visible(panel.getByRole('cell', { name: 'Navegador', exact: true }), 'skill "Navegador" in the table');
    check((await panel.getByLabel('Name', { exact: true }).inputValue()) === '', 'the form was not cleared after creating');
  });
  await step('create break state', async () => {
    await page.getByRole('tab', { name: 'Presence', exact: true }).click();
    const panel = page.getByRole('tabpanel');
    await visible(panel.getByRole('heading', { name: 'Presence', exact: true }), 'heading "Presence"');
    await panel.getByLabel('Break number', { exact: true }).fill('4');
    await panel.getByLabel('Label', { exact: true }).fill('Reunión');
    await panel.getByRole('button', { name: 'Create break state', exact: true }).click();
    await visible(panel.getByRole('cell', { name: '4 - Reunión', exact: true }), 'break state "4 - Reunión" in the table');
    await shot(page, 'console-presence.png');
  });

  // ---- c. the server's error is shown ------------------------------------
  await step('duplicate skill shows the server error', async () => {
    await page.getByRole('tab', { name: 'Skills', exact: true }).click();
    const panel = page.getByRole('tabpanel');
    await visible(panel.getByRole('cell', { name: 'Navegador', exact: true }), 'skill "Navegador" in the table');
    await panel.getByLabel('Name', { exact: true }).fill('Navegador');
    await panel.getByRole('button', { name: 'Create skill', exact: true }).click();
    const alert = panel.locator('form').getByRole('alert');
    await visible(alert, 'an error alert next to the form');
    const text = (await alert.innerText()).trim();
    check(/already exists/i.test(text) && text.includes('Navegador'),
      `alert does not show the server's duplicate error: ${JSON.stringify(text)}`);
    check(!/duplicate\.value/.test(text), `alert shows a machine error code: ${JSON.stringify(text)}`);
    results.duplicateError = text;
    await shot(page, 'console-duplicate.png');
    check((await panel.getByRole('cell', { name: 'Navegador', exact: true }).count()) === 1,
      'skill "Navegador" is listed more than once');
  });

  // ---- d. log out, wrong password ------------------------------------------
  await step('log out', async () => {
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await waitURL(page, isLoginPage, 'the login page after logging out');
    await visible(page.getByRole('heading', { name: 'Sign in', exact: true }), 'heading "Sign in"');
    const token = await page.evaluate(() => sessionStorage.getItem('centralita.token'));
    check(token === null, 'the token is still in sessionStorage after logging out');
  });
  await step('wrong password', async () => {
    await login(page, { user: 'admin', password: 'not-the-password', texts: EN });
    await visible(page.getByRole('alert').getByText('Wrong user or password.', { exact: true }), 'alert "Wrong user or password."');
    check(isLoginPage(new URL(page.url())), `left the login page: ${page.url()}`);
    await visible(page.getByRole('heading', { name: 'Sign in', exact: true }), 'heading "Sign in"');
    check((await page.getByLabel('User', { exact: true }).inputValue()) === 'admin', 'user name not kept after a failed login');
    check((await page.getByLabel('Password', { exact: true }).inputValue()) === '', 'password field not empty after a failed login');
  });
  await en.context.close();

  // ---- e. Spanish, agent -----------------------------------------------
  const es = await newContext('es-ES');
  const ep = es.page;
  await step('login page (es)', async () => {
    await ep.goto(`${BASE}/ui/`);
    await waitURL(ep, isLoginPage, 'the login page /oauth/authorize');
    check((await htmlLang(ep)) === 'es', `login page lang is "${await htmlLang(ep)}", want "es"`);
    await visible(ep.getByText('Centro de contacto Centralita', { exact: true }), 'product line in Spanish');
    await visible(ep.getByLabel('Usuario', { exact: true }), 'field "Usuario"');
    await visible(ep.getByLabel('Contraseña', { exact: true }), 'field "Contraseña"');
    await visible(ep.getByRole('button', { name: 'Entrar', exact: true }), 'button "Entrar"');
  });
  await step('log in as agent1 (es)', async () => {
    await login(ep, { user: 'agent1', password: 'agent', texts: ES });
    await waitURL(ep, isConsole, 'the console /ui/');
    await visible(ep.locator('header .me').getByText('Lucía Martín', { exact: true }), 'signed-in name "Lucía Martín"');
    await visible(ep.getByRole('button', { name: 'Cerrar sesión', exact: true }), 'button "Cerrar sesión"');
    check((await htmlLang(ep)) === 'es', `console lang is "${await htmlLang(ep)}", want "es"`);
  });
  await step('agent lands on the Agent tab', async () => {
    // An agent-only user starts in the Agent view, not in Users.
    const tab = ep.getByRole('tab', { name: 'Agente', exact: true });
    await visible(tab, 'tab "Agente"');
    check((await tab.getAttribute('aria-selected')) === 'true', 'tab "Agente" is not the selected tab for agent1');
    await visible(ep.getByRole('tabpanel').getByRole('heading', { name: 'Agente', exact: true }), 'heading "Agente"');
  });
  await step('agent sees no create controls', async () => {
    const panel = ep.getByRole('tabpanel');
    await visible(ep.getByRole('tab', { name: 'Usuarios', exact: true }), 'tab "Usuarios"');
    await ep.getByRole('tab', { name: 'Usuarios', exact: true }).click();
    await visible(panel.getByRole('heading', { name: 'Usuarios', exact: true }), 'heading "Usuarios"');
    // Wait for the list itself, so absence below is not just "not loaded yet".
    await visible(panel.getByRole('cell', { name: 'Ana Administradora', exact: true }), 'user "Ana Administradora" in the table');
    for (const name of ['Crear usuario', 'Create user']) {
      check((await ep.getByRole('button', { name, exact: true }).count()) === 0, `agent sees a "${name}" button`);
    }
    check((await panel.locator('form').count()) === 0, 'agent sees a form in Usuarios');
    check((await panel.getByRole('button', { name: /^(Eliminar|Delete)\b/ }).count()) === 0, 'agent sees delete buttons');

    await ep.getByRole('tab', { name: 'Habilidades', exact: true }).click();
    await visible(panel.getByRole('heading', { name: 'Habilidades', exact: true }), 'heading "Habilidades"');
    await visible(panel.getByRole('cell', { name: 'Navegador', exact: true }), 'skill "Navegador" (created by admin)');
    check((await ep.getByRole('button', { name: 'Crear habilidad', exact: true }).count()) === 0, 'agent sees "Crear habilidad"');
    check((await panel.locator('form').count()) === 0, 'agent sees a form in Habilidades');

    await ep.getByRole('tab', { name: 'Presencia', exact: true }).click();
    await visible(panel.getByRole('heading', { name: 'Presencia', exact: true }), 'heading "Presencia"');
    await visible(panel.getByRole('cell', { name: '4 - Reunión', exact: true }), 'break state "4 - Reunión"');
    check((await ep.getByRole('button', { name: 'Crear estado de pausa', exact: true }).count()) === 0,
      'agent sees "Crear estado de pausa"');
    check((await panel.getByRole('button', { name: /^Eliminar\b/ }).count()) === 0, 'agent sees delete buttons in Presencia');
    await shot(ep, 'console-agent-es.png');
  });
  await es.context.close();

  await run.finish();
}

run.main(main);
