// The console's only way to reach the server: the public /api/v2 with the
// bearer token from auth.js.

import { getToken, refresh, startLogin } from './auth.js';

export const PAGE_SIZE = 25;

// loginHandler is called when the server refuses the token even after a
// refresh. The console's default leaves for the login page; the softphone
// sets its own (framed by a CRM, the login page opens in a popup that only
// a click may open). It resolves true once a new token is stored (the
// request is then sent again), false to give up (the caller gets a 401
// ApiError saying the session expired).
let loginHandler = async () => { await startLogin(); return false; };
export function setLoginHandler(fn) {
  loginHandler = fn;
}

// ApiError mirrors the server's error body {status, code, message, details}.
// status 0 means the request never got an answer.
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code || '';
    this.details = Array.isArray(body?.details) ? body.details : [];
  }
}

async function send(url, method, body) {
  const token = getToken()?.access_token;
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, null);
  }
  return { res, token };
}

export async function api(path, { method = 'GET', body, query } = {}) {
  const url = query ? `${path}?${new URLSearchParams(query)}` : path;
  let { res, token } = await send(url, method, body);
  if (res.status === 401) {
    // Another request may already have refreshed while this one was in
    // flight; then the new token just needs a retry.
    const renewed = getToken()?.access_token !== token || (await refresh());
    if (renewed) ({ res } = await send(url, method, body));
    if (res.status === 401 && (await loginHandler())) ({ res } = await send(url, method, body));
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (a proxy's error page, say): report the status alone.
  }
  if (res.status === 401) throw new ApiError(401, { ...data, code: 'session.expired', message: data?.message || 'Your session has expired: sign in again.' });
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// listAll follows the pages of a collection, for pickers that need every
// entry; capped so a huge directory cannot stall the page.
export async function listAll(path, maxPages = 20) {
  const all = [];
  for (let pageNumber = 1; pageNumber <= maxPages; pageNumber++) {
    const page = await api(path, { query: { pageSize: 100, pageNumber } });
    all.push(...(page?.entities || []));
    if (!page || pageNumber >= (page.pageCount || 1)) break;
  }
  return all;
}
