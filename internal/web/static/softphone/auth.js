// Sign-in for the softphone: authorization code + PKCE with the built-in
// public client, like the console (ui/auth.js, whose token storage and
// refresh it shares), but with /softphone/ as the redirect and, when the
// page is framed (the login page refuses to be framed), in a popup window
// that hands the code back to the frame with postMessage.

import { sha256 } from '/ui/sha256.js';
import { CLIENT_ID, AuthError, getToken } from '/ui/auth.js';

const TOKEN_KEY = 'centralita.token'; // ui/auth.js's: api.js reads it from there
const PKCE_KEY = 'centralita.sp.pkce';
const LOGIN_WINDOW = 'centralita-softphone-login';
const MESSAGE = 'centralita.softphone.login';

export const redirectUri = () => location.origin + '/softphone/';
export const framed = () => window.parent !== window;
export { getToken };

function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
const randomString = (n) => base64url(crypto.getRandomValues(new Uint8Array(n)));

function readPKCE() {
  try {
    return JSON.parse(sessionStorage.getItem(PKCE_KEY));
  } catch {
    return null;
  }
}

async function authorizeURL() {
  const verifier = randomString(48);
  const state = randomString(16);
  const challenge = base64url(await sha256(verifier));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, search: location.search }));
  return '/oauth/authorize?' + new URLSearchParams({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: redirectUri(),
    code_challenge: challenge, code_challenge_method: 'S256', state,
  });
}

async function exchange(code, state) {
  const pkce = readPKCE();
  sessionStorage.removeItem(PKCE_KEY);
  if (!pkce || pkce.state !== state) throw new AuthError('', 'stateMismatch');
  const res = await fetch('/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: pkce.verifier, client_id: CLIENT_ID, redirect_uri: redirectUri() }),
  });
  const body = await res.json().catch(() => null);
  if (!res.ok || !body?.access_token) throw new AuthError(body?.error_description || body?.error || `HTTP ${res.status}`);
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify({
    access_token: body.access_token,
    refresh_token: body.refresh_token || null,
    expires_at: body.expires_in ? Date.now() + body.expires_in * 1000 : null,
  }));
  return pkce;
}

// handleRedirect finishes a sign-in when the URL carries its answer.
// Returns 'popup' when this is the sign-in window (it hands the answer to
// the softphone that opened it and closes), 'done' after a same-window
// sign-in, or '' when there was nothing to finish.
export async function handleRedirect() {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return '';
  const answer = { type: MESSAGE, code: params.get('code'), state: params.get('state'), error: params.get('error_description') || params.get('error') };
  if (window.name === LOGIN_WINDOW && window.opener) {
    history.replaceState(null, '', '/softphone/');
    window.opener.postMessage(answer, location.origin);
    window.close();
    return 'popup';
  }
  const pkce = readPKCE();
  history.replaceState(null, '', '/softphone/' + (pkce?.search || ''));
  if (answer.error) throw new AuthError(answer.error);
  await exchange(answer.code, answer.state);
  return 'done';
}

// signInSameWindow leaves the page for the login page (top-level only).
export async function signInSameWindow() {
  location.assign(await authorizeURL());
  return new Promise(() => {});
}

// signInPopup opens the login page in a window (called from a click) and
// resolves once the token is stored.
export function signInPopup() {
  const w = window.open('about:blank', LOGIN_WINDOW, 'popup,width=480,height=640');
  if (!w) return Promise.reject(new AuthError('', 'spPopupBlocked'));
  return new Promise((resolve, reject) => {
    const onMessage = (e) => {
      if (e.origin !== location.origin || e.data?.type !== MESSAGE) return;
      window.removeEventListener('message', onMessage);
      if (e.data.error) reject(new AuthError(e.data.error));
      else exchange(e.data.code, e.data.state).then(resolve, reject);
    };
    window.addEventListener('message', onMessage);
    authorizeURL().then((url) => { w.location.href = url; }, reject);
  });
}

export function signOutLocal() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(PKCE_KEY);
}
