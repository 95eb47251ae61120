// The standalone bridge: the softphone in its own tab or window. Records
// open in the built-in CRM's pages (the record's own URL when the connector
// gives one); click-to-dial is the page's tel: links.

import { popTarget } from './bridge.js';

export function standaloneBridge() {
  let telHandler = null;
  return {
    name: 'standalone',
    async init(onClickToDial) {
      telHandler = (e) => {
        const a = e.target?.closest?.('a[href^="tel:"]');
        if (!a || e.defaultPrevented || e.button !== 0) return;
        e.preventDefault();
        onClickToDial({
          number: decodeURIComponent(a.getAttribute('href').slice(4)),
          recordType: a.dataset.recordType || '',
          recordId: a.dataset.recordId || '',
        });
      };
      document.addEventListener('click', telHandler);
    },
    // A new tab may only open from a click, so the pop is shown on the page
    // (with a link) and opened here only if the browser lets it.
    async screenPop(pop) {
      return { opened: false, url: recordURL(popTarget(pop)) };
    },
    async saveLog() { /* the server writes the activity log */ },
    onNavigation() { /* records open in other tabs: nothing to follow */ },
    setVisible() {},
    setSize() {},
    async settings() { return null; },
  };
}

// recordURL is where a person opens the popped record in the built-in CRM.
export function recordURL(target) {
  if (target.record?.url) return target.record.url;
  if (target.kind === 'search' && target.searchData) return '/ui/#contactlists?search=' + encodeURIComponent(target.searchData);
  return '/ui/#contactlists';
}
