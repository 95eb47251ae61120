// Prompts in the console: the audio the switch plays by name (queue
// waiting messages, music on hold, abandon messages). Supervisors and
// admins see the list and can listen; admins add prompts, upload their
// WAV (8 kHz mono 16-bit PCM, at most 10 MB) and delete them. Built-in
// prompts are read-only; an operator prompt with a built-in name (e.g.
// "moh") replaces it. Everything goes through /api/v2/architect/prompts
// (docs/telephony.md "Prompts and music").

import { h } from 'preact';
import { useState, useEffect } from 'preact/hooks';
import htm from 'htm';
import { api, ApiError } from './api.js';
import { getToken } from './auth.js';
import { ErrorBox } from './errors.js';
import { useWavPlayer } from './wavplayer.js';
import { t, translator } from './i18n.js';

const html = htm.bind(h);
const PROMPTS = '/api/v2/architect/prompts';
const MAX_BYTES = 10 << 20;

const texts = {
  en: {
    promptName: 'Name', promptDescription: 'Description', promptFile: 'WAV file (8 kHz mono 16-bit)',
    promptCreate: 'Add prompt', promptBuiltIn: 'built-in', promptReplaced: 'replaced by yours',
    promptNoAudio: 'no audio yet', promptDuration: 'Duration', promptUpload: 'Upload audio', promptPlay: 'Play',
    promptStop: 'Stop', promptDownload: 'Download', promptKind: 'Kind', promptOwn: 'yours',
    promptTooBig: 'The file is {size} MB; prompts are at most 10 MB.', updated: 'Audio uploaded.',
    promptIntro: 'Queues play their waiting prompt (default queue-wait) and music (default moh); campaigns their abandon prompt (default abandon). ' +
      'Add a prompt with a built-in name to replace it. Convert audio with: sox in.wav -r 8000 -c 1 -b 16 out.wav',
  },
  es: {
    promptName: 'Nombre', promptDescription: 'Descripción', promptFile: 'Archivo WAV (8 kHz mono 16 bits)',
    promptCreate: 'Añadir locución', promptBuiltIn: 'incluida', promptReplaced: 'sustituida por la suya',
    promptNoAudio: 'sin audio', promptDuration: 'Duración', promptUpload: 'Subir audio', promptPlay: 'Escuchar',
    promptStop: 'Parar', promptDownload: 'Descargar', promptKind: 'Tipo', promptOwn: 'propia',
    promptTooBig: 'El archivo ocupa {size} MB; las locuciones ocupan como mucho 10 MB.', updated: 'Audio subido.',
    promptIntro: 'Las colas ponen su locución de espera (por defecto queue-wait) y su música (por defecto moh); las campañas su locución de abandono (por defecto abandon). ' +
      'Añada una locución con el nombre de una incluida para sustituirla. Convierta el audio con: sox in.wav -r 8000 -c 1 -b 16 out.wav',
  },
};
const tt = translator(texts);

const seconds = (ms) => `${Math.round((ms || 0) / 100) / 10} s`;

// upload sends a WAV file as a prompt's audio. The API helper speaks JSON,
// so this is a plain fetch with the bearer token (refreshed first by a
// cheap GET, as the recordings player does).
async function upload(prompt, file) {
  if (file.size > MAX_BYTES) throw { message: tt('promptTooBig', { size: (file.size / (1 << 20)).toFixed(1) }) };
  await api(prompt.selfUri);
  let res;
  try {
    res = await fetch(`${prompt.selfUri}/audio`, {
      method: 'PUT', body: await file.arrayBuffer(),
      headers: { 'Content-Type': 'audio/wav', Accept: 'application/json', Authorization: 'Bearer ' + getToken()?.access_token },
    });
  } catch {
    throw new ApiError(0, null);
  }
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

function PromptRow({ p, isAdmin, onChange, setError }) {
  const [busy, setBusy] = useState(false);
  const { clip, playing, play, stop, forget } = useWavPlayer(async () => {
    await api(p.selfUri); // refreshes the token first if it expired
    const res = await fetch(p.mediaUri, { headers: { Authorization: 'Bearer ' + getToken()?.access_token } });
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
    return res.arrayBuffer();
  }, setError);
  const replace = async (e) => {
    const file = e.currentTarget.files?.[0];
    e.currentTarget.value = '';
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      await upload(p, file);
      forget();
      onChange('updated');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setError(null);
    try {
      await api(p.selfUri, { method: 'DELETE' });
      onChange('deleted');
    } catch (err) {
      setError(err);
    }
  };
  const kind = p.builtIn ? (p.overridden ? `${tt('promptBuiltIn')}, ${tt('promptReplaced')}` : tt('promptBuiltIn')) : tt('promptOwn');
  return html`<tr data-prompt=${p.name} data-builtin=${p.builtIn ? 'true' : 'false'}
    data-duration=${clip ? clip.buffer.duration.toFixed(2) : undefined}>
    <td><code>${p.name}</code></td>
    <td>${p.description || '—'}</td>
    <td>${kind}</td>
    <td>${p.hasAudio ? seconds(p.durationMs) : tt('promptNoAudio')}</td>
    <td><div class="row">
      ${p.hasAudio && (playing
        ? html`<button type="button" onClick=${stop}>${tt('promptStop')}</button>`
        : html`<button type="button" onClick=${play} aria-label=${`${tt('promptPlay')} ${p.name}`}>${tt('promptPlay')}</button>`)}
      ${clip && html`<a href=${clip.url} download=${`${p.name}.wav`}>${tt('promptDownload')}</a>`}
      ${isAdmin && !p.builtIn && html`<label class="upload"><span>${tt('promptUpload')}</span>
        <input type="file" accept=".wav,audio/wav" disabled=${busy} aria-label=${`${tt('promptUpload')} ${p.name}`} onChange=${replace} /></label>`}
      ${isAdmin && !p.builtIn && html`<button type="button" class="danger" aria-label=${t('deleteItem', { name: p.name })}
        onClick=${remove}>${t('delete')}</button>`}
    </div></td>
  </tr>`;
}

const empty = { name: '', description: '' };

export function PromptsSection({ isAdmin }) {
  const [prompts, setPrompts] = useState(null);
  const [values, setValues] = useState(empty);
  const [file, setFile] = useState(null);
  const [error, setError] = useState(null);
  const [formError, setFormError] = useState(null);
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);
  const reload = () => setVersion((v) => v + 1);

  useEffect(() => {
    api(PROMPTS).then((d) => { setPrompts(d?.entities || []); }).catch(setError);
  }, [version]);

  const submit = async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    setBusy(true);
    setFormError(null);
    setStatus('');
    let created = null;
    try {
      if (file && file.size > MAX_BYTES) throw { message: tt('promptTooBig', { size: (file.size / (1 << 20)).toFixed(1) }) };
      created = await api(PROMPTS, { method: 'POST', body: { name: values.name.trim(), description: values.description || undefined } });
      if (file) await upload(created, file);
      setValues(empty);
      setFile(null);
      form.reset();
      setStatus('created');
    } catch (err) {
      setFormError(err);
      if (created) setValues(empty); // it exists: upload its audio from the list
    } finally {
      setBusy(false);
      if (created) reload(); // created even when its upload failed: upload again from the list
    }
  };
  const set = (name) => (e) => setValues({ ...values, [name]: e.currentTarget.value });
  const invalid = new Set((formError?.details || []).map((d) => d.fieldName));

  return html`<div class="resource prompts">
    <p>${tt('promptIntro')}</p>
    ${isAdmin && html`<form class="create" onSubmit=${submit} aria-label=${tt('promptCreate')}>
      <label><span>${tt('promptName')}</span>
        <input name="name" required pattern="[a-z0-9][a-z0-9\\-]{0,63}" value=${values.name} autocomplete="off"
          aria-invalid=${invalid.has('name') ? 'true' : undefined} onInput=${set('name')} /></label>
      <label><span>${tt('promptDescription')}</span>
        <input name="description" value=${values.description} autocomplete="off" onInput=${set('description')} /></label>
      <label><span>${tt('promptFile')}</span>
        <input name="audio" type="file" accept=".wav,audio/wav" aria-invalid=${invalid.has('body') ? 'true' : undefined}
          onChange=${(e) => setFile(e.currentTarget.files?.[0] || null)} /></label>
      <button type="submit" disabled=${busy}>${tt('promptCreate')}</button>
      <${ErrorBox} error=${formError} />
    </form>`}
    <p class="status" role="status">${status && tt(status)}</p>
    <${ErrorBox} error=${error} />
    ${prompts && html`<table>
      <thead><tr>
        <th scope="col">${tt('promptName')}</th><th scope="col">${tt('promptDescription')}</th>
        <th scope="col">${tt('promptKind')}</th><th scope="col">${tt('promptDuration')}</th>
        <th scope="col"><span class="visually-hidden">${t('actions')}</span></th>
      </tr></thead>
      <tbody>${prompts.map((p) => html`<${PromptRow} key=${p.id + ':' + p.dateModified} p=${p} isAdmin=${isAdmin}
        setError=${setError} onChange=${(s) => { setStatus(s); reload(); }} />`)}</tbody>
    </table>`}
  </div>`;
}
