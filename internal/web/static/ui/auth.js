// OAuth 2 authorization code + PKCE for the console, a public client: the
// browser holds no secret, so the code is bound to this tab by a verifier
// only this tab knows.

import { sha256 } from './sha256.js';

export const CLIENT_ID = 'centralita-web';
const TOKEN_KEY = 'centralita.token';
const PKCE_KEY = 'centralita.pkce';

// Must be byte-identical in the authorize and token requests.
export const redirectUri = () => location.origin + '/ui/';

// AuthError carries either an i18n key (messageKey) or the server's text.
export class AuthError extends Error {
  constructor(message, messageKey) {
    super(message || messageKey);
    this.messageKey = messageKey;
  }
}

function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const randomString = (byteCount) => base64url(crypto.getRandomValues(new Uint8Array(byteCount)));

function readJSON(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key));
  } catch {
    return null;
  }
}

export const getToken = () => readJSON(TOKEN_KEY);

function saveToken(answer, previous) {
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify({
    access_token: answer.access_token,
    // A refresh answer may omit the refresh token when it is not rotated.
    refresh_token: answer.refresh_token || previous?.refresh_token || null,
    expires_at: answer.expires_in ? Date.now() + answer.expires_in * 1000 : null,
  }));
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(PKCE_KEY);
}

// startLogin leaves the page; the returned promise never settles so callers
// do not render anything in the meantime.
export async function startLogin() {
  const verifier = randomString(48); // 64 characters, within PKCE's 43–128
  const state = randomString(16);
  const challenge = base64url(await sha256(verifier));
  // The hash names the open section; the redirect URI cannot carry it.
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, hash: location.hash }));
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri(),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  });
  location.assign('/oauth/authorize?' + query);
  return new Promise(() => {});
}

async function tokenRequest(params) {
  const res = await fetch('/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: params,
  });
  const body = await res.json().catch(() => null);
  if (!res.ok || !body?.access_token) {
    throw new AuthError(body?.error_description || body?.message || body?.error || `HTTP ${res.status}`);
  }
  return body;
}

// initSession finishes a login redirect when the URL carries one, and
// otherwise starts a login unless this tab already holds a token.
export async function initSession() {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) {
    if (!getToken()) await startLogin();
    return;
  }
  const pkce = readJSON(PKCE_KEY);
  sessionStorage.removeItem(PKCE_KEY);
  // Codes are single-use: a reload must not replay this one, and it should
  // not linger in the address bar or history.
  history.replaceState(null, '', '/ui/' + (pkce?.hash || ''));
  if (params.has('error')) {
    throw new AuthError(params.get('error_description') || params.get('error'));
  }
  if (!pkce || pkce.state !== params.get('state')) {
    throw new AuthError('', 'stateMismatch');
  }
  saveToken(await tokenRequest(new URLSearchParams({
    grant_type: 'authorization_code',
    code: params.get('code'),
    code_verifier: pkce.verifier,
    client_id: CLIENT_ID,
    redirect_uri: redirectUri(),
  })));
}

let refreshing = null;

// refresh resolves to whether a new access token was stored. Concurrent
// 401s share one refresh so a rotating refresh token is used only once.
export function refresh() {
  refreshing ??= (async () => {
    const previous = getToken();
    if (!previous?.refresh_token) return false;
    try {
      saveToken(await tokenRequest(new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: previous.refresh_token,
        client_id: CLIENT_ID,
      })), previous);
      return true;
    } catch {
      return false;
    }
  })().finally(() => { refreshing = null; });
  return refreshing;
}

export async function logout() {
  const token = getToken();
  if (token) {
    // Best effort: even if revoking fails, this tab forgets the token.
    await fetch('/api/v2/tokens/me', {
      method: 'DELETE',
      headers: { Authorization: 'Bearer ' + token.access_token },
    }).catch(() => {});
  }
  clearSession();
  await startLogin();
}
