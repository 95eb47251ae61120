// The Agent view: log into a station (device), set presence, go on and off
// queue, and handle calls — answer, hold, mute, DTMF, direct transfer, hang
// up and wrap up. A first, plain softphone over the public API: the state
// comes from REST, kept current by the notification WebSocket (each event
// only says what to re-read), with REST polling while the socket is down.
// Admins and supervisors also get a form that makes a simulated customer
// call a queue (the demo's simulation API).

import { h } from 'preact';
import { useState, useEffect, useRef, useCallback } from 'preact/hooks';
import htm from 'htm';
import { api, listAll } from './api.js';
import { openNotifications } from './notifications.js';
import { ErrorBox } from './errors.js';
import { t, getLang } from './i18n.js';
import { OutboundDesk } from './desk.js';
import { CallRecordings } from './telephony.js';
import { myParticipant, phase, otherParty, elapsed, newerStatus, useNow, useCallAction } from './calls.js';

const html = htm.bind(h);

const POLL_MS = 3000;
const DEVICE_KEY = 'centralita.device';
// The platform's well-known system presence ids, used if the definitions
// cannot be read.
const ON_QUEUE_ID = 'e08eaf1b-ee47-4fa9-a231-1200e284798f';
const AVAILABLE_ID = '6a3af858-942f-489d-9700-5f9bcdcdae9b';
const ROUTING_STATUSES = ['OFF_QUEUE', 'IDLE', 'INTERACTING', 'NOT_RESPONDING', 'COMMUNICATING'];

const enc = encodeURIComponent;
const userPath = (me) => `/api/v2/users/${enc(me.id)}`;
const callPath = (convId) => `/api/v2/conversations/calls/${enc(convId)}`;
const partPath = (convId, partId) => `${callPath(convId)}/participants/${enc(partId)}`;

function presenceLabel(def) {
  const labels = def?.languageLabels || {};
  return (getLang() === 'es' ? labels.es : labels.en_US) || labels.en_US || def?.name || def?.systemPresence || '';
}

// System presences first (as the server lists them), then break states by number.
function sortDefinitions(defs) {
  const system = defs.filter((d) => d.breakNumber == null);
  const breaks = defs.filter((d) => d.breakNumber != null).sort((a, b) => a.breakNumber - b.breakNumber);
  return [...system, ...breaks];
}


// ---- the view ---------------------------------------------------------------

export function AgentView({ me }) {
  const roles = me.roles || [];
  const canSimulate = roles.includes('admin') || roles.includes('supervisor');
  const [station, setStation] = useState(undefined); // undefined: not read yet; null: none
  const [presence, setPresence] = useState(null);
  const [routing, setRouting] = useState(null);
  const [defs, setDefs] = useState([]);
  const [convs, setConvs] = useState({});
  const [live, setLive] = useState('connecting');
  const [error, setError] = useState(null);
  const dismissed = useRef(new Set());
  const inflight = useRef(new Map()); // conversation id → 'running' | 'again'
  const known = useRef({});
  known.current = convs;
  const mounted = useRef(true);
  useEffect(() => () => { mounted.current = false; }, []);

  const fail = useCallback((err) => { if (mounted.current) setError(err); }, []);

  const loadStation = useCallback(() => api(`${userPath(me)}/station`)
    .then((s) => mounted.current && setStation(s?.associatedStation || null)).catch(fail), [me.id]);
  const loadPresence = useCallback(() => api(`${userPath(me)}/presences/purecloud`)
    .then((p) => mounted.current && setPresence(p)).catch(fail), [me.id]);
  const loadRouting = useCallback(() => api(`${userPath(me)}/routingstatus`)
    .then((r) => mounted.current && setRouting((prev) => newerStatus(prev, r))).catch(fail), [me.id]);

  // refreshConversation re-reads one conversation; events that arrive while
  // it is being read cause one more read, not one per event.
  const refreshConversation = useCallback(async (id) => {
    if (!id) return;
    if (inflight.current.has(id)) {
      inflight.current.set(id, 'again');
      return;
    }
    inflight.current.set(id, 'running');
    try {
      for (;;) {
        try {
          const conv = await api(callPath(id));
          // One that no longer asks anything of the agent is forgotten.
          const keep = phase(conv, myParticipant(conv, me), dismissed.current.has(id)) !== null;
          if (mounted.current) {
            setConvs((all) => {
              const { [id]: _, ...rest } = all;
              return keep ? { ...rest, [id]: conv } : rest;
            });
          }
        } catch (err) {
          if (err?.status === 404 || err?.status === 403) {
            if (mounted.current) setConvs((all) => { const { [id]: _, ...rest } = all; return rest; });
          } else {
            fail(err);
          }
        }
        if (inflight.current.get(id) !== 'again') break;
        inflight.current.set(id, 'running');
      }
    } finally {
      inflight.current.delete(id);
    }
  }, [me.id]);

  // loadConversations reads the live list; calls shown here but gone from
  // it (ended, maybe with a wrap-up still to offer) are re-read one by one.
  const loadConversations = useCallback(async () => {
    try {
      const page = await api('/api/v2/conversations', { query: { pageSize: 100 } });
      const listed = Object.fromEntries((page?.entities || []).map((c) => [c.id, c]));
      const gone = Object.entries(known.current)
        .filter(([id, conv]) => !listed[id] && phase(conv, myParticipant(conv, me), dismissed.current.has(id)) !== null)
        .map(([id]) => id);
      if (!mounted.current) return;
      setError((e) => (e?.status === 0 ? null : e)); // the server is back
      setConvs((all) => {
        const next = { ...listed };
        for (const id of gone) if (all[id]) next[id] = all[id];
        return next;
      });
      gone.slice(0, 20).forEach(refreshConversation);
    } catch (err) {
      fail(err);
    }
  }, [me.id, refreshConversation]);

  const loadAll = useCallback(() => {
    loadStation();
    loadPresence();
    loadRouting();
    loadConversations();
  }, [loadStation, loadPresence, loadRouting, loadConversations]);

  useEffect(() => {
    loadAll();
    api('/api/v2/presencedefinitions', { query: { pageSize: 500, deactivated: 'false' } })
      .then((d) => mounted.current && setDefs(sortDefinitions(d?.entities || []))).catch(fail);
  }, [me.id]);

  // Live events.
  useEffect(() => {
    const base = `v2.users.${me.id}`;
    const n = openNotifications({
      topics: [`${base}.conversations`, `${base}.presence`, `${base}.routingStatus`, `${base}.station`],
      onStatus: (s) => setLive((prev) => (s === 'connecting' && prev === 'down' ? 'down' : s)),
      onEvent: ({ topicName, eventBody }) => {
        if (topicName === `${base}.conversations`) refreshConversation(eventBody?.id);
        else if (topicName === `${base}.routingStatus`) setRouting((prev) => newerStatus(prev, eventBody?.routingStatus));
        else if (topicName === `${base}.presence`) loadPresence();
        else if (topicName === `${base}.station`) loadStation();
      },
    });
    return () => n.close();
  }, [me.id]);

  // Resynchronise when the socket opens; poll while it is down.
  useEffect(() => {
    if (live === 'open') {
      loadAll();
      return undefined;
    }
    if (live !== 'down') return undefined;
    const id = setInterval(loadAll, POLL_MS);
    return () => clearInterval(id);
  }, [live]);

  // ---- actions ----

  const changePresence = async (id) => {
    setError(null);
    try {
      const p = await api(`${userPath(me)}/presences/purecloud`, { method: 'PATCH', body: { presenceDefinition: { id } } });
      setPresence(p);
    } catch (err) {
      setError(err);
    }
    loadRouting();
  };
  const onQueueId = defs.find((d) => d.systemPresence === 'On Queue' && d.breakNumber == null)?.id || ON_QUEUE_ID;
  const availableId = defs.find((d) => d.systemPresence === 'Available' && d.breakNumber == null)?.id || AVAILABLE_ID;

  const stationLogin = async ({ stationName, password }) => {
    const s = await api(`${userPath(me)}/station`, { method: 'POST', body: { stationName, ...(password && { password }) } });
    localStorage.setItem(DEVICE_KEY, stationName);
    setStation(s?.associatedStation || null);
    loadPresence();
    loadRouting();
  };
  const stationLogout = async () => {
    await api(`${userPath(me)}/station`, { method: 'DELETE' });
    setStation(null);
    loadPresence();
    loadRouting();
  };

  const dismiss = (id) => {
    dismissed.current.add(id);
    setConvs((all) => ({ ...all }));
    refreshConversation(id);
  };

  const shown = Object.values(convs)
    .map((conv) => {
      const mine = myParticipant(conv, me);
      return { conv, mine, phase: phase(conv, mine, dismissed.current.has(conv.id)) };
    })
    .filter((c) => c.phase && !(dismissed.current.has(c.conv.id) && c.phase.startsWith('wrapup')))
    .sort((a, b) => String(a.conv.startTime).localeCompare(String(b.conv.startTime)));
  const now = useNow(shown.length > 0);
  const ringing = shown.filter((c) => c.phase === 'alerting').map((c) => otherParty(c.conv, c.mine));

  return html`<div class="agent">
    <${ErrorBox} error=${error} />
    <div class="agent-top">
      <${StationPanel} station=${station} onLogin=${stationLogin} onLogout=${stationLogout} />
      <${PresencePanel} presence=${presence} routing=${routing} defs=${defs} live=${live} noStation=${station === null}
        onQueueId=${onQueueId} availableId=${availableId} onChange=${changePresence} />
    </div>
    <section class="card calls-panel" aria-labelledby="calls-title">
      <h3 id="calls-title">${t('calls')}</h3>
      <p class="visually-hidden" role="status">${ringing.map((party) => t('ringingNotice', { party })).join(' ')}</p>
      ${shown.length === 0
        ? html`<p class="empty">${t('noCalls')}</p>`
        : html`<ul class="calls" aria-labelledby="calls-title">
          ${shown.map(({ conv, mine, phase: ph }) => html`<li key=${conv.id}>
            <${Call} conv=${conv} mine=${mine} phase=${ph} me=${me} now=${now}
              onChanged=${() => refreshConversation(conv.id)} onDismiss=${() => dismiss(conv.id)} />
          </li>`)}
        </ul>`}
    </section>
    <${OutboundDesk} me=${me} />
    ${canSimulate && html`<${SimulatePanel} />`}
  </div>`;
}

// Field labels a select with <label for>: a <label> around a select would
// take the options' text into the label's own.
function Field({ id, label, children }) {
  return html`<div class="field"><label for=${id}>${label}</label>${children}</div>`;
}

// ---- station ------------------------------------------------------------------

function StationPanel({ station, onLogin, onLogout }) {
  const [name, setName] = useState(() => localStorage.getItem(DEVICE_KEY) || '');
  const [password, setPassword] = useState('');
  const [stations, setStations] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (station === null) listAll('/api/v2/stations', 5).then(setStations).catch(() => setStations([]));
  }, [station === null]);

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
    }
  };
  const submit = (e) => {
    e.preventDefault();
    run(() => onLogin({ stationName: name.trim(), password }));
  };

  return html`<section class="card" aria-labelledby="station-title">
    <h3 id="station-title">${t('station')}</h3>
    ${station === undefined && html`<p class="empty">${t('loading')}</p>`}
    ${station && html`<div class="row">
      <p class="current">${t('device')}: <strong data-testid="device">${station.name}</strong></p>
      <button type="button" disabled=${busy} onClick=${() => run(onLogout)}>${t('deviceLogOut')}</button>
    </div>`}
    ${station === null && html`<form class="inline" onSubmit=${submit}>
      <label><span>${t('device')}</span>
        <input name="stationName" value=${name} required list="agent-stations" autocomplete="off"
          onInput=${(e) => setName(e.currentTarget.value)} /></label>
      <datalist id="agent-stations">${stations.map((s) => html`<option value=${s.name} />`)}</datalist>
      <label><span>${t('devicePassword')}</span>
        <input name="stationPassword" type="password" value=${password} autocomplete="off"
          onInput=${(e) => setPassword(e.currentTarget.value)} /></label>
      <button type="submit" disabled=${busy}>${t('deviceLogIn')}</button>
    </form>`}
    <${ErrorBox} error=${error} />
  </section>`;
}

// ---- presence and routing status ----------------------------------------------

function PresencePanel({ presence, routing, defs, live, noStation, onQueueId, availableId, onChange }) {
  const [busy, setBusy] = useState(false);
  const current = presence?.presenceDefinition;
  const currentDef = defs.find((d) => d.id === current?.id);
  const onQueue = current?.systemPresence === 'On Queue';
  const status = routing?.status;
  const options = currentDef || !current ? defs : [...defs, { id: current.id, name: current.name, systemPresence: current.systemPresence }];
  const change = async (id) => {
    setBusy(true);
    try {
      await onChange(id);
    } finally {
      setBusy(false);
    }
  };

  return html`<section class="card" aria-labelledby="presence-title">
    <h3 id="presence-title">${t('agentStatus')}</h3>
    <p class="current">${t('currentPresence')}: <strong data-testid="presence" data-presence=${current?.systemPresence || ''}>
      ${current ? presenceLabel(currentDef || current) : '—'}</strong></p>
    <p class="current">${t('routingStatus')}: <strong data-testid="routing-status" data-status=${status || ''}
      class=${'routing ' + (status || '').toLowerCase()}>${status ? (ROUTING_STATUSES.includes(status) ? t('rs_' + status) : status) : '—'}</strong></p>
    <div class="row">
      <${Field} id="agent-presence" label=${t('presenceSelect')}>
        <select id="agent-presence" value=${current?.id || ''} disabled=${busy || defs.length === 0} onChange=${(e) => change(e.currentTarget.value)}>
          ${!current && html`<option value="">—</option>`}
          ${options.map((d) => html`<option key=${d.id} value=${d.id}>${presenceLabel(d)}</option>`)}
        </select><//>
      <button type="button" class="primary" disabled=${busy || noStation || (onQueue && status !== 'NOT_RESPONDING')}
        onClick=${() => change(onQueueId)}>${t('onQueue')}</button>
      <button type="button" disabled=${busy || !onQueue} onClick=${() => change(availableId)}>${t('offQueue')}</button>
    </div>
    ${noStation && html`<p class="hint">${t('needStation')}</p>`}
    <p class="live" data-live=${live} role="status">${t(live === 'open' ? 'liveOn' : live === 'down' ? 'liveDown' : 'liveConnecting')}</p>
  </section>`;
}

// ---- one call -----------------------------------------------------------------

const PHASE_LABEL = {
  alerting: 'callAlerting', dialing: 'callDialing', connected: 'callConnected', held: 'callHeld',
  wrapup: 'callWrapup', wrapupOptional: 'callEnded',
};

function Call({ conv, mine, phase: ph, now, onChanged, onDismiss }) {
  const { busy, error, setError, act } = useCallAction(onChanged);
  const [transferOpen, setTransferOpen] = useState(false);
  const party = otherParty(conv, mine);
  const queue = mine.queue?.name || (conv.participants || []).find((p) => p.queue?.name)?.queue.name;
  const live = ph !== 'wrapup' && ph !== 'wrapupOptional';
  const since = ph === 'alerting' ? mine.startAlertingTime : live ? mine.connectedTime || mine.startTime : mine.endTime;

  const patch = (body) => act(() => api(partPath(conv.id, mine.id), { method: 'PATCH', body }));
  const titleId = `call-${conv.id}`;

  return html`<article class=${'call ' + ph} aria-labelledby=${titleId} data-state=${ph} data-conversation=${conv.id}>
    <div class="call-head">
      <h4 id=${titleId}>${t('callWith', { party })}</h4>
      <span class="badge">${t(PHASE_LABEL[ph])}${live && mine.muted ? ` · ${t('callMuted')}` : ''}</span>
      <span class="meta">${queue ? `${t('queue')}: ${queue} · ` : ''}${conv.direction === 'outbound' ? t('outbound') : t('inbound')}
        ${since && html` · <time>${elapsed(since, now)}</time>`}</span>
    </div>
    ${ph === 'alerting' && html`<div class="row">
      <button type="button" class="primary" disabled=${busy} onClick=${() => patch({ state: 'connected' })}>${t('answer')}</button>
      <button type="button" class="danger" disabled=${busy} onClick=${() => patch({ state: 'disconnected' })}>${t('decline')}</button>
    </div>`}
    ${ph === 'dialing' && html`<div class="row">
      <button type="button" class="danger" disabled=${busy} onClick=${() => patch({ state: 'disconnected' })}>${t('hangUp')}</button>
    </div>`}
    ${(ph === 'connected' || ph === 'held') && html`
      <div class="row">
        <button type="button" class="danger" disabled=${busy} onClick=${() => patch({ state: 'disconnected' })}>${t('hangUp')}</button>
        <button type="button" disabled=${busy} onClick=${() => patch({ held: !mine.held })}>${mine.held ? t('resume') : t('hold')}</button>
        <button type="button" aria-pressed=${mine.muted ? 'true' : 'false'} disabled=${busy}
          onClick=${() => patch({ muted: !mine.muted })}>${t('mute')}</button>
        <button type="button" aria-expanded=${transferOpen ? 'true' : 'false'} disabled=${busy}
          onClick=${() => setTransferOpen(!transferOpen)}>${t('transfer')}</button>
      </div>
      <${DigitsForm} busy=${busy} onSend=${(digits) => act(() => api(`/api/v2/conversations/${enc(conv.id)}/participants/${enc(mine.id)}/digits`,
        { method: 'POST', body: { digits } }))} />
      ${transferOpen && html`<${TransferForm} idBase=${conv.id} meId=${mine.user?.id} busy=${busy} onTransfer=${async (kind, target) => {
        const path = `/api/v2/conversations/${enc(conv.id)}/participants/${enc(mine.id)}/replace/${kind}`;
        const body = kind === 'queue' ? { queueId: target } : kind === 'agent' ? { userId: target } : { address: target };
        if (await act(() => api(path, { method: 'POST', body }))) setTransferOpen(false);
      }} />`}`}
    ${(ph === 'wrapup' || ph === 'wrapupOptional') && html`<${WrapupForm} conv=${conv} mine=${mine} optional=${ph === 'wrapupOptional'}
      onSubmit=${(body) => act(async () => { await api(partPath(conv.id, mine.id), { method: 'PATCH', body }); onDismiss(); })} busy=${busy} />`}
    ${ph !== 'alerting' && ph !== 'dialing' && html`<${CallRecordings} conv=${conv} mine=${mine} live=${ph === 'connected' || ph === 'held'} />`}
    <${ErrorBox} error=${error} />
  </article>`;
}

function DigitsForm({ busy, onSend }) {
  const [digits, setDigits] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    if (await onSend(digits)) setDigits('');
  };
  return html`<form class="inline" onSubmit=${submit}>
    <label><span>${t('digits')}</span>
      <input name="digits" value=${digits} required maxlength="64" pattern="[0-9*#A-Da-d]+" inputmode="tel" autocomplete="off"
        onInput=${(e) => setDigits(e.currentTarget.value.toUpperCase())} /></label>
    <button type="submit" class="secondary" disabled=${busy}>${t('sendDtmf')}</button>
  </form>`;
}

function TransferForm({ idBase, meId, busy, onTransfer }) {
  const [kind, setKind] = useState('queue');
  const [target, setTarget] = useState('');
  const [queues, setQueues] = useState(null);
  const [users, setUsers] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (kind === 'queue' && !queues) listAll('/api/v2/routing/queues').then(setQueues).catch(setError);
    if (kind === 'agent' && !users) listAll('/api/v2/users').then(setUsers).catch(setError);
  }, [kind]);
  const targetId = `transfer-target-${idBase}`;
  const kindId = `transfer-kind-${idBase}`;
  const pick = (list, label) => html`<select id=${targetId} name="target" value=${target} required onChange=${(e) => setTarget(e.currentTarget.value)}>
    <option value="">${t('chooseTarget')}</option>
    ${(list || []).map((x) => html`<option key=${x.id} value=${x.id}>${label(x)}</option>`)}
  </select>`;
  const submit = (e) => {
    e.preventDefault();
    onTransfer(kind, target.trim());
  };
  return html`<form class="inline transfer" onSubmit=${submit}>
    <${Field} id=${kindId} label=${t('transferTo')}>
      <select id=${kindId} name="kind" value=${kind} onChange=${(e) => { setKind(e.currentTarget.value); setTarget(''); }}>
        <option value="queue">${t('queue')}</option>
        <option value="agent">${t('user')}</option>
        <option value="external">${t('number')}</option>
      </select><//>
    <${Field} id=${targetId} label=${t('target')}>
      ${kind === 'queue' && pick(queues, (q) => q.name)}
      ${kind === 'agent' && pick(users?.filter((u) => u.id !== meId), (u) => `${u.name} (${u.username})`)}
      ${kind === 'external' && html`<input id=${targetId} name="target" type="tel" value=${target} required autocomplete="off"
        placeholder="+34911234567" onInput=${(e) => setTarget(e.currentTarget.value)} />`}
    <//>
    <button type="submit" class="secondary" disabled=${busy}>${t('directTransfer')}</button>
    <${ErrorBox} error=${error} />
  </form>`;
}

// WrapupForm offers the queue's wrap-up codes, grouped by category.
function WrapupForm({ conv, mine, optional, busy, onSubmit }) {
  const [codes, setCodes] = useState(null);
  const [code, setCode] = useState('');
  const [notes, setNotes] = useState('');
  const [error, setError] = useState(null);
  const queueId = mine.queue?.id;
  useEffect(() => {
    (async () => {
      // A queue without codes of its own accepts any code.
      let list = queueId ? await listAll(`/api/v2/routing/queues/${enc(queueId)}/wrapupcodes`) : [];
      if (list.length === 0) list = await listAll('/api/v2/routing/wrapupcodes');
      setCodes(list);
    })().catch(setError);
  }, [conv.id, queueId]);

  const groups = new Map();
  for (const c of codes || []) {
    const cat = c.category || t('noCategory');
    if (!groups.has(cat)) groups.set(cat, []);
    groups.get(cat).push(c);
  }
  const submit = (e) => {
    e.preventDefault();
    onSubmit({ wrapup: { code, ...(notes.trim() && { notes: notes.trim() }) } });
  };
  const required = mine.wrapupRequired;
  return html`<form class="wrapup" onSubmit=${submit}>
    <fieldset>
      <legend>${t('categorize')}</legend>
      <p class="hint">${required ? t('wrapupRequired') : t('wrapupOptional')}</p>
      <${Field} id=${'wrapup-code-' + conv.id} label=${t('wrapupCode')}>
        <select id=${'wrapup-code-' + conv.id} name="code" value=${code} required onChange=${(e) => setCode(e.currentTarget.value)} disabled=${!codes}>
          <option value="">${codes ? t('chooseCode') : t('loading')}</option>
          ${[...groups].map(([cat, list]) => html`<optgroup key=${cat} label=${cat}>
            ${list.map((c) => html`<option key=${c.id} value=${c.id}>${c.subcategory || c.name}</option>`)}
          </optgroup>`)}
        </select><//>
      <label><span>${t('notes')}</span>
        <textarea name="notes" rows="2" maxlength="4000" value=${notes} onInput=${(e) => setNotes(e.currentTarget.value)}></textarea></label>
      <div class="row">
        <button type="submit" disabled=${busy || !codes}>${t('wrapupDone')}</button>
        ${optional && !required && html`<button type="button" disabled=${busy}
          onClick=${() => onSubmit({ wrapupSkipped: true })}>${t('wrapupSkip')}</button>`}
      </div>
    </fieldset>
    <${ErrorBox} error=${error} />
  </form>`;
}

// ---- simulation (demo) ----------------------------------------------------------

function SimulatePanel() {
  const [to, setTo] = useState('');
  const [from, setFrom] = useState('');
  const [queues, setQueues] = useState([]);
  const [error, setError] = useState(null);
  const [status, setStatus] = useState(null);
  const [busy, setBusy] = useState(false);
  const [disabled, setDisabled] = useState(false);
  useEffect(() => { listAll('/api/v2/routing/queues', 5).then(setQueues).catch(() => setQueues([])); }, []);

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      await api('/api/v2/simulation/calls', { method: 'POST', body: { to: to.trim(), from: from.trim() } });
      setStatus({ key: 'simulated', to: to.trim() });
    } catch (err) {
      if (err?.code === 'simulation.disabled') setDisabled(true);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="card simulate" aria-labelledby="simulate-title">
    <h3 id="simulate-title">${t('simulateTitle')}</h3>
    ${disabled
      ? html`<p class="empty">${t('simulationDisabled')}</p>`
      : html`<p class="hint">${t('simulateHint')}</p>
        <form class="inline" onSubmit=${submit}>
          <label><span>${t('simTo')}</span>
            <input name="to" value=${to} required list="agent-queues" autocomplete="off" placeholder=${queues[0]?.name || ''}
              onInput=${(e) => setTo(e.currentTarget.value)} /></label>
          <datalist id="agent-queues">${queues.map((q) => html`<option value=${q.name} />`)}</datalist>
          <label><span>${t('simFrom')}</span>
            <input name="caller" type="tel" value=${from} autocomplete="off" placeholder="+34600111222"
              onInput=${(e) => setFrom(e.currentTarget.value)} /></label>
          <button type="submit" disabled=${busy}>${t('simulateCall')}</button>
        </form>`}
    <p class="status" role="status">${status && t(status.key, { to: status.to })}</p>
    <${ErrorBox} error=${error} />
  </section>`;
}
