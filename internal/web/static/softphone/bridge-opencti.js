// The Salesforce Open CTI bridge: loads opencti_min.js from the Salesforce
// origin that frames the softphone (the server's CSP allows only Salesforce
// domains there) and executes the server's screen-pop plan through it.

import { popTarget } from './bridge.js';

const API_VERSION = '60.0';

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error('could not load ' + src));
    document.head.appendChild(s);
  });
}

// call wraps an Open CTI method taking {…, callback} into a promise.
function call(method, args = {}) {
  return new Promise((resolve) => {
    const fn = window.sforce?.opencti?.[method];
    if (typeof fn !== 'function') {
      resolve({ success: false, errors: ['no ' + method] });
      return;
    }
    try {
      fn({ ...args, callback: (res) => resolve(res || { success: true }) });
    } catch (err) {
      resolve({ success: false, errors: [String(err)] });
    }
  });
}

const popType = (name, fallback) => window.sforce?.opencti?.SCREENPOP_TYPE?.[name] || fallback;

export function openCTIBridge(origin) {
  let ready = null;
  const bridge = {
    name: 'opencti',
    origin,
    init(onClickToDial) {
      ready ??= loadScript(`${origin}/support/api/${API_VERSION}/lightning/opencti_min.js`).then(async () => {
        await call('enableClickToDial');
        window.sforce.opencti.onClickToDial({
          listener: (payload) => onClickToDial({
            number: payload?.number || '',
            recordType: payload?.objectType || '',
            recordId: payload?.recordId || '',
          }),
        });
      });
      return ready;
    },
    // The 0/1/many plan: open the record found, a new-record form with the
    // defaults, or Salesforce's search.
    async screenPop(pop) {
      await ready;
      const target = popTarget(pop);
      if (target.kind === 'open' && target.recordId) {
        await call('screenPop', { type: popType('SOBJECT', 'sobject'), params: { recordId: target.recordId } });
      } else if (target.kind === 'new') {
        await call('screenPop', {
          type: popType('NEW_RECORD_MODAL', 'newRecordModal'),
          params: { entityName: target.type || 'Contact', defaultFieldValues: target.defaults },
        });
      } else if (target.kind === 'search') {
        await call('screenPop', { type: popType('SEARCH', 'search'), params: { searchString: target.searchData } });
      } else {
        return { opened: false };
      }
      return { opened: true };
    },
    // saveLog writes the call's Task (the server's fields) when the call
    // center logs from the browser; then the agent's view is refreshed.
    async saveLog(activity) {
      await ready;
      const res = await call('saveLog', { value: activity });
      if (res?.success !== false) call('refreshView');
      return res;
    },
    // onNavigation reports the record the agent opens in Salesforce.
    onNavigation(fn) {
      ready?.then(() => window.sforce.opencti.onNavigationChange({
        listener: (p) => fn({ recordId: p?.recordId || '', recordType: p?.objectType || '', recordName: p?.recordName || '', url: p?.url || '' }),
      }));
    },
    setVisible(visible) {
      ready?.then(() => call('setSoftphonePanelVisibility', { visible: !!visible }));
    },
    setSize(width, height) {
      ready?.then(() => {
        if (width) call('setSoftphonePanelWidth', { widthPX: Number(width) });
        if (height) call('setSoftphonePanelHeight', { heightPX: Number(height) });
      });
    },
    async settings() {
      await ready;
      const res = await call('getCallCenterSettings');
      if (!res?.success || !res.returnValue) return null;
      const v = res.returnValue;
      const num = (k) => Number(v[k]) || null;
      return { width: num('/reqGeneralInfo/reqSoftphoneWidth'), height: num('/reqGeneralInfo/reqSoftphoneHeight'), raw: v };
    },
  };
  return bridge;
}
