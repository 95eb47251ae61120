// How the console shows errors: the server's message in words, and the
// details it does not already say.

import { h } from 'preact';
import htm from 'htm';
import { ApiError } from './api.js';
import { t } from './i18n.js';

const html = htm.bind(h);

export function errorText(err) {
  if (err?.status === 403) return t('forbidden');
  if (err?.status === 0) return t('networkError');
  if (err?.messageKey) return t(err.messageKey);
  if (err instanceof ApiError && err.message === `HTTP ${err.status}`) return t('httpError', { status: err.status });
  return err?.message || String(err);
}

export function ErrorBox({ error }) {
  if (!error) return null;
  const text = errorText(error);
  // The server's message usually restates every detail already; list only
  // what it does not say, in words rather than machine codes.
  const details = (error.details || []).filter((d) => !(d.message && text.includes(d.message)));
  return html`<div class="error" role="alert">
    <p>${text}</p>
    ${details.length > 0 && html`<ul>
      ${details.map((d) => html`<li>${d.fieldName ? `${d.fieldName}: ` : ''}${d.message || d.errorCode}</li>`)}
    </ul>`}
  </div>`;
}
