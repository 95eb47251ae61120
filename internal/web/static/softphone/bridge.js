// The host bridge: the one small interface between the softphone and the
// page or CRM around it, so a host can be swapped (Open CTI is retired in
// February 2028). A bridge is
//
//   { name,
//     init(onClickToDial)  → Promise; onClickToDial({number, recordType, recordId})
//     screenPop(pop)       → Promise<{opened: bool}>; pop is the server's
//                            {conversationId, decision: {action, matches}, record, plan}
//     saveLog(activity)    → Promise; activity is the server's Task fields
//                            (GET /api/v2/crm/conversations/{id}/savelog)
//     onNavigation(fn)     fn({recordType, recordId, recordName}) when the
//                            agent opens a record (the live call is relinked)
//     setVisible(bool), setSize(width, height)
//     settings()           → Promise<{width, height} | null> (the host's own options) }
//
// chooseBridge picks Open CTI when the page is framed by Salesforce (it
// passes ?sfdcIframeOrigin=), else the standalone bridge.

import { standaloneBridge } from './bridge-standalone.js';
import { openCTIBridge } from './bridge-opencti.js';

// sfdcOrigin is the Salesforce origin that frames the page, if any.
export function sfdcOrigin() {
  if (window.parent === window) return '';
  const param = new URLSearchParams(location.search).get('sfdcIframeOrigin');
  if (!param) return '';
  try {
    return new URL(param).origin;
  } catch {
    return '';
  }
}

export function chooseBridge() {
  const origin = sfdcOrigin();
  return origin ? openCTIBridge(origin) : standaloneBridge();
}

// popTarget reads a screen pop's decision the same way for every bridge:
// {kind: 'open'|'new'|'search'|'none', type, recordId, defaults, record, matches, searchData}.
export function popTarget(pop) {
  const action = pop?.decision?.action || {};
  return {
    kind: action.kind || 'none',
    type: action.type || pop?.record?.type || '',
    recordId: action.recordId || pop?.record?.id || '',
    defaults: action.defaults || {},
    record: pop?.record || null,
    matches: pop?.decision?.matches || [],
    searchData: pop?.plan?.searchData || '',
  };
}
