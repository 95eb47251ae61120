// Telephony in the console: SIP trunks (admins) and call recordings
// (supervisors and admins; agents for their own calls, from the Agent
// view). Everything goes through the public API: /api/v2/telephony/sip/trunks
// and /api/v2/conversations/{id}/recordings (docs/telephony.md).

import { h } from 'preact';
import { useState, useEffect } from 'preact/hooks';
import htm from 'htm';
import { api, listAll } from './api.js';
import { getToken } from './auth.js';
import { ErrorBox } from './errors.js';
import { Pager } from './pager.js';
import { useWavPlayer } from './wavplayer.js';
import { t, getLang, translator } from './i18n.js';

const html = htm.bind(h);
const enc = encodeURIComponent;
const TRUNKS = '/api/v2/telephony/sip/trunks';

// This page's own texts (the shared dictionary only holds the tab names).
const texts = {
  en: {
    trunkAddress: 'Address (host:port)', trunkUser: 'Digest user', trunkPassword: 'Digest password',
    trunkCountry: 'Default country', trunkCallerId: 'Caller id', trunkDids: 'Numbers (DIDs)',
    trunkDidsHint: 'One per line: number = queue, e.g. +34910000001 = Ventas',
    createTrunk: 'Add trunk', trunkPasswordSet: 'set', trunkNoPassword: 'none',
    editTrunk: 'Edit trunk', saveTrunk: 'Save trunk', trunkSaved: 'Trunk saved.',
    trunkPasswordKeep: 'Leave empty to keep the current password.', trunkClearPassword: 'Remove the stored password',
    trunkUnknownQueue: 'No queue named "{name}" (line {line}).', trunkBadLine: 'Line {line} is not "number = queue".',
    trunkRegister: 'Register with the carrier', trunkRegisterExpires: 'Registration time (seconds)',
    trunkRegisterHint: 'Uses the digest user and password; the carrier then sends its calls to this switch.',
    trunkRegistration: 'Registration', trunkRegOn: 'on', trunkRegRegistering: 'registering…',
    trunkRegRegistered: 'registered until {time}', trunkRegFailed: 'failed: {error} (retry {time})',
    trunkTransport: 'Transport', trunkUdp: 'UDP', trunkTls: 'TLS (encrypted signalling)',
    trunkTransportHint: 'TLS: port 5061 unless the address names one; the carrier\'s certificate is verified. Needs sip_tls_listen on this server. Audio is encrypted only with SRTP.',
    trunkSrtp: 'Encrypt audio (SRTP)',
    trunkSrtpHint: 'Calls out offer SRTP (SDES keys, sent over TLS) and end if the carrier answers with unencrypted audio. Calls in are encrypted whenever the carrier offers SRTP.',
    recConversation: 'Conversation id', recShow: 'Show recordings', recNone: 'No recordings for this conversation.',
    recStart: 'Started', recDuration: 'Duration', recParticipant: 'Participant', recPlay: 'Play', recStopPlaying: 'Stop', recDownload: 'Download',
    recIntro: 'Recordings are stereo WAV files: left is what the recorded party said, right what it heard.',
    recRecord: 'Record', recStop: 'Stop recording', recordings: 'Recordings',
    recLatest: 'Latest recordings', recNoneYet: 'No recordings yet.', recConversationCol: 'Conversation',
    recShowLatest: 'Show the latest recordings', recOfConversation: 'Recordings of conversation {id}',
  },
  es: {
    trunkAddress: 'Dirección (host:puerto)', trunkUser: 'Usuario digest', trunkPassword: 'Contraseña digest',
    trunkCountry: 'País por defecto', trunkCallerId: 'Identificador de llamada', trunkDids: 'Números (DDI)',
    trunkDidsHint: 'Uno por línea: número = cola, p. ej. +34910000001 = Ventas',
    createTrunk: 'Añadir troncal', trunkPasswordSet: 'sí', trunkNoPassword: 'no',
    editTrunk: 'Editar troncal', saveTrunk: 'Guardar troncal', trunkSaved: 'Troncal guardada.',
    trunkPasswordKeep: 'Déjala vacía para conservar la contraseña actual.', trunkClearPassword: 'Quitar la contraseña guardada',
    trunkUnknownQueue: 'No hay una cola llamada "{name}" (línea {line}).', trunkBadLine: 'La línea {line} no es "número = cola".',
    trunkRegister: 'Registrarse en el operador', trunkRegisterExpires: 'Tiempo de registro (segundos)',
    trunkRegisterHint: 'Usa el usuario y la contraseña digest; el operador envía entonces sus llamadas a esta centralita.',
    trunkRegistration: 'Registro', trunkRegOn: 'sí', trunkRegRegistering: 'registrando…',
    trunkRegRegistered: 'registrada hasta {time}', trunkRegFailed: 'fallido: {error} (reintento {time})',
    trunkTransport: 'Transporte', trunkUdp: 'UDP', trunkTls: 'TLS (señalización cifrada)',
    trunkTransportHint: 'TLS: puerto 5061 salvo que la dirección indique otro; se verifica el certificado del operador. Requiere sip_tls_listen en este servidor. El audio solo va cifrado con SRTP.',
    trunkSrtp: 'Cifrar el audio (SRTP)',
    trunkSrtpHint: 'Las llamadas salientes ofrecen SRTP (claves SDES, enviadas por TLS) y terminan si el operador responde con audio sin cifrar. Las entrantes van cifradas siempre que el operador ofrezca SRTP.',
    recConversation: 'Id de la conversación', recShow: 'Ver grabaciones', recNone: 'Esta conversación no tiene grabaciones.',
    recStart: 'Inicio', recDuration: 'Duración', recParticipant: 'Participante', recPlay: 'Escuchar', recStopPlaying: 'Parar', recDownload: 'Descargar',
    recIntro: 'Las grabaciones son WAV estéreo: a la izquierda lo que dijo la parte grabada, a la derecha lo que oyó.',
    recRecord: 'Grabar', recStop: 'Dejar de grabar', recordings: 'Grabaciones',
    recLatest: 'Últimas grabaciones', recNoneYet: 'Todavía no hay grabaciones.', recConversationCol: 'Conversación',
    recShowLatest: 'Ver las últimas grabaciones', recOfConversation: 'Grabaciones de la conversación {id}',
  },
};
const tt = translator(texts);

const seconds = (ms) => `${Math.round((ms || 0) / 100) / 10} s`;

// ---- trunks -----------------------------------------------------------------

// parseDids reads "number = queue name" lines into the API's dids.
export function parseDids(text, queues) {
  const dids = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const m = line.match(/^([^=]+)=(.+)$/);
    if (!m) throw { message: tt('trunkBadLine', { line: i + 1 }) };
    const name = m[2].trim();
    const q = queues.find((x) => x.name.toLowerCase() === name.toLowerCase() || x.id === name);
    if (!q) throw { message: tt('trunkUnknownQueue', { name, line: i + 1 }) };
    dids.push({ number: m[1].trim(), queueId: q.id });
  }
  return dids;
}

const emptyTrunk = { name: '', address: '', username: '', password: '', clearPassword: false, defaultCountry: 'ES', callerId: '', dids: '',
  register: false, registerExpires: '3600', transport: 'udp', srtp: false };

// trunkValues fills the form from a listed trunk. The password is never
// returned: empty on PUT keeps the stored one (clearPassword removes it).
function trunkValues(tr, queueName) {
  return { ...emptyTrunk, name: tr.name, address: tr.address, username: tr.username || '',
    defaultCountry: tr.defaultCountry || '', callerId: tr.callerId || '',
    dids: (tr.dids || []).map((d) => `${d.number} = ${queueName(d.queueId)}`).join('\n'),
    register: !!tr.register, registerExpires: String(tr.registerExpires || 3600), transport: tr.transport || 'udp', srtp: !!tr.srtp };
}

const when = (iso) => new Date(iso).toLocaleString(getLang());

// registrationText says how a trunk's registration goes: the live state
// when the server runs the SIP switch, else only that it is on.
function registrationText(tr) {
  if (!tr.register) return '—';
  const r = tr.registration;
  if (!r) return tt('trunkRegOn');
  if (r.state === 'registered') return tt('trunkRegRegistered', { time: when(r.expiresAt) });
  if (r.state === 'failed') return tt('trunkRegFailed', { error: r.error || '', time: r.retryAt ? when(r.retryAt) : '' });
  return tt('trunkRegRegistering');
}

export function TrunksSection({ isAdmin }) {
  const [trunks, setTrunks] = useState(null);
  const [queues, setQueues] = useState([]);
  const [values, setValues] = useState(emptyTrunk);
  const [editing, setEditing] = useState(null); // the trunk being edited, or null when adding
  const [error, setError] = useState(null);
  const [formError, setFormError] = useState(null);
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);
  const reload = () => setVersion((v) => v + 1);

  useEffect(() => {
    api(TRUNKS).then((d) => { setTrunks(d?.entities || []); setError(null); }).catch(setError);
  }, [version]);
  useEffect(() => { listAll('/api/v2/routing/queues').then(setQueues).catch(setError); }, []);
  // Registrations change on their own (refreshes, failures, retries):
  // while a trunk registers, the list is read again every 10 s.
  useEffect(() => {
    if (!trunks?.some((tr) => tr.register)) return undefined;
    const timer = setTimeout(reload, 10000);
    return () => clearTimeout(timer);
  }, [trunks]);
  const queueName = (id) => queues.find((q) => q.id === id)?.name || id;

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setFormError(null);
    setStatus('');
    try {
      // registerExpires always goes: PUT replaces the trunk, and the time
      // is kept for when registering is turned on again.
      const body = { name: values.name, address: values.address, defaultCountry: values.defaultCountry,
        dids: parseDids(values.dids, queues), register: values.register, registerExpires: Number(values.registerExpires) || 0,
        transport: values.transport, srtp: values.transport === 'tls' && values.srtp };
      if (values.username) body.username = values.username;
      if (values.password) body.password = values.password;
      if (values.callerId) body.callerId = values.callerId;
      if (editing) {
        // PUT replaces the trunk: an empty user or caller id clears it, an
        // empty password keeps the stored one.
        if (values.clearPassword && !values.password) body.clearPassword = true;
        await api(`${TRUNKS}/${enc(editing.id)}`, { method: 'PUT', body });
        setStatus('trunkSaved');
      } else {
        await api(TRUNKS, { method: 'POST', body });
        setStatus('created');
      }
      setValues(emptyTrunk);
      setEditing(null);
      reload();
    } catch (err) {
      setFormError(err);
    } finally {
      setBusy(false);
    }
  };
  const edit = (tr) => {
    setEditing(tr);
    setValues(trunkValues(tr, queueName));
    setFormError(null);
    setStatus('');
  };
  const cancel = () => {
    setEditing(null);
    setValues(emptyTrunk);
    setFormError(null);
  };
  const remove = async (tr) => {
    setError(null);
    setStatus('');
    try {
      await api(`${TRUNKS}/${enc(tr.id)}`, { method: 'DELETE' });
      if (editing?.id === tr.id) cancel();
      setStatus('deleted');
      reload();
    } catch (err) {
      setError(err);
    }
  };
  const set = (name) => (e) => setValues({ ...values, [name]: e.currentTarget.value });
  const invalid = new Set((formError?.details || []).map((d) => d.fieldName.replace(/\[.*$/, '')));
  // A hint sits inside the label for layout, so the input names itself by
  // the label's text alone and points at the hint as its description.
  const field = (name, label, type = 'text', required = false, hint = '') => html`<label>
    <span id=${`trunk-${name}-label`}>${tt(label)}</span>
    <input name=${name} type=${type} value=${values[name]} required=${required}
      autocomplete=${type === 'password' ? 'new-password' : 'off'}
      aria-labelledby=${hint ? `trunk-${name}-label` : undefined}
      aria-describedby=${hint ? `trunk-${name}-hint` : undefined}
      aria-invalid=${invalid.has(name) ? 'true' : undefined} onInput=${set(name)} />
    ${hint && html`<small class="hint" id=${`trunk-${name}-hint`}>${hint}</small>`}
  </label>`;

  return html`<div class="resource trunks">
    ${isAdmin && html`<form class="create" onSubmit=${submit} aria-label=${editing ? tt('editTrunk') : tt('createTrunk')}>
      ${field('name', 'name', 'text', true)}
      ${field('address', 'trunkAddress', 'text', true)}
      <label><span id="trunk-transport-label">${tt('trunkTransport')}</span>
        <select name="transport" value=${values.transport} onChange=${set('transport')}
          aria-labelledby="trunk-transport-label" aria-describedby="trunk-transport-hint"
          aria-invalid=${invalid.has('transport') ? 'true' : undefined}>
          <option value="udp">${tt('trunkUdp')}</option>
          <option value="tls">${tt('trunkTls')}</option>
        </select>
        <small class="hint" id="trunk-transport-hint">${tt('trunkTransportHint')}</small></label>
      ${values.transport === 'tls' && html`<label class="check"><input type="checkbox" name="srtp" checked=${values.srtp}
        aria-labelledby="trunk-srtp-label" aria-describedby="trunk-srtp-hint"
        aria-invalid=${invalid.has('srtp') ? 'true' : undefined}
        onChange=${(e) => setValues({ ...values, srtp: e.currentTarget.checked })} />
        <span id="trunk-srtp-label">${tt('trunkSrtp')}</span>
        <small class="hint" id="trunk-srtp-hint">${tt('trunkSrtpHint')}</small></label>`}
      ${field('username', 'trunkUser')}
      ${field('password', 'trunkPassword', 'password', false, editing ? tt('trunkPasswordKeep') : '')}
      ${editing?.hasPassword && html`<label class="check"><input type="checkbox" name="clearPassword" checked=${values.clearPassword}
        disabled=${!!values.password} onChange=${(e) => setValues({ ...values, clearPassword: e.currentTarget.checked })} />
        <span>${tt('trunkClearPassword')}</span></label>`}
      ${field('defaultCountry', 'trunkCountry')}
      ${field('callerId', 'trunkCallerId', 'tel')}
      <label class="check"><input type="checkbox" name="register" checked=${values.register}
        aria-labelledby="trunk-register-label" aria-describedby="trunk-register-hint"
        onChange=${(e) => setValues({ ...values, register: e.currentTarget.checked })} />
        <span id="trunk-register-label">${tt('trunkRegister')}</span>
        <small class="hint" id="trunk-register-hint">${tt('trunkRegisterHint')}</small></label>
      ${values.register && html`<label><span>${tt('trunkRegisterExpires')}</span>
        <input name="registerExpires" type="number" min="60" max="86400" step="1" value=${values.registerExpires}
          aria-invalid=${invalid.has('registerExpires') ? 'true' : undefined} onInput=${set('registerExpires')} /></label>`}
      <label class="full" style=${{ flexBasis: '100%' }}><span>${tt('trunkDids')}</span>
        <textarea name="dids" rows="3" style=${{ width: '100%', maxWidth: '40rem' }} placeholder=${tt('trunkDidsHint')} value=${values.dids}
          aria-invalid=${invalid.has('dids') ? 'true' : undefined} onInput=${set('dids')}></textarea>
      </label>
      <button type="submit" disabled=${busy}>${editing ? tt('saveTrunk') : tt('createTrunk')}</button>
      ${editing && html`<button type="button" onClick=${cancel}>${t('cancel')}</button>`}
      <${ErrorBox} error=${formError} />
    </form>`}
    <p class="status" role="status">${status && tt(status)}</p>
    <${ErrorBox} error=${error} />
    ${trunks && (trunks.length === 0
      ? html`<p class="empty">${t('empty')}</p>`
      : html`<table>
        <thead><tr>
          <th scope="col">${t('name')}</th><th scope="col">${tt('trunkAddress')}</th><th scope="col">${tt('trunkUser')}</th>
          <th scope="col">${tt('trunkPassword')}</th><th scope="col">${tt('trunkCountry')}</th><th scope="col">${tt('trunkCallerId')}</th>
          <th scope="col">${tt('trunkDids')}</th><th scope="col">${tt('trunkRegistration')}</th>
          ${isAdmin && html`<th scope="col"><span class="visually-hidden">${t('actions')}</span></th>`}
        </tr></thead>
        <tbody>${trunks.map((tr) => html`<tr key=${tr.id}>
          <td>${tr.name}</td><td>${tr.address}${tr.transport === 'tls' ? (tr.srtp ? ' (TLS, SRTP)' : ' (TLS)') : ''}</td><td>${tr.username || '—'}</td>
          <td>${tr.hasPassword ? tt('trunkPasswordSet') : tt('trunkNoPassword')}</td>
          <td>${tr.defaultCountry || '—'}</td><td>${tr.callerId || '—'}</td>
          <td>${(tr.dids || []).length === 0 ? '—' : html`<ul class="dids">${tr.dids.map((d) => html`<li key=${d.number}>${d.number} → ${queueName(d.queueId)}</li>`)}</ul>`}</td>
          <td data-registration=${tr.registration?.state || (tr.register ? 'on' : 'off')}>${registrationText(tr)}</td>
          ${isAdmin && html`<td><div class="row">
            <button type="button" aria-label=${t('editItem', { name: tr.name })} onClick=${() => edit(tr)}>${t('edit')}</button>
            <button type="button" class="danger" aria-label=${t('deleteItem', { name: tr.name })}
              onClick=${() => remove(tr)}>${t('delete')}</button>
          </div></td>`}
        </tr>`)}</tbody>
      </table>`)}
  </div>`;
}

// ---- recordings -------------------------------------------------------------

// fetchAudio downloads a recording's WAV with the bearer token, for
// useWavPlayer.
async function fetchAudio(rec) {
  await api(rec.selfUri); // refreshes the token first if it expired
  const res = await fetch(rec.mediaUris.S.mediaUri, { headers: { Authorization: 'Bearer ' + getToken()?.access_token } });
  if (!res.ok) throw { status: res.status, message: `HTTP ${res.status}` };
  return res.arrayBuffer();
}

function RecordingRow({ rec, onConversation }) {
  const [error, setError] = useState(null);
  const { clip, playing, play, stop } = useWavPlayer(() => fetchAudio(rec), setError);
  return html`<tr data-recording=${rec.id} data-conversation=${rec.conversationId} data-duration=${clip ? clip.buffer.duration.toFixed(2) : undefined}>
    ${onConversation && html`<td><button type="button" class="link" title=${rec.conversationId}
      aria-label=${tt('recOfConversation', { id: rec.conversationId })}
      onClick=${() => onConversation(rec.conversationId)}><code>${rec.conversationId.slice(0, 8)}</code></button></td>`}
    <td><time datetime=${rec.startTime}>${new Date(rec.startTime).toLocaleString(getLang())}</time></td>
    <td>${seconds(rec.durationMs)}</td>
    <td>${rec.participantId.slice(0, 8)}</td>
    <td><div class="row">
      ${playing
        ? html`<button type="button" onClick=${stop}>${tt('recStopPlaying')}</button>`
        : html`<button type="button" onClick=${play}>${tt('recPlay')}</button>`}
      ${clip && html`<a href=${clip.url} download=${`recording-${rec.id}.wav`}>${tt('recDownload')}</a>`}
    </div><${ErrorBox} error=${error} /></td>
  </tr>`;
}

// RecordingsList shows a conversation's recordings with a player each.
export function RecordingsList({ conversationId, version = 0 }) {
  const [recs, setRecs] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!conversationId) return;
    api(`/api/v2/conversations/${enc(conversationId)}/recordings`)
      .then((d) => { setRecs(d || []); setError(null); })
      .catch(setError);
  }, [conversationId, version]);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!recs) return null;
  if (recs.length === 0) return html`<p class="empty">${tt('recNone')}</p>`;
  return html`<table class="recordings">
    <thead><tr><th scope="col">${tt('recStart')}</th><th scope="col">${tt('recDuration')}</th>
      <th scope="col">${tt('recParticipant')}</th><th scope="col"><span class="visually-hidden">${tt('recPlay')}</span></th></tr></thead>
    <tbody>${recs.map((r) => html`<${RecordingRow} key=${r.id} rec=${r} />`)}</tbody>
  </table>`;
}

// RecentRecordings pages through the latest recordings of all
// conversations (supervisors and admins), newest first; choosing a
// conversation id filters to that conversation.
const RECENT_PAGE = 25;
export function RecentRecordings({ onConversation }) {
  const [data, setData] = useState(null);
  const [pageNumber, setPageNumber] = useState(1);
  const [error, setError] = useState(null);
  useEffect(() => {
    api('/api/v2/recordings', { query: { pageSize: RECENT_PAGE, pageNumber } })
      .then((d) => { setData(d); setError(null); })
      .catch(setError);
  }, [pageNumber]);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!data) return null;
  const recs = data.entities || [];
  const pages = Math.max(data.pageCount || 1, 1);
  return html`<section aria-label=${tt('recLatest')}>
    <h3>${tt('recLatest')}</h3>
    ${recs.length === 0
      ? html`<p class="empty">${tt('recNoneYet')}</p>`
      : html`<table class="recordings">
        <thead><tr><th scope="col">${tt('recConversationCol')}</th><th scope="col">${tt('recStart')}</th><th scope="col">${tt('recDuration')}</th>
          <th scope="col">${tt('recParticipant')}</th><th scope="col"><span class="visually-hidden">${tt('recPlay')}</span></th></tr></thead>
        <tbody>${recs.map((r) => html`<${RecordingRow} key=${r.id} rec=${r} onConversation=${onConversation} />`)}</tbody>
      </table>`}
    ${pages > 1 && html`<${Pager} list=${{ data, pageNumber, setPageNumber }} />`}
  </section>`;
}

// CallRecordings is the Agent view's part of a call: a record toggle for
// the agent's own leg while connected, and the call's recordings.
export function CallRecordings({ conv, mine, live }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [version, setVersion] = useState(0);
  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      await api(`/api/v2/conversations/calls/${enc(conv.id)}/participants/${enc(mine.id)}`, { method: 'PATCH', body: { recording: !mine.recording } });
      // The file is indexed once the switch closes it: look again shortly.
      if (mine.recording) setTimeout(() => setVersion((v) => v + 1), 1000);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="call-recordings">
    ${live && html`<button type="button" aria-pressed=${mine.recording ? 'true' : 'false'} disabled=${busy}
      onClick=${toggle}>${mine.recording ? tt('recStop') : tt('recRecord')}</button>`}
    <${ErrorBox} error=${error} />
    <${RecordingsList} conversationId=${conv.id} version=${version + (mine.recording ? 1 : 0)} />
  </div>`;
}

// RecordingsSection opens on the latest recordings; a conversation id
// (typed, from ?conversationId= or a row's conversation) narrows it to
// that conversation.
export function RecordingsSection() {
  const [input, setInput] = useState(() => new URLSearchParams(location.search).get('conversationId') || '');
  const [shown, setShown] = useState(input);
  const pick = (id) => { setInput(id); setShown(id); };
  return html`<div class="resource recordings-section">
    <p>${tt('recIntro')}</p>
    <form class="create" onSubmit=${(e) => { e.preventDefault(); setShown(input.trim()); }}>
      <label><span>${tt('recConversation')}</span>
        <input name="conversationId" value=${input} required size="40" onInput=${(e) => setInput(e.currentTarget.value)} /></label>
      <button type="submit">${tt('recShow')}</button>
      ${shown && html`<button type="button" onClick=${() => pick('')}>${tt('recShowLatest')}</button>`}
    </form>
    ${shown
      ? html`<${RecordingsList} key=${shown} conversationId=${shown} />`
      : html`<${RecentRecordings} onConversation=${pick} />`}
  </div>`;
}
