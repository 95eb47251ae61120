// The agent softphone (/softphone/): a compact page for a CRM's side panel
// or its own window. Sign-in (authorization code + PKCE; a popup when
// framed), station login, status always visible (routing status, time in
// state, caller), the live call's controls, break states, manual dial,
// transfers, the outbound campaign desk (shared with the console), settings,
// the call's information and the CRM screen pop, handed to the host bridge
// (standalone or Salesforce Open CTI). Everything is read from the server
// on load and kept current by the notification WebSocket, so a reload in
// the middle of a call loses nothing.

import './storage.js'; // first: the shared modules read storage as they load
import { h, render } from 'preact';
import { useState, useEffect, useRef, useCallback } from 'preact/hooks';
import htm from 'htm';
import { api, listAll, setLoginHandler } from '/ui/api.js';
import { openNotifications } from '/ui/notifications.js';
import { ErrorBox, errorText } from '/ui/errors.js';
import { t, getLang, setLang, languages } from '/ui/i18n.js';
import { OutboundDesk } from '/ui/desk.js';
import { myParticipant, phase as callPhase, otherParty, elapsed, newerStatus, useNow, LIVE_STATES, stripTel, useCallAction } from '/ui/calls.js';
import { handleRedirect, signInSameWindow, signInPopup, signOutLocal, getToken, framed } from './auth.js';
import { chooseBridge, popTarget } from './bridge.js';
import { recordURL } from './bridge-standalone.js';
import { BrowserPhone, phoneKey } from './phone.js';
import { MessagePanel } from './message.js';
import { tt } from './texts.js';

const html = htm.bind(h);

const POLL_MS = 3000;
const DEVICE_KEY = 'centralita.device';
const SETTINGS_KEY = 'centralita.sp.settings';
const ON_QUEUE_ID = 'e08eaf1b-ee47-4fa9-a231-1200e284798f';
const AVAILABLE_ID = '6a3af858-942f-489d-9700-5f9bcdcdae9b';
const ROUTING_STATUSES = ['OFF_QUEUE', 'IDLE', 'INTERACTING', 'NOT_RESPONDING', 'COMMUNICATING'];

const enc = encodeURIComponent;
const callPath = (id) => `/api/v2/conversations/calls/${enc(id)}`;
const partPath = (id, partId) => `${callPath(id)}/participants/${enc(partId)}`;

// phase: the softphone shows no optional wrap-up (the desk takes care of releases).
const phase = (mine) => callPhase(null, mine, true);

// customerNumber is the number of the customer (or external party) of a call.
function customerNumber(conv) {
  const p = (conv?.participants || []).find((x) => x.purpose === 'customer') || (conv?.participants || []).find((x) => x.purpose === 'external');
  const n = p && [p.ani, p.address, p.dnis].map(stripTel).find((v) => /^\+?[0-9][0-9 ()-]{5,}$/.test(v || ''));
  return n || '';
}

// callData merges the participants' attributes (the SPEC 2.7 call data).
function callData(conv) {
  const out = {};
  for (const p of conv?.participants || []) Object.assign(out, p.attributes || {});
  return out;
}

function presenceLabel(def) {
  const labels = def?.languageLabels || {};
  return (getLang() === 'es' ? labels.es : labels.en_US) || labels.en_US || def?.name || def?.systemPresence || '';
}


function loadSettings() {
  try {
    return { width: '', height: '', autoMinimize: false, ...JSON.parse(localStorage.getItem(SETTINGS_KEY) || '{}') };
  } catch {
    return { width: '', height: '', autoMinimize: false };
  }
}

// ---- the page ------------------------------------------------------------------

function Root() {
  const [, setTick] = useState(0);
  const [auth, setAuth] = useState('checking'); // checking | signedOut | signedIn | popup
  const [error, setError] = useState(null);
  const [me, setMe] = useState(null);
  const [bridge] = useState(() => chooseBridge());
  const relang = (lang) => { setLang(lang); setTick((n) => n + 1); };

  useEffect(() => {
    (async () => {
      try {
        const r = await handleRedirect();
        if (r === 'popup') { setAuth('popup'); return; }
      } catch (err) {
        setError(err);
      }
      if (getToken()) setAuth('signedIn');
      else if (!framed()) await signInSameWindow();
      else setAuth('signedOut');
    })();
  }, []);

  useEffect(() => {
    if (auth !== 'signedIn') return;
    api('/api/v2/users/me').then(setMe).catch(setError);
  }, [auth]);

  // A token the server no longer takes (expired, signed out elsewhere):
  // top-level, sign in again in this window; framed, show "Sign in" (the
  // popup may only open from a click) and say why.
  useEffect(() => {
    setLoginHandler(async () => {
      if (!framed()) { await signInSameWindow(); return false; }
      signOutLocal();
      setMe(null);
      setError({ message: tt('sessionExpired') });
      setAuth('signedOut');
      return false;
    });
  }, []);

  const popupSignIn = async () => {
    setError(null);
    try {
      await signInPopup();
      setAuth('signedIn');
    } catch (err) {
      setError(err);
    }
  };

  const signOut = async () => {
    const token = getToken()?.access_token;
    if (token) {
      await fetch('/api/v2/tokens/me', { method: 'DELETE', headers: { Authorization: 'Bearer ' + token } }).catch(() => {});
    }
    signOutLocal();
    setMe(null);
    if (framed()) setAuth('signedOut');
    else await signInSameWindow();
  };

  const header = html`<header class="sp-head">
    <strong>${t('spTitle')}</strong>
    ${me && html`<span class="sp-me" data-testid="me">${me.name}</span>
      <button type="button" class="link" onClick=${signOut}>${t('spSignOut')}</button>`}
    <label class="sp-lang"><span class="visually-hidden">${t('spLanguage')}</span>
      <select aria-label=${t('spLanguage')} value=${getLang()} onChange=${(e) => relang(e.currentTarget.value)}>
        ${languages.map(([code, name]) => html`<option value=${code}>${name}</option>`)}
      </select></label>
  </header>`;

  if (auth === 'popup' || auth === 'checking') return html`<div class="sp">${header}<p class="loading">${t('spSigningIn')}</p><${ErrorBox} error=${error} /></div>`;
  if (auth === 'signedOut') {
    return html`<div class="sp">${header}
      <p class="hint">${t('spSignInHint')}</p>
      <button type="button" class="primary" onClick=${popupSignIn}>${t('spSignIn')}</button>
      <${ErrorBox} error=${error} /></div>`;
  }
  return html`<div class="sp">${header}
    <${ErrorBox} error=${error} />
    ${me ? html`<${Softphone} me=${me} bridge=${bridge} />` : html`<p class="loading">${t('loading')}</p>`}
  </div>`;
}

function Softphone({ me, bridge }) {
  const [station, setStation] = useState(undefined);
  const [presence, setPresence] = useState(null);
  const [routing, setRouting] = useState(null);
  const [defs, setDefs] = useState([]);
  const [convs, setConvs] = useState({});
  const [live, setLive] = useState('connecting');
  const [messageEvent, setMessageEvent] = useState(null); // the last v2.users.{id}.messages body
  const [error, setError] = useState(null);
  const [pop, setPop] = useState(null);
  const [panel, setPanel] = useState(''); // '' | 'settings' | 'info'
  const [settings, setSettings] = useState(loadSettings);
  const [lastCallId, setLastCallId] = useState('0');
  const [lastData, setLastData] = useState({});
  const [status, setStatus] = useState('');
  const [textAllowed, setTextAllowed] = useState(null); // the call center's allowTextMessage; null: not known yet
  const popped = useRef(new Set());
  const pops = useRef({}); // conversation id → its screen pop (saveLog reads the plan)
  const settingsNow = useRef(settings); // read by the long-lived event handler
  settingsNow.current = settings;
  const mounted = useRef(true);
  const linkable = useRef(''); // the call a host navigation relinks
  const linked = useRef({}); // conversation id → the record it was last linked to
  const ended = useRef(() => {}); // called once a call is over for me (set below)
  const logged = useRef(new Set()); // calls whose log was handed to the host
  useEffect(() => () => { mounted.current = false; }, []);
  const fail = useCallback((err) => { if (mounted.current) setError(err); }, []);
  const userPath = `/api/v2/users/${enc(me.id)}`;

  const loadStation = () => api(`${userPath}/station`).then((s) => setStation(s?.associatedStation || null)).catch(fail);
  const loadPresence = () => api(`${userPath}/presences/purecloud`).then(setPresence).catch(fail);
  const loadRouting = () => api(`${userPath}/routingstatus`).then((r) => setRouting((prev) => newerStatus(prev, r))).catch(fail);
  const refreshConversation = async (id) => {
    if (!id) return;
    try {
      const conv = await api(callPath(id));
      const mineNow = myParticipant(conv, me);
      const keep = phase(mineNow) !== null;
      // Over for me (talked, hung up, wrapped up if asked): its log, when the browser writes it.
      if (!keep && mineNow?.connectedTime && mineNow.state === 'disconnected') ended.current(id);
      setConvs((all) => {
        const { [id]: _, ...rest } = all;
        return keep ? { ...rest, [id]: conv } : rest;
      });
    } catch (err) {
      if (err?.status === 404 || err?.status === 403) setConvs((all) => { const { [id]: _, ...rest } = all; return rest; });
      else fail(err);
    }
  };
  const loadConversations = async () => {
    try {
      const page = await api('/api/v2/conversations', { query: { pageSize: 100 } });
      const all = {};
      for (const c of page?.entities || []) if (phase(myParticipant(c, me))) all[c.id] = c;
      setConvs(all);
      setError((e) => (e?.status === 0 ? null : e));
    } catch (err) {
      fail(err);
    }
  };
  const loadAll = () => { loadStation(); loadPresence(); loadRouting(); loadConversations(); };

  const showPop = (p) => {
    if (!p?.conversationId) return;
    setPop(p);
    pops.current[p.conversationId] = p;
    if (p.callCenterId && textAllowed === null) {
      api(`/api/v2/crm/callcenters/${enc(p.callCenterId)}`).then((cc) => setTextAllowed(!!cc?.allowTextMessage)).catch(() => {});
    }
    if (popped.current.has(p.conversationId)) return;
    popped.current.add(p.conversationId);
    const target = popTarget(p);
    bridge.screenPop(p).catch(() => {});
    if (settingsNow.current.autoMinimize && (target.kind === 'new' || target.kind === 'search')) bridge.setVisible(false);
  };

  useEffect(() => {
    loadAll();
    api('/api/v2/presencedefinitions', { query: { pageSize: 500, deactivated: 'false' } })
      .then((d) => setDefs(d?.entities || [])).catch(fail);
    bridge.init(({ number, recordType, recordId }) => {
      if (!number) return;
      api('/api/v2/crm/clicktodial', { method: 'POST', body: { phone: number, ...(recordId && { recordType, recordId }) } })
        .then(() => setStatus(t('spDialed', { number }))).catch(fail);
    }).catch((err) => console.warn('host bridge', err));
    // The agent opened another record in the host: the live call is linked to it.
    bridge.onNavigation?.(({ recordType, recordId, recordName }) => {
      const id = linkable.current;
      if (!id || !recordId || !recordType || linked.current[id] === recordId) return;
      linked.current[id] = recordId;
      api(`/api/v2/crm/conversations/${enc(id)}/sync`, { method: 'POST', body: { recordType, recordId } })
        .then((rec) => setStatus(tt('linkedTo', { name: rec?.name || recordName || recordId })))
        .catch((err) => { delete linked.current[id]; fail(err); });
    });
    bridge.settings().then((s) => {
      const saved = loadSettings();
      if (!saved.width && !saved.height && s) setSettings((cur) => ({ ...cur, width: s.width || '', height: s.height || '' }));
      else if (saved.width || saved.height) bridge.setSize(saved.width, saved.height);
    }).catch(() => {});
  }, [me.id]);

  useEffect(() => {
    const base = `v2.users.${me.id}`;
    const n = openNotifications({
      topics: [`${base}.conversations`, `${base}.presence`, `${base}.routingStatus`, `${base}.station`, `${base}.crm.screenpop`, `${base}.messages`],
      onStatus: (s) => setLive((prev) => (s === 'connecting' && prev === 'down' ? 'down' : s)),
      onEvent: ({ topicName, eventBody }) => {
        if (topicName === `${base}.conversations`) refreshConversation(eventBody?.id);
        else if (topicName === `${base}.routingStatus`) setRouting((prev) => newerStatus(prev, eventBody?.routingStatus));
        else if (topicName === `${base}.presence`) loadPresence();
        else if (topicName === `${base}.station`) loadStation();
        else if (topicName === `${base}.crm.screenpop`) showPop(eventBody);
        else if (topicName === `${base}.messages`) setMessageEvent(eventBody);
      },
    });
    return () => n.close();
  }, [me.id]);

  useEffect(() => {
    if (live === 'open') { loadAll(); return undefined; }
    if (live !== 'down') return undefined;
    const id = setInterval(loadAll, POLL_MS);
    return () => clearInterval(id);
  }, [live]);

  const shown = Object.values(convs)
    .map((conv) => { const mine = myParticipant(conv, me); return { conv, mine, phase: phase(mine) }; })
    .filter((c) => c.phase)
    .sort((a, b) => String(b.conv.startTime).localeCompare(String(a.conv.startTime)));
  const current = shown.find((c) => c.phase !== 'wrapup') || shown[0] || null;
  const liveCall = current && current.phase !== 'wrapup' ? current : null;

  // The information panel keeps the last call's data; its id turns 0 once it ends.
  const liveId = liveCall?.conv.id || '';
  useEffect(() => {
    if (liveCall) {
      setLastCallId(liveCall.conv.id);
      setLastData(callData(liveCall.conv));
    } else {
      setLastCallId('0');
    }
  }, [liveId, liveCall && JSON.stringify(callData(liveCall.conv))]);

  // A reload mid-call: the screen pop is read back from the server.
  const connectedId = liveCall && (liveCall.phase === 'connected' || liveCall.phase === 'held') ? liveCall.conv.id : '';
  linkable.current = connectedId;
  useEffect(() => {
    if (!connectedId || pop?.conversationId === connectedId) return;
    api(`/api/v2/crm/conversations/${enc(connectedId)}/screenpop`)
      .then((p) => { if (mounted.current && p) showPop(p); })
      .catch(() => { /* no pop (yet): the event brings it */ });
  }, [connectedId]);

  const changePresence = async (id) => {
    setError(null);
    try {
      setPresence(await api(`${userPath}/presences/purecloud`, { method: 'PATCH', body: { presenceDefinition: { id } } }));
    } catch (err) {
      setError(err);
    }
    loadRouting();
  };

  const now = useNow();
  const supervisor = (me.roles || []).some((r) => r === 'supervisor' || r === 'admin');
  const rs = routing?.status;
  const caller = liveCall ? otherParty(liveCall.conv, liveCall.mine) : '';
  // The call center logs from the browser: once the call is over for the
  // agent (after the wrap-up, when there is one), the server's Task fields
  // go to the host (Open CTI saveLog).
  ended.current = async (convId) => {
    const plan = pops.current[convId]?.plan;
    if (plan?.log?.from !== 'browser' || bridge.name === 'standalone' || logged.current.has(convId)) return;
    logged.current.add(convId);
    try {
      const fields = await api(`/api/v2/crm/conversations/${enc(convId)}/savelog`);
      const res = await bridge.saveLog(fields);
      if (res?.success !== false) setStatus(tt('logSaved'));
    } catch (err) {
      fail(err);
    }
  };
  const saveSettings = (s) => {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(s));
    setSettings(s);
    bridge.setSize(s.width, s.height);
  };

  return html`<div class="sp-body">
    <section class="sp-status" aria-label=${t('spStatus')}>
      <span><span class="visually-hidden">${t('routingStatus')}: </span><strong data-testid="routing-status" data-status=${rs || ''}
        class=${'routing ' + (rs || '').toLowerCase()}>${rs ? (ROUTING_STATUSES.includes(rs) ? t('rs_' + rs) : rs) : '—'}</strong></span>
      <span title=${t('spTimeInState')}><time data-testid="time-in-state">${elapsed(routing?.startTime, now)}</time></span>
      <span class="sp-caller" data-testid="caller">${caller ? html`${t('spCaller')}: <strong>${caller}</strong>` : t('spNoCall')}</span>
      <span class="sp-live" data-live=${live}>${live === 'open' ? '●' : '○'}<span class="visually-hidden">${t(live === 'open' ? 'liveOn' : live === 'down' ? 'liveDown' : 'liveConnecting')}</span></span>
    </section>
    <${ErrorBox} error=${error} />
    <p class="status" role="status">${status}</p>
    <${Station} me=${me} station=${station} userPath=${userPath} onChanged=${() => { loadStation(); loadPresence(); loadRouting(); }} />
    ${station && html`<${BrowserPhone} me=${me} station=${station} />`}
    ${station && html`<${Presence} presence=${presence} defs=${defs} routing=${routing} onChange=${changePresence} />`}
    ${current && html`<${Call} key=${current.conv.id} conv=${current.conv} mine=${current.mine} phase=${current.phase} now=${now}
      onChanged=${() => refreshConversation(current.conv.id)} />`}
    ${pop && pop.conversationId === liveId && html`<${ScreenPop} pop=${pop} bridge=${bridge} />`}
    ${station && !liveCall && html`<${DialForm} onDialed=${(n) => { setStatus(t('spDialed', { number: n })); loadConversations(); }} />`}
    <div class="row sp-tools">
      <button type="button" aria-expanded=${panel === 'info' ? 'true' : 'false'} onClick=${() => setPanel(panel === 'info' ? '' : 'info')}>${t('spInformation')}</button>
      <button type="button" aria-expanded=${panel === 'settings' ? 'true' : 'false'} onClick=${() => setPanel(panel === 'settings' ? '' : 'settings')}>${t('spSettings')}</button>
      ${supervisor && html`<button type="button" aria-expanded=${panel === 'monitor' ? 'true' : 'false'} onClick=${() => setPanel(panel === 'monitor' ? '' : 'monitor')}>${t('spMonitor')}</button>`}
      ${textAllowed !== false && html`<button type="button" aria-expanded=${panel === 'message' ? 'true' : 'false'} onClick=${() => setPanel(panel === 'message' ? '' : 'message')}>${tt('message')}</button>`}
    </div>
    ${panel === 'message' && textAllowed !== false && html`<${MessagePanel} number=${liveCall ? customerNumber(liveCall.conv) : (lastData.phoneNumber || '')} conversationId=${liveId} update=${messageEvent} />`}
    ${panel === 'monitor' && html`<${Monitor} me=${me} />`}
    ${panel === 'info' && html`<${Information} callId=${lastCallId} data=${lastData} />`}
    ${panel === 'settings' && html`<${Settings} settings=${settings} bridge=${bridge} onSave=${saveSettings} />`}
    <${OutboundDesk} me=${me} />
  </div>`;
}

// ---- station ---------------------------------------------------------------------

function Station({ me, station, userPath, onChanged }) {
  const [name, setName] = useState(() => localStorage.getItem(DEVICE_KEY) || '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      setPassword('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      onChanged();
    }
  };
  const submit = (e) => {
    e.preventDefault();
    run(async () => {
      await api(`${userPath}/station`, { method: 'POST', body: { stationName: name.trim(), ...(password && { password }) } });
      localStorage.setItem(DEVICE_KEY, name.trim());
    });
  };
  if (station === undefined) return html`<p class="empty">${t('loading')}</p>`;
  if (station) {
    return html`<section class="sp-station row">
      <span>${t('spDevice')}: <strong data-testid="device">${station.name}</strong></span>
      <button type="button" disabled=${busy} onClick=${() => run(() => api(`${userPath}/station`, { method: 'DELETE' }))}>${t('spLogOut')}</button>
      <${ErrorBox} error=${error} />
    </section>`;
  }
  return html`<form class="sp-station sp-form" onSubmit=${submit}>
    <label><span>${t('spDevice')}</span>
      <input name="device" value=${name} required autocomplete="off" onInput=${(e) => setName(e.currentTarget.value)} /></label>
    <label><span>${t('spUser')}</span>
      <input name="user" value=${me.username || me.name} readonly /></label>
    <label><span>${t('spPassword')}</span>
      <input name="password" type="password" value=${password} autocomplete="off" onInput=${(e) => setPassword(e.currentTarget.value)} /></label>
    <button type="submit" class="primary" disabled=${busy}>${t('spLogIn')}</button>
    <p class="hint">${t('spNeedStation')}</p>
    <${ErrorBox} error=${error} />
  </form>`;
}

// ---- presence: on queue and break states -----------------------------------------

function Presence({ presence, defs, routing, onChange }) {
  const [busy, setBusy] = useState(false);
  const cur = presence?.presenceDefinition;
  const onQueue = cur?.systemPresence === 'On Queue';
  const onQueueId = defs.find((d) => d.systemPresence === 'On Queue' && d.breakNumber == null)?.id || ON_QUEUE_ID;
  const availableId = defs.find((d) => d.systemPresence === 'Available' && d.breakNumber == null)?.id || AVAILABLE_ID;
  const breaks = defs.filter((d) => d.breakNumber != null).sort((a, b) => a.breakNumber - b.breakNumber);
  const others = defs.filter((d) => d.breakNumber == null && d.systemPresence !== 'On Queue' && d.systemPresence !== 'Offline');
  const change = async (id) => {
    if (!id) return;
    setBusy(true);
    try {
      await onChange(id);
    } finally {
      setBusy(false);
    }
  };
  const inList = [...breaks, ...others].some((d) => d.id === cur?.id);
  return html`<section class="sp-presence row">
    <button type="button" class=${onQueue ? '' : 'primary'} disabled=${busy || (onQueue && routing?.status !== 'NOT_RESPONDING')}
      onClick=${() => change(onQueueId)}>${t('spOnQueue')}</button>
    <div class="field"><label for="sp-break">${t('spBreak')}</label>
      <select id="sp-break" data-presence=${cur?.systemPresence || ''} value=${inList ? cur.id : ''} disabled=${busy || defs.length === 0}
        onChange=${(e) => change(e.currentTarget.value || availableId)}>
        <option value="">${onQueue ? t('spOnQueue') : t('spNoBreak')}</option>
        ${breaks.map((d) => html`<option key=${d.id} value=${d.id}>${presenceLabel(d)}</option>`)}
        ${others.map((d) => html`<option key=${d.id} value=${d.id}>${presenceLabel(d)}</option>`)}
      </select></div>
  </section>`;
}

// ---- manual dial -------------------------------------------------------------------

function DialForm({ onDialed }) {
  const [number, setNumber] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('/api/v2/conversations/calls', { method: 'POST', body: { phoneNumber: number.trim() } });
      onDialed(number.trim());
      setNumber('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="sp-dial row" onSubmit=${submit}>
    <label><span>${t('spNumber')}</span>
      <input name="number" type="tel" inputmode="tel" value=${number} required autocomplete="off" pattern="[0-9+*#() -]+"
        onInput=${(e) => setNumber(e.currentTarget.value)} /></label>
    <button type="submit" class="primary" disabled=${busy}>${t('spDial')}</button>
    <${Keypad} label=${t('spKeypad')} onKey=${(k) => setNumber((n) => n + k)} />
    <${ErrorBox} error=${error} />
  </form>`;
}

// ---- the call ------------------------------------------------------------------------

const PHASE_LABEL = { alerting: 'spCallAlerting', dialing: 'spCallDialing', connected: 'spCallConnected', held: 'spCallHeld', wrapup: 'spCallWrapup' };

function Call({ conv, mine, phase: ph, now, onChanged }) {
  const { busy, error, setError, act } = useCallAction(onChanged);
  const [transferOpen, setTransferOpen] = useState(false);
  const [conferenceOpen, setConferenceOpen] = useState(false);
  const [digits, setDigits] = useState('');
  const party = otherParty(conv, mine);
  // The other live parties (monitors and the queue aside); a consult in
  // progress names its consulted party on my participant.
  const others = (conv.participants || []).filter((p) => p.id !== mine.id && LIVE_STATES.has(p.state)
    && p.purpose !== 'monitor' && p.purpose !== 'acd');
  const consultPid = mine.consultParticipantId || '';
  const consulted = consultPid ? (conv.participants || []).find((p) => p.id === consultPid) : null;
  const consulting = !!(consulted && LIVE_STATES.has(consulted.state));
  // The party being transferred: the other live party that is not the consulted one.
  const object = others.find((p) => p.id !== consultPid && (p.purpose === 'customer' || p.purpose === 'external'))
    || others.find((p) => p.id !== consultPid);
  const conference = !consulting && others.length >= 2;
  const partyName = (p) => p.name || stripTel(p.ani) || stripTel(p.address) || p.user?.name || t('unknownCaller');
  const talking = ph === 'connected' || ph === 'held';
  const since = ph === 'alerting' ? mine.startAlertingTime : ph === 'wrapup' ? mine.endTime : mine.connectedTime || mine.startTime;
  const patch = (body) => act(() => api(partPath(conv.id, mine.id), { method: 'PATCH', body }));
  const sendDigits = async (e) => {
    e.preventDefault();
    if (await act(() => api(`/api/v2/conversations/${enc(conv.id)}/participants/${enc(mine.id)}/digits`, { method: 'POST', body: { digits } }))) setDigits('');
  };
  return html`<article class=${'call sp-call ' + ph} aria-label=${t('spCallState')} data-state=${ph} data-conversation=${conv.id}>
    <div class="call-head">
      <strong data-testid="call-party">${party}</strong>
      <span class="badge">${t(PHASE_LABEL[ph])}${talking && mine.muted ? ` · ${t('spMuted')}` : ''}</span>
      ${since && html`<time>${elapsed(since, now)}</time>`}
    </div>
    ${ph === 'alerting' && html`<div class="row">
      <button type="button" class="primary" disabled=${busy} onClick=${() => patch({ state: 'connected' })}>${t('spAnswer')}</button>
      <button type="button" class="danger" disabled=${busy} onClick=${() => patch({ state: 'disconnected' })}>${t('spHangUp')}</button>
    </div>`}
    ${ph === 'dialing' && html`<div class="row">
      <button type="button" class="danger" disabled=${busy} onClick=${() => patch({ state: 'disconnected' })}>${t('spHangUp')}</button>
    </div>`}
    ${talking && html`<div class="row">
        <button type="button" class="danger" disabled=${busy} onClick=${() => patch({ state: 'disconnected' })}>${t('spHangUp')}</button>
        <button type="button" disabled=${busy} onClick=${() => patch({ held: !mine.held })}>${mine.held ? t('spResume') : t('spHold')}</button>
        <button type="button" aria-pressed=${mine.muted ? 'true' : 'false'} disabled=${busy} onClick=${() => patch({ muted: !mine.muted })}>${t('spMute')}</button>
        ${!consulting && html`<button type="button" aria-expanded=${transferOpen ? 'true' : 'false'} disabled=${busy}
          onClick=${() => { setTransferOpen(!transferOpen); setConferenceOpen(false); }}>${t('spTransfer')}</button>
        <button type="button" aria-expanded=${conferenceOpen ? 'true' : 'false'} disabled=${busy}
          onClick=${() => { setConferenceOpen(!conferenceOpen); setTransferOpen(false); }}>${t('spConference')}</button>`}
      </div>
      ${others.length > 1 && html`<ul class="sp-parties" aria-label=${t('spParties')}>
        ${others.map((p) => html`<li key=${p.id} data-participant=${p.id} data-purpose=${p.purpose} data-state=${p.state}
          data-consulted=${p.id === consultPid ? 'true' : null}>${partyName(p)} <span class="meta">${t(p.state === 'connected' ? 'spCallConnected' : p.state === 'alerting' ? 'spCallAlerting' : 'spCallDialing')}${p.held ? ` · ${t('spCallHeld')}` : ''}</span></li>`)}
      </ul>`}
      ${consulting && html`<div class="row sp-consult" role="group" aria-label=${t('spAttendedTransfer')} data-state=${consulted.state}>
        <span>${t('spConsulting', { name: partyName(consulted) })}</span>
        <button type="button" class="primary" disabled=${busy || consulted.state !== 'connected' || !object}
          onClick=${() => act(() => api(`${partPath(conv.id, object.id)}/consult/complete`, { method: 'POST' }))}>${t('spEndTransfer')}</button>
        <button type="button" disabled=${busy || !object}
          onClick=${() => act(() => api(`${partPath(conv.id, object.id)}/consult`, { method: 'DELETE' }))}>${t('spCancelTransfer')}</button>
      </div>`}
      ${conference && html`<div class="row sp-conference" role="group" aria-label=${t('spConference')}>
        <button type="button" disabled=${busy} onClick=${() => act(() => api(`${callPath(conv.id)}/conference/kickall`, { method: 'POST' }))}>${t('spKickAll')}</button>
        <button type="button" class="danger" disabled=${busy} onClick=${() => act(() => api(`${callPath(conv.id)}/conference`, { method: 'DELETE' }))}>${t('spEndConference')}</button>
      </div>`}
      <form class="row" onSubmit=${sendDigits}>
        <label><span>${t('spDigits')}</span>
          <input name="digits" value=${digits} required maxlength="64" pattern="[0-9*#A-Da-d]+" inputmode="tel" autocomplete="off"
            onInput=${(e) => setDigits(e.currentTarget.value.toUpperCase())} /></label>
        <button type="submit" disabled=${busy}>${t('spSendDtmf')}</button>
        <${Keypad} label=${t('spKeypad')} onKey=${(k) => { if (!phoneKey(k)) setDigits((d) => d + k); }} />
      </form>
      ${transferOpen && !consulting && html`<${Transfer} conv=${conv} mine=${mine} busy=${busy} canConsult=${!!object && others.length === 1}
        onTransfer=${async (kind, target, attended) => {
          const body = kind === 'queue' ? { queueId: target } : kind === 'agent' ? { userId: target } : { address: target };
          // Attended: the party to transfer (the caller) waits on hold while I talk to the destination.
          const path = attended ? `${partPath(conv.id, object.id)}/consult/${kind}` : `/api/v2/conversations/${enc(conv.id)}/participants/${enc(mine.id)}/replace/${kind}`;
          if (await act(() => api(path, { method: 'POST', body: attended ? { ...body, speakTo: 'DESTINATION' } : body }))) setTransferOpen(false);
        }} />`}
      ${conferenceOpen && !consulting && html`<${Invite} mine=${mine} busy=${busy} onInvite=${async (invitee) => {
        if (await act(() => api(`${callPath(conv.id)}/participants`, { method: 'POST', body: { participants: [invitee] } }))) setConferenceOpen(false);
      }} />`}`}
    ${ph === 'wrapup' && html`<${Wrapup} conv=${conv} mine=${mine} busy=${busy}
      onSubmit=${(body) => act(() => api(partPath(conv.id, mine.id), { method: 'PATCH', body }))} />`}
    <${ErrorBox} error=${error} />
  </article>`;
}

// Transfer: a typed number (with the campaign's transfer numbers offered),
// a user or a queue.
function Transfer({ conv, mine, busy, canConsult, onTransfer }) {
  const [kind, setKind] = useState('external');
  const [target, setTarget] = useState('');
  const [lists, setLists] = useState({});
  const [error, setError] = useState(null);
  const campaignId = callData(conv).campaignId || callData(conv).campaignBaseId || '';
  useEffect(() => {
    if (kind === 'queue' && !lists.queue) listAll('/api/v2/routing/queues').then((q) => setLists((l) => ({ ...l, queue: q }))).catch(setError);
    if (kind === 'agent' && !lists.agent) listAll('/api/v2/users').then((u) => setLists((l) => ({ ...l, agent: u }))).catch(setError);
  }, [kind]);
  useEffect(() => {
    (async () => {
      let id = campaignId;
      if (!id) id = (await api('/api/v2/users/me/outboundcampaign').catch(() => null))?.campaignId || '';
      if (!id) return;
      const c = await api(`/api/v2/outbound/campaigns/${enc(id)}`);
      setLists((l) => ({ ...l, numbers: c?.transferNumbers || [] }));
    })().catch(() => {});
  }, [campaignId]);
  const submit = (e) => {
    e.preventDefault();
    onTransfer(kind, target.trim(), e.submitter?.name === 'attended');
  };
  const pick = (list, label) => html`<select id="sp-transfer-target" value=${target} required onChange=${(e) => setTarget(e.currentTarget.value)}>
    <option value="">${t('spChoose')}</option>
    ${(list || []).map((x) => html`<option key=${x.id} value=${x.id}>${label(x)}</option>`)}
  </select>`;
  return html`<form class="sp-transfer" onSubmit=${submit}>
    <div class="field"><label for="sp-transfer-kind">${t('spTransferKind')}</label>
      <select id="sp-transfer-kind" value=${kind} onChange=${(e) => { setKind(e.currentTarget.value); setTarget(''); }}>
        <option value="external">${t('spKindNumber')}</option>
        <option value="agent">${t('spKindUser')}</option>
        <option value="queue">${t('spKindQueue')}</option>
      </select></div>
    <div class="field"><label for="sp-transfer-target">${t('spTarget')}</label>
      ${kind === 'external' && html`<input id="sp-transfer-target" type="tel" value=${target} required autocomplete="off" list="sp-transfer-numbers"
        onInput=${(e) => setTarget(e.currentTarget.value)} />
        <datalist id="sp-transfer-numbers">${(lists.numbers || []).map((n) => html`<option value=${n.number}>${n.name}</option>`)}</datalist>`}
      ${kind === 'agent' && pick(lists.agent?.filter((u) => u.id !== mine.user?.id), (u) => `${u.name} (${u.username})`)}
      ${kind === 'queue' && pick(lists.queue, (q) => q.name)}
    </div>
    ${kind === 'external' && (lists.numbers || []).length > 0 && html`<div class="row" role="group" aria-label=${t('spCampaignNumbers')}>
      ${lists.numbers.map((n) => html`<button type="button" class="secondary" disabled=${busy} onClick=${() => onTransfer('external', n.number)}>${n.name}</button>`)}
    </div>`}
    <div class="row">
      <button type="submit" name="direct" class="secondary" disabled=${busy}>${t('spDirectTransfer')}</button>
      ${canConsult && html`<button type="submit" name="attended" class="secondary" disabled=${busy}>${t('spAttendedTransfer')}</button>`}
    </div>
    <${ErrorBox} error=${error} />
  </form>`;
}

// Invite: a number or a user into the call (a conference once they answer).
function Invite({ mine, busy, onInvite }) {
  const [kind, setKind] = useState('external');
  const [target, setTarget] = useState('');
  const [users, setUsers] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (kind === 'agent' && !users) listAll('/api/v2/users').then(setUsers).catch(setError);
  }, [kind]);
  const submit = (e) => {
    e.preventDefault();
    onInvite(kind === 'agent' ? { userId: target } : { address: target.trim() });
  };
  return html`<form class="sp-transfer sp-invite" aria-label=${t('spConference')} onSubmit=${submit}>
    <div class="field"><label for="sp-invite-kind">${t('spInviteKind')}</label>
      <select id="sp-invite-kind" value=${kind} onChange=${(e) => { setKind(e.currentTarget.value); setTarget(''); }}>
        <option value="external">${t('spKindNumber')}</option>
        <option value="agent">${t('spKindUser')}</option>
      </select></div>
    <div class="field"><label for="sp-invite-target">${t('spInvitee')}</label>
      ${kind === 'external' ? html`<input id="sp-invite-target" type="tel" value=${target} required autocomplete="off"
        onInput=${(e) => setTarget(e.currentTarget.value)} />`
      : html`<select id="sp-invite-target" value=${target} required onChange=${(e) => setTarget(e.currentTarget.value)}>
        <option value="">${users ? t('spChoose') : t('loading')}</option>
        ${(users || []).filter((u) => u.id !== mine.user?.id).map((u) => html`<option key=${u.id} value=${u.id}>${u.name} (${u.username})</option>`)}
      </select>`}
    </div>
    <button type="submit" class="secondary" disabled=${busy}>${t('spInvite')}</button>
    <${ErrorBox} error=${error} />
  </form>`;
}

// Keypad: 0-9 * # buttons that type into a field.
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];
function Keypad({ label, onKey }) {
  return html`<div class="sp-keypad" role="group" aria-label=${label}>
    ${KEYS.map((k) => html`<button type="button" key=${k} onClick=${() => onKey(k)}>${k}</button>`)}
  </div>`;
}

// Monitor (supervisors): the agents on calls, to listen to or coach.
function Monitor({ me }) {
  const [convs, setConvs] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [session, setSession] = useState(null); // { convId, participantId, agent, mode }
  const load = () => api('/api/v2/conversations/monitorable').then((r) => setConvs(r?.entities || [])).catch(setError);
  useEffect(() => { load(); const id = setInterval(load, POLL_MS); return () => clearInterval(id); }, []);
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      load();
    }
  };
  const start = (conv, agent, mode) => run(async () => {
    const r = await api(`${partPath(conv.id, agent.id)}/${mode === 'whisper' ? 'coach' : 'monitor'}`, { method: 'POST' });
    setSession({ convId: conv.id, participantId: r?.participantId, agent: agent.name || agent.user?.name || '', mode });
  });
  const stop = () => run(async () => {
    await api(partPath(session.convId, session.participantId), { method: 'PATCH', body: { state: 'disconnected' } });
    setSession(null);
  });
  const rows = [];
  for (const c of convs || []) {
    for (const p of c.participants || []) {
      if ((p.purpose === 'agent' || p.purpose === 'user') && p.state === 'connected' && p.user?.id !== me.id) rows.push({ conv: c, agent: p });
    }
  }
  const mode = (m) => t(m === 'whisper' ? 'spWhisper' : 'spListen');
  return html`<section class="sp-monitor" aria-label=${t('spMonitor')}>
    ${session && html`<div class="row" data-testid="monitoring" data-mode=${session.mode}>
      <span>${mode(session.mode)}: <strong>${session.agent}</strong></span>
      <button type="button" class="danger" disabled=${busy} onClick=${stop}>${t('spEndMonitoring')}</button>
    </div>`}
    ${convs === null ? html`<p class="loading">${t('loading')}</p>`
    : rows.length === 0 ? html`<p class="empty">${t('spNoAgentsOnCalls')}</p>`
    : html`<ul class="sp-parties">${rows.map(({ conv, agent }) => html`<li key=${agent.id} data-conversation=${conv.id}>
        <span role="group" aria-label=${agent.name || agent.user?.name || ''}>
          <strong>${agent.name || agent.user?.name}</strong> <span class="meta">${otherParty(conv, agent)}</span>
          <button type="button" disabled=${busy} onClick=${() => start(conv, agent, 'listen')}>${t('spListen')}</button>
          <button type="button" disabled=${busy} onClick=${() => start(conv, agent, 'whisper')}>${t('spWhisper')}</button>
        </span></li>`)}</ul>`}
    <${ErrorBox} error=${error} />
  </section>`;
}

function Wrapup({ conv, mine, busy, onSubmit }) {
  const [codes, setCodes] = useState(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState(null);
  const queueId = mine.queue?.id;
  useEffect(() => {
    (async () => {
      let list = queueId ? await listAll(`/api/v2/routing/queues/${enc(queueId)}/wrapupcodes`) : [];
      if (list.length === 0) list = await listAll('/api/v2/routing/wrapupcodes');
      setCodes(list);
    })().catch(setError);
  }, [conv.id, queueId]);
  const submit = (e) => {
    e.preventDefault();
    onSubmit({ wrapup: { code } });
  };
  return html`<form class="row" onSubmit=${submit}>
    <div class="field"><label for="sp-wrapup">${t('spWrapupCode')}</label>
      <select id="sp-wrapup" value=${code} required disabled=${!codes} onChange=${(e) => setCode(e.currentTarget.value)}>
        <option value="">${codes ? t('spChoose') : t('loading')}</option>
        ${(codes || []).map((c) => html`<option key=${c.id} value=${c.id}>${c.category ? `${c.category} - ` : ''}${c.subcategory || c.name}</option>`)}
      </select></div>
    <button type="submit" disabled=${busy || !codes}>${t('spDone')}</button>
    ${!mine.wrapupRequired && html`<button type="button" disabled=${busy} onClick=${() => onSubmit({ wrapupSkipped: true })}>${t('spSkip')}</button>`}
    <${ErrorBox} error=${error} />
  </form>`;
}

// ---- screen pop, information, settings ----------------------------------------------

function ScreenPop({ pop, bridge }) {
  const [synced, setSynced] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const target = popTarget(pop);
  const sync = async () => {
    setBusy(true);
    setError(null);
    try {
      setSynced(await api(`/api/v2/crm/conversations/${enc(pop.conversationId)}/sync`, { method: 'POST', body: {} }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const rec = target.record;
  const label = target.kind === 'open' ? 'spRecordFound' : target.kind === 'new' ? 'spNewRecord' : target.kind === 'search' ? 'spSearch' : 'spNoRecord';
  const url = recordURL(target);
  return html`<section class="sp-pop" aria-label=${t('spScreenPop')} data-kind=${target.kind} data-record=${target.recordId}>
    <span class="badge">${t(label)}</span>
    ${rec && html`<strong data-testid="pop-record">${rec.name || rec.id}</strong> <span class="meta">${rec.type}</span>`}
    ${target.kind === 'search' && html`<span class="meta">${t('spMatches', { count: target.matches.length })}</span>`}
    ${(rec?.phones || []).map((p) => html` <a href=${'tel:' + p} data-record-type=${rec.type} data-record-id=${rec.id}>${p}</a>`)}
    ${bridge.name === 'standalone' && target.kind !== 'none' && html` <a href=${url} target="_blank" rel="noopener">${t('spOpenRecord')}</a>`}
    ${pop.error && html`<p class="hint">${pop.error}</p>`}
    ${target.kind === 'new' && html`<div class="row">
      <button type="button" disabled=${busy} onClick=${sync}>${t('spSync')}</button>
      ${synced && html`<span class="status" role="status" data-testid="synced-record">${t('spSynced', { name: synced.name || synced.id })}</span>`}
    </div>`}
    <${ErrorBox} error=${error} />
  </section>`;
}

function Information({ callId, data }) {
  const rows = [
    ['spLastCallId', callId, 'info-call-id'],
    ['spContactId', data.contactId],
    ['spListId', data.contactBaseId || data.contactListId],
    ['spSchemaId', data.schemaId],
    ['spSearchKey', data.SearchData || data.crmKey || data.CLAVESF],
  ];
  return html`<section class="sp-info" aria-label=${t('spInformation')}>
    <dl class="figures">${rows.map(([k, v, id]) => html`<div key=${k}><dt>${t(k)}</dt><dd data-testid=${id || null}>${v || '—'}</dd></div>`)}</dl>
  </section>`;
}

function Settings({ settings, bridge, onSave }) {
  const [s, setS] = useState(settings);
  const [saved, setSaved] = useState(false);
  const submit = (e) => {
    e.preventDefault();
    onSave(s);
    setSaved(true);
  };
  const set = (k) => (e) => { setSaved(false); setS({ ...s, [k]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value }); };
  return html`<form class="sp-settings sp-form" aria-label=${t('spSettings')} onSubmit=${submit}>
    <label><span>${t('spWidth')}</span><input name="width" type="number" min="200" max="1920" value=${s.width} onInput=${set('width')} /></label>
    <label><span>${t('spHeight')}</span><input name="height" type="number" min="240" max="2560" value=${s.height} onInput=${set('height')} /></label>
    <label class="check"><input type="checkbox" name="autoMinimize" checked=${!!s.autoMinimize} onChange=${set('autoMinimize')} /> ${t('spAutoMinimize')}</label>
    <button type="submit">${t('spSave')}</button>
    <p class="status" role="status">${saved ? t('spSaved') : ''}</p>
    <p class="hint">${t('spHost', { name: bridge.name })}</p>
  </form>`;
}

const root = document.getElementById('app');
root.textContent = ''; // the static "Loading…"
render(html`<${Root} />`, root);
