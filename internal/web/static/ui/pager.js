// Pager is the previous / page n of m / next bar under a paged table; list
// is { data (a page of the platform API), pageNumber, setPageNumber }.

import { h } from 'preact';
import htm from 'htm';
import { t } from './i18n.js';

const html = htm.bind(h);

export function Pager({ list }) {
  const { data, pageNumber, setPageNumber } = list;
  if (!data) return null;
  const pages = Math.max(data.pageCount || 1, 1);
  return html`<nav class="pager" aria-label=${t('pagination')}>
    <button type="button" onClick=${() => setPageNumber(pageNumber - 1)} disabled=${pageNumber <= 1}><span aria-hidden="true">← </span>${t('previous')}</button>
    <span aria-live="polite">${t('pageOf', { page: pageNumber, pages, total: data.total ?? 0 })}</span>
    <button type="button" onClick=${() => setPageNumber(pageNumber + 1)} disabled=${pageNumber >= pages}>${t('next')}<span aria-hidden="true"> →</span></button>
  </nav>`;
}
