// The console's outbound sections: contact schemas, contact lists (with CSV
// import and export), do-not-call lists, campaigns and callbacks. All of it
// over /api/v2/outbound (docs/outbound.md); the agent's own outbound panel
// lives in desk.js. Preact + htm, no build step, like app.js.

import { h } from 'preact';
import { useState, useEffect, useRef, useId } from 'preact/hooks';
import htm from 'htm';
import { api, listAll, ApiError, PAGE_SIZE } from './api.js';
import { getToken, refresh, startLogin } from './auth.js';
import { ErrorBox } from './errors.js';
import { t } from './i18n.js';

const html = htm.bind(h);

export const OB = '/api/v2/outbound';
export const enc = encodeURIComponent;

export const FIELD_TYPES = ['text', 'number', 'date', 'email', 'phone', 'Clave_1'];
export const OUTCOMES = ['final', 'retry', 'callback', 'dnc'];
const DIALING_MODES = ['preview', 'progressive', 'power', 'predictive'];
const RETRY_OUTCOMES = ['busy', 'no-answer', 'failed', 'machine', 'agent-disconnected', 'abandoned'];
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const CALLBACK_STATES = ['scheduled', 'placing', 'done', 'missed', 'cancelled'];

export function show(value) {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? t('yes') : t('no');
  if (Array.isArray(value)) return value.length ? value.map(show).join(', ') : '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

// localInput turns an ISO time into a datetime-local value (the browser's
// zone) and back; the API speaks UTC.
export function toLocalInput(iso) {
  const d = iso ? new Date(iso) : new Date(Date.now() + 3600_000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
export const fromLocalInput = (value) => new Date(value).toISOString();

export const campaignLabel = (c) => (c ? (c.number ? `${c.number} - ${c.name}` : c.name || c.id) : '—');

// Field labels a select (or a group of controls) with <label for>: a label
// around a select would take the options' text into its name.
export function Field({ id, label, children, hint }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>${children}
    ${hint && html`<span class="hint" id=${id + '-hint'}>${hint}</span>`}
  </div>`;
}

// ---- requests that are not JSON (CSV import and export) ----------------------

// rawRequest is api() for other bodies and answers: the same bearer token
// and refresh, the Response back, an ApiError (with the parsed body) on
// failure.
export async function rawRequest(path, { method = 'GET', body, contentType, query } = {}) {
  const url = query ? `${path}?${new URLSearchParams(query)}` : path;
  const send = async () => {
    const token = getToken()?.access_token;
    const headers = {};
    if (token) headers.Authorization = 'Bearer ' + token;
    if (contentType) headers['Content-Type'] = contentType;
    try {
      return { res: await fetch(url, { method, headers, body }), token };
    } catch {
      throw new ApiError(0, null);
    }
  };
  let { res, token } = await send();
  if (res.status === 401) {
    const renewed = getToken()?.access_token !== token || (await refresh());
    if (renewed) ({ res } = await send());
    if (res.status === 401) await startLogin();
  }
  if (!res.ok) {
    let data = null;
    try {
      data = JSON.parse(await res.text());
    } catch {
      // not JSON
    }
    const err = new ApiError(res.status, data);
    err.body = data;
    throw err;
  }
  return res;
}

// The import report: rows named as in the file. The server puts it in the
// error body's details (400 import.invalid) or in the answer's errors.
// In an error body each detail names "rows[5].phone" as its field.
function reportRows(list) {
  return (Array.isArray(list) ? list : []).map((x) => {
    const m = /^(?:body\.)?rows\[(\d+)\](?:\.(.+))?$/.exec(x.fieldName || '');
    return {
      row: x.row ?? (m ? m[1] : x.entityId ?? ''),
      column: x.column ?? (m ? m[2] || '' : x.fieldName ?? ''),
      reason: x.reason ?? x.message ?? x.errorCode ?? '',
    };
  });
}
function errorReport(err) {
  const d = err?.body?.details;
  return reportRows(Array.isArray(d) ? d : d?.errors);
}

function ReportTable({ rows, caption }) {
  if (!rows.length) return null;
  return html`<table class="report">
    <caption>${caption}</caption>
    <thead><tr><th scope="col">${t('obRow')}</th><th scope="col">${t('obColumn')}</th><th scope="col">${t('obReason')}</th></tr></thead>
    <tbody>${rows.map((r, i) => html`<tr key=${i}><td>${show(r.row)}</td><td>${show(r.column)}</td><td>${show(r.reason)}</td></tr>`)}</tbody>
  </table>`;
}

// ImportForm posts a CSV file to path; without "Skip invalid rows" a bad
// row stops the whole file and the report says which.
function ImportForm({ path, onDone }) {
  const id = useId();
  const fileRef = useRef(null);
  const [skip, setSkip] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const file = fileRef.current?.files?.[0];
    if (!file) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const res = await rawRequest(path, { method: 'POST', body: file, contentType: 'text/csv', query: { skipInvalid: String(skip) } });
      const text = await res.text();
      setResult(text ? JSON.parse(text) : {});
      fileRef.current.value = '';
      onDone?.();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const failedRows = error ? errorReport(error) : [];
  // The report is shown as a table, so the box keeps only the message.
  const shownError = error && failedRows.length
    ? Object.assign(new ApiError(error.status, { message: error.message, code: error.code }), { details: [] })
    : error;
  return html`<form class="csv-upload" onSubmit=${submit} aria-labelledby=${id + '-title'}>
    <h4 id=${id + '-title'}>${t('obImportCsv')}</h4>
    <div class="row">
      <label><span>${t('obCsvFile')}</span>
        <input ref=${fileRef} type="file" name="file" accept=".csv,text/csv,text/plain" required /></label>
      <label class="check"><input type="checkbox" name="skipInvalid" checked=${skip}
        onChange=${(e) => setSkip(e.currentTarget.checked)} /> ${t('obSkipInvalid')}</label>
      <button type="submit" disabled=${busy}>${t('obImport')}</button>
    </div>
    <p class="status" role="status">${result && t('obImported', {
      imported: result.imported ?? 0, updated: result.updated ?? 0, skipped: result.skipped ?? 0 })}</p>
    ${result && html`<${ReportTable} rows=${reportRows(result.errors)} caption=${t('obSkippedRows')} />`}
    <${ErrorBox} error=${shownError} />
    ${error?.code === 'import.invalid' && html`<p class="hint">${t('obNothingImported')}</p>`}
    <${ReportTable} rows=${failedRows} caption=${t('obImportReport')} />
  </form>`;
}

async function download(path, filename) {
  const res = await rawRequest(path, { query: undefined });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---- paged lists --------------------------------------------------------------

export function usePaged(path, query = {}) {
  const [pageNumber, setPageNumber] = useState(1);
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [version, setVersion] = useState(0);
  const q = JSON.stringify(query);
  useEffect(() => setPageNumber(1), [path, q]);
  useEffect(() => {
    if (!path) return undefined;
    let current = true;
    const extra = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== '' && v != null));
    api(path, { query: { pageSize: PAGE_SIZE, pageNumber, ...extra } })
      .then((d) => {
        if (!current) return;
        if (pageNumber > 1 && !(d?.entities?.length)) setPageNumber(pageNumber - 1);
        setData(d);
        setError(null);
      })
      .catch((err) => current && setError(err));
    return () => { current = false; };
  }, [path, pageNumber, version, q]);
  return { pageNumber, setPageNumber, data, error, rows: data?.entities || [], reload: () => setVersion((v) => v + 1) };
}

// useAll reads every entry of a collection (for pickers and names).
export function useAll(path, deps = []) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!path) return undefined;
    let current = true;
    listAll(path).then((x) => current && (setItems(x), setError(null))).catch((err) => current && setError(err));
    return () => { current = false; };
  }, [path, version, ...deps]);
  return { items, error, reload: () => setVersion((v) => v + 1) };
}

function Pager({ list }) {
  const { data, pageNumber, setPageNumber } = list;
  if (!data) return null;
  const pages = Math.max(data.pageCount || 1, 1);
  if (pages <= 1 && pageNumber <= 1) return html`<p class="pager">${t('pageOf', { page: 1, pages: 1, total: data.total ?? list.rows.length })}</p>`;
  return html`<nav class="pager" aria-label=${t('pagination')}>
    <button type="button" onClick=${() => setPageNumber(pageNumber - 1)} disabled=${pageNumber <= 1}><span aria-hidden="true">← </span>${t('previous')}</button>
    <span aria-live="polite">${t('pageOf', { page: pageNumber, pages, total: data.total ?? 0 })}</span>
    <button type="button" onClick=${() => setPageNumber(pageNumber + 1)} disabled=${pageNumber >= pages}>${t('next')}<span aria-hidden="true"> →</span></button>
  </nav>`;
}

// Table renders rows with labelled columns; actions(row) adds a last cell.
function Table({ columns, rows, actions, rowKey = (r) => r.id, caption }) {
  if (!rows.length) return html`<p class="empty">${t('empty')}</p>`;
  return html`<table>
    ${caption && html`<caption class="visually-hidden">${caption}</caption>`}
    <thead><tr>
      ${columns.map((c) => html`<th scope="col">${t(c.label)}</th>`)}
      ${actions && html`<th scope="col"><span class="visually-hidden">${t('actions')}</span></th>`}
    </tr></thead>
    <tbody>${rows.map((r) => html`<tr key=${rowKey(r)}>
      ${columns.map((c) => html`<td>${c.render ? c.render(r) : show(r[c.key])}</td>`)}
      ${actions && html`<td class="actions">${actions(r)}</td>`}
    </tr>`)}</tbody>
  </table>`;
}

// useAction runs one request at a time and keeps its error and a status
// key (so the status follows the language switch).
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [status, setStatus] = useState('');
  const run = async (fn, okStatus = '') => {
    setBusy(true);
    setError(null);
    setStatus('');
    try {
      const r = await fn();
      setStatus(okStatus);
      return r ?? true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, status, run, setError, setStatus };
}

// invalidAt tells whether the server's error names a field path
// (huma writes "body.fields[0].name"; the domain "fields[0].name").
export function invalidAt(error, path) {
  return (error?.details || []).some((d) => {
    const f = String(d.fieldName || '').replace(/^body\./, '');
    return f === path || f.startsWith(path + '.') || f.startsWith(path + '[');
  }) ? 'true' : undefined;
}

let keySeq = 0;
export const withKey = (o) => ({ ...o, _k: ++keySeq });
const stripKey = ({ _k, ...rest }) => rest;

// focusSoon focuses an element by id after the next render (a row just added).
export function useFocusLater() {
  const [target, setTarget] = useState(null);
  useEffect(() => {
    if (!target) return;
    document.getElementById(target)?.focus();
    setTarget(null);
  }, [target]);
  return setTarget;
}

function DeleteButton({ name, onDelete, busy }) {
  return html`<button type="button" class="danger" disabled=${busy}
    aria-label=${t('deleteItem', { name })} onClick=${onDelete}>${t('delete')}</button>`;
}

// ---- schemas -------------------------------------------------------------------

const blankSchema = () => ({
  name: '', matchBy: 'key',
  fields: [withKey({ name: '', label: '', type: 'Clave_1' }), withKey({ name: '', label: '', type: 'phone' })],
  dispositions: [],
});

export function SchemasSection({ isAdmin }) {
  const list = usePaged(`${OB}/schemas`);
  const [editing, setEditing] = useState(null); // null | 'new' | schema
  const act = useAction();
  const remove = (s) => act.run(async () => {
    await api(`${OB}/schemas/${enc(s.id)}`, { method: 'DELETE' });
    list.reload();
  }, 'deleted');
  const columns = [
    { key: 'name', label: 'name' },
    { label: 'obFields', render: (s) => (s.fields || []).map((f) => `${f.label || f.name} (${t('ft_' + f.type)})`).join(', ') || '—' },
    { label: 'obMatchBy', render: (s) => t('mb_' + (s.matchBy || 'key')) },
    { label: 'obDispositions', render: (s) => (s.dispositions || []).map((c) => `${c.name} (${(c.subcategories || []).length})`).join(', ') || '—' },
  ];
  return html`<div class="outbound">
    ${isAdmin && !editing && html`<p><button type="button" class="primary" onClick=${() => setEditing('new')}>${t('obNewSchema')}</button></p>`}
    ${editing && html`<${SchemaForm} key=${editing === 'new' ? 'new' : editing.id} schema=${editing === 'new' ? null : editing}
      onCancel=${() => setEditing(null)} onSaved=${() => { setEditing(null); act.setStatus('obSaved'); list.reload(); }} />`}
    <p class="status" role="status">${act.status && t(act.status)}</p>
    <${ErrorBox} error=${list.error || act.error} />
    ${list.data && html`<${Table} columns=${columns} rows=${list.rows} caption=${t('schemas')}
      actions=${isAdmin && ((s) => html`<div class="row">
        <button type="button" aria-label=${t('editItem', { name: s.name })} onClick=${() => setEditing(s)}>${t('edit')}</button>
        <${DeleteButton} name=${s.name} busy=${act.busy} onDelete=${() => remove(s)} />
      </div>`)} />
      <${Pager} list=${list} />`}
  </div>`;
}

function SchemaForm({ schema, onSaved, onCancel }) {
  const [s, setS] = useState(() => (schema
    ? {
      name: schema.name || '', matchBy: schema.matchBy || 'key',
      fields: (schema.fields || []).map((f) => withKey({ name: f.name || '', label: f.label || '', type: f.type || 'text' })),
      dispositions: (schema.dispositions || []).map((c) => withKey({
        ...(c.id && { id: c.id }), name: c.name || '',
        subcategories: (c.subcategories || []).map((sc) => withKey({ ...(sc.id && { id: sc.id }), name: sc.name || '', outcome: sc.outcome || 'final' })),
      })),
    }
    : blankSchema()));
  const act = useAction();
  const focusLater = useFocusLater();
  const base = useId();
  const titleId = base + '-title';

  const setField = (i, k, v) => setS({ ...s, fields: s.fields.map((f, j) => (j === i ? { ...f, [k]: v } : f)) });
  const setCat = (i, next) => setS({ ...s, dispositions: s.dispositions.map((c, j) => (j === i ? next : c)) });
  const addField = () => {
    setS({ ...s, fields: [...s.fields, withKey({ name: '', label: '', type: 'text' })] });
    focusLater(`${base}-f${s.fields.length}-name`);
  };
  const addCat = () => {
    setS({ ...s, dispositions: [...s.dispositions, withKey({ name: '', subcategories: [withKey({ name: '', outcome: 'final' })] })] });
    focusLater(`${base}-c${s.dispositions.length}-name`);
  };

  const submit = async (e) => {
    e.preventDefault();
    const body = {
      name: s.name.trim(), matchBy: s.matchBy,
      fields: s.fields.map((f) => ({ name: f.name.trim(), label: f.label.trim(), type: f.type })),
      dispositions: s.dispositions.map((c) => ({
        ...stripKey(c), name: c.name.trim(),
        subcategories: c.subcategories.map((sc) => ({ ...stripKey(sc), name: sc.name.trim() })),
      })),
    };
    const ok = await act.run(() => (schema
      ? api(`${OB}/schemas/${enc(schema.id)}`, { method: 'PUT', body })
      : api(`${OB}/schemas`, { method: 'POST', body })));
    if (ok) onSaved();
  };
  const inv = (p) => invalidAt(act.error, p);

  return html`<form class="editor" onSubmit=${submit} aria-labelledby=${titleId}>
    <h3 id=${titleId}>${schema ? t('obEditSchema', { name: schema.name }) : t('obNewSchema')}</h3>
    <div class="row">
      <label><span>${t('name')}</span>
        <input name="name" value=${s.name} required maxlength="200" autocomplete="off" aria-invalid=${inv('name')}
          onInput=${(e) => setS({ ...s, name: e.currentTarget.value })} /></label>
      <${Field} id=${base + '-matchBy'} label=${t('obMatchBy')}>
        <select id=${base + '-matchBy'} name="matchBy" value=${s.matchBy} aria-invalid=${inv('matchBy')}
          onChange=${(e) => setS({ ...s, matchBy: e.currentTarget.value })}>
          <option value="key">${t('mb_key')}</option>
          <option value="phone">${t('mb_phone')}</option>
        </select><//>
    </div>

    <fieldset class="rows">
      <legend>${t('obFields')}</legend>
      <p class="hint">${t('obFieldsHint')}</p>
      ${s.fields.map((f, i) => html`<fieldset class="item" key=${f._k}>
        <legend>${t('obFieldN', { n: i + 1 })}</legend>
        <div class="row">
          <label><span>${t('name')}</span>
            <input id=${`${base}-f${i}-name`} value=${f.name} required pattern="[A-Za-z][A-Za-z0-9_]{0,63}" autocomplete="off"
              aria-invalid=${inv(`fields[${i}].name`)} onInput=${(e) => setField(i, 'name', e.currentTarget.value)} /></label>
          <label><span>${t('label')}</span>
            <input value=${f.label} autocomplete="off" aria-invalid=${inv(`fields[${i}].label`)}
              onInput=${(e) => setField(i, 'label', e.currentTarget.value)} /></label>
          <${Field} id=${`${base}-f${i}-type`} label=${t('type')}>
            <select id=${`${base}-f${i}-type`} value=${f.type} aria-invalid=${inv(`fields[${i}].type`)}
              onChange=${(e) => setField(i, 'type', e.currentTarget.value)}>
              ${FIELD_TYPES.map((ty) => html`<option value=${ty}>${t('ft_' + ty)}</option>`)}
            </select><//>
          <button type="button" class="danger" aria-label=${t('obRemoveFieldN', { n: i + 1 })}
            onClick=${() => setS({ ...s, fields: s.fields.filter((_, j) => j !== i) })}>${t('remove')}</button>
        </div>
      </fieldset>`)}
      <p><button type="button" onClick=${addField}>${t('obAddField')}</button></p>
    </fieldset>

    <fieldset class="rows">
      <legend>${t('obDispositions')}</legend>
      ${s.dispositions.length === 0 && html`<p class="hint">${t('obNoDispositions')}</p>`}
      ${s.dispositions.map((c, i) => html`<fieldset class="item category" key=${c._k}>
        <legend>${t('obCategoryN', { n: i + 1 })}</legend>
        <div class="row">
          <label><span>${t('category')}</span>
            <input id=${`${base}-c${i}-name`} value=${c.name} required autocomplete="off" aria-invalid=${inv(`dispositions[${i}].name`)}
              onInput=${(e) => setCat(i, { ...c, name: e.currentTarget.value })} /></label>
          <button type="button" class="danger" aria-label=${t('obRemoveCategoryN', { n: i + 1 })}
            onClick=${() => setS({ ...s, dispositions: s.dispositions.filter((_, j) => j !== i) })}>${t('remove')}</button>
        </div>
        ${c.subcategories.map((sc, k) => {
          const setSub = (next) => setCat(i, { ...c, subcategories: c.subcategories.map((x, j) => (j === k ? next : x)) });
          const p = `dispositions[${i}].subcategories[${k}]`;
          return html`<fieldset class="item sub" key=${sc._k}>
            <legend>${t('obSubcategoryN', { n: `${i + 1}.${k + 1}` })}</legend>
            <div class="row">
              <label><span>${t('subcategory')}</span>
                <input id=${`${base}-c${i}-s${k}-name`} value=${sc.name} required autocomplete="off" aria-invalid=${inv(`${p}.name`)}
                  onInput=${(e) => setSub({ ...sc, name: e.currentTarget.value })} /></label>
              <${Field} id=${`${base}-c${i}-s${k}-outcome`} label=${t('obOutcome')}>
                <select id=${`${base}-c${i}-s${k}-outcome`} value=${sc.outcome} aria-invalid=${inv(`${p}.outcome`)}
                  onChange=${(e) => setSub({ ...sc, outcome: e.currentTarget.value })}>
                  ${OUTCOMES.map((o) => html`<option value=${o}>${t('oc_' + o)}</option>`)}
                </select><//>
              <button type="button" class="danger" aria-label=${t('obRemoveSubcategoryN', { n: `${i + 1}.${k + 1}` })}
                onClick=${() => setCat(i, { ...c, subcategories: c.subcategories.filter((_, j) => j !== k) })}>${t('remove')}</button>
            </div>
          </fieldset>`;
        })}
        <p><button type="button" aria-label=${t('obAddSubcategoryTo', { n: i + 1 })} onClick=${() => {
          setCat(i, { ...c, subcategories: [...c.subcategories, withKey({ name: '', outcome: 'final' })] });
          focusLater(`${base}-c${i}-s${c.subcategories.length}-name`);
        }}>${t('obAddSubcategory')}</button></p>
      </fieldset>`)}
      <p><button type="button" onClick=${addCat}>${t('obAddCategory')}</button></p>
    </fieldset>

    <div class="row">
      <button type="submit" disabled=${act.busy}>${t('obSaveSchema')}</button>
      <button type="button" onClick=${onCancel}>${t('cancel')}</button>
    </div>
    <${ErrorBox} error=${act.error} />
  </form>`;
}

// ---- contact lists ---------------------------------------------------------------

export function ContactListsSection({ isAdmin }) {
  const list = usePaged(`${OB}/contactlists`);
  const schemas = useAll(`${OB}/schemas`);
  const [open, setOpen] = useState(null);
  const act = useAction();
  const schemaOf = (l) => (schemas.items || []).find((s) => s.id === l.schemaId);
  const remove = (l) => act.run(async () => {
    await api(`${OB}/contactlists/${enc(l.id)}`, { method: 'DELETE' });
    if (open?.id === l.id) setOpen(null);
    list.reload();
  }, 'deleted');
  const columns = [
    { label: 'name', render: (l) => html`<button type="button" class="link" aria-expanded=${String(open?.id === l.id)}
      onClick=${() => setOpen(open?.id === l.id ? null : l)}>${l.name}</button>` },
    { label: 'obSchema', render: (l) => schemaOf(l)?.name || show(l.schemaId) },
    { key: 'defaultCountry', label: 'obDefaultCountry' },
    { key: 'size', label: 'obSize' },
  ];
  // The opened list follows the table (its size changes on import).
  const current = open && (list.rows.find((l) => l.id === open.id) || open);
  return html`<div class="outbound">
    ${isAdmin && html`<${NewListForm} schemas=${schemas.items || []} onCreated=${() => { act.setStatus('created'); list.reload(); }} />`}
    <p class="status" role="status">${act.status && t(act.status)}</p>
    <${ErrorBox} error=${list.error || schemas.error || act.error} />
    ${list.data && html`<${Table} columns=${columns} rows=${list.rows} caption=${t('contactlists')}
      actions=${isAdmin && ((l) => html`<${DeleteButton} name=${l.name} busy=${act.busy} onDelete=${() => remove(l)} />`)} />
      <${Pager} list=${list} />`}
    ${current && html`<${ListDetail} key=${current.id} list=${current} schema=${schemaOf(current)} isAdmin=${isAdmin}
      onChanged=${list.reload} onClose=${() => setOpen(null)} />`}
  </div>`;
}

function NewListForm({ schemas, onCreated }) {
  const base = useId();
  const [name, setName] = useState('');
  const [schemaId, setSchemaId] = useState('');
  const [country, setCountry] = useState('ES');
  const act = useAction();
  const submit = async (e) => {
    e.preventDefault();
    const ok = await act.run(() => api(`${OB}/contactlists`, { method: 'POST',
      body: { name: name.trim(), schemaId, defaultCountry: country.trim().toUpperCase() } }));
    if (ok) {
      setName('');
      onCreated();
    }
  };
  return html`<form class="create" onSubmit=${submit}>
    <label><span>${t('name')}</span>
      <input name="name" value=${name} required autocomplete="off" aria-invalid=${invalidAt(act.error, 'name')}
        onInput=${(e) => setName(e.currentTarget.value)} /></label>
    <${Field} id=${base + '-schema'} label=${t('obSchema')}>
      <select id=${base + '-schema'} name="schemaId" value=${schemaId} required aria-invalid=${invalidAt(act.error, 'schemaId')}
        onChange=${(e) => setSchemaId(e.currentTarget.value)}>
        <option value="">${t('obChooseSchema')}</option>
        ${schemas.map((s) => html`<option key=${s.id} value=${s.id}>${s.name}</option>`)}
      </select><//>
    <label><span>${t('obDefaultCountry')}</span>
      <input name="defaultCountry" value=${country} maxlength="2" size="3" autocomplete="off" pattern="[A-Za-z]{2}"
        aria-invalid=${invalidAt(act.error, 'defaultCountry')} onInput=${(e) => setCountry(e.currentTarget.value)} /></label>
    <button type="submit" disabled=${act.busy}>${t('obCreateList')}</button>
    <${ErrorBox} error=${act.error} />
  </form>`;
}

function ListDetail({ list, schema, isAdmin, onChanged, onClose }) {
  const base = useId();
  const [q, setQ] = useState('');
  const [search, setSearch] = useState('');
  const contacts = usePaged(`${OB}/contactlists/${enc(list.id)}/contacts`, { q: search });
  const [history, setHistory] = useState(null);
  const [adding, setAdding] = useState(false);
  const act = useAction();
  const fields = schema?.fields || [];
  const shownFields = fields.filter((f) => f.type !== 'Clave_1' && f.type !== 'phone').slice(0, 4);
  const changed = () => { contacts.reload(); onChanged(); };
  const remove = (c) => act.run(async () => {
    await api(`${OB}/contactlists/${enc(list.id)}/contacts/${enc(c.id)}`, { method: 'DELETE' });
    if (history?.id === c.id) setHistory(null);
    changed();
  }, 'deleted');
  const contactName = (c) => c.key || Object.values(c.phones || {})[0] || c.id;
  const columns = [
    { label: 'obKey', render: (c) => show(c.key) },
    { label: 'obPhones', render: (c) => show(Object.values(c.phones || {})) },
    ...shownFields.map((f) => ({ label: f.label || f.name, render: (c) => show(c.data?.[f.name]) })),
    { label: 'status', render: (c) => (c.status ? t('cs_' + c.status) : '—') },
    { key: 'attempts', label: 'obAttempts' },
    { label: 'obLastOutcome', render: (c) => (c.lastOutcome ? t('ao_' + c.lastOutcome) : '—') },
  ];
  const exportCsv = () => act.run(() => download(`${OB}/contactlists/${enc(list.id)}/export`, `${list.name || list.id}.csv`));

  return html`<section class="detail" aria-labelledby=${base + '-title'}>
    <div class="detail-head">
      <h3 id=${base + '-title'}>${t('obContactsOf', { name: list.name })}</h3>
      <div class="row">
        <button type="button" onClick=${exportCsv} disabled=${act.busy}>${t('obExportCsv')}</button>
        ${isAdmin && html`<button type="button" aria-expanded=${String(adding)} onClick=${() => setAdding(!adding)}>${t('obAddContact')}</button>`}
        <button type="button" onClick=${onClose}>${t('obClose')}</button>
      </div>
    </div>
    ${isAdmin && adding && schema && html`<${ContactForm} list=${list} schema=${schema} onSaved=${changed} />`}
    ${isAdmin && html`<${ImportForm} path=${`${OB}/contactlists/${enc(list.id)}/import`} onDone=${changed} />`}
    <form class="inline search" role="search" onSubmit=${(e) => { e.preventDefault(); setSearch(q.trim()); }}>
      <label><span>${t('obSearch')}</span>
        <input type="search" name="q" value=${q} autocomplete="off" onInput=${(e) => setQ(e.currentTarget.value)} /></label>
      <button type="submit" class="secondary">${t('obSearchButton')}</button>
    </form>
    <p class="status" role="status">${act.status && t(act.status)}</p>
    <${ErrorBox} error=${contacts.error || act.error} />
    ${contacts.data && html`<${Table} columns=${columns} rows=${contacts.rows} caption=${t('obContactsOf', { name: list.name })}
      actions=${(c) => html`<div class="row">
        <button type="button" aria-expanded=${String(history?.id === c.id)} aria-label=${t('obHistoryOf', { name: contactName(c) })}
          onClick=${() => setHistory(history?.id === c.id ? null : c)}>${t('obHistory')}</button>
        ${isAdmin && html`<${DeleteButton} name=${contactName(c)} busy=${act.busy} onDelete=${() => remove(c)} />`}
      </div>`} />
      <${Pager} list=${contacts} />`}
    ${history && html`<${Attempts} key=${history.id} contact=${history} name=${contactName(history)} onClose=${() => setHistory(null)} />`}
  </section>`;
}

const inputType = { number: 'number', date: 'date', email: 'email', phone: 'tel' };

function ContactForm({ list, schema, onSaved }) {
  const base = useId();
  const blank = () => Object.fromEntries((schema.fields || []).map((f) => [f.name, '']));
  const [values, setValues] = useState(blank);
  const act = useAction();
  const submit = async (e) => {
    e.preventDefault();
    const data = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v !== ''));
    const ok = await act.run(() => api(`${OB}/contactlists/${enc(list.id)}/contacts`, { method: 'POST', body: { data } }), 'created');
    if (ok) {
      setValues(blank());
      onSaved();
    }
  };
  return html`<form class="create" onSubmit=${submit} aria-labelledby=${base + '-title'}>
    <h4 id=${base + '-title'} class="full">${t('obNewContact')}</h4>
    ${(schema.fields || []).map((f) => html`<label key=${f.name}><span>${f.label || f.name}</span>
      <input name=${f.name} type=${inputType[f.type] || 'text'} step=${f.type === 'number' ? 'any' : undefined}
        required=${f.type === 'Clave_1'} value=${values[f.name]} autocomplete="off"
        aria-invalid=${invalidAt(act.error, f.name) || invalidAt(act.error, 'data.' + f.name)}
        onInput=${(e) => setValues({ ...values, [f.name]: e.currentTarget.value })} /></label>`)}
    <button type="submit" disabled=${act.busy}>${t('obSaveContact')}</button>
    <p class="status full" role="status">${act.status && t(act.status)}</p>
    <${ErrorBox} error=${act.error} />
  </form>`;
}

function Attempts({ contact, name, onClose }) {
  const base = useId();
  const [rows, setRows] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api(`${OB}/contacts/${enc(contact.id)}/attempts`, { query: { pageSize: 100 } })
      .then((d) => setRows(Array.isArray(d) ? d : d?.entities || []))
      .catch(setError);
  }, [contact.id]);
  const columns = [
    { label: 'obStarted', render: (a) => when(a.dateStarted) },
    { key: 'phone', label: 'obPhone' },
    { label: 'obOutcome', render: (a) => (a.outcome ? t('ao_' + a.outcome) : '—') },
    { key: 'category', label: 'category' },
    { key: 'subcategory', label: 'subcategory' },
    { key: 'agentId', label: 'agent' },
    { key: 'notes', label: 'notes' },
  ];
  return html`<section class="detail" aria-labelledby=${base + '-title'}>
    <div class="detail-head">
      <h4 id=${base + '-title'}>${t('obAttemptsOf', { name })}</h4>
      <button type="button" onClick=${onClose}>${t('obClose')}</button>
    </div>
    <${ErrorBox} error=${error} />
    ${rows && html`<${Table} columns=${columns} rows=${rows} caption=${t('obAttemptsOf', { name })} />`}
  </section>`;
}

// ---- do-not-call lists -------------------------------------------------------------

export function DncSection({ isAdmin }) {
  const list = usePaged(`${OB}/dnclists`);
  const [open, setOpen] = useState(null);
  const [name, setName] = useState('');
  const act = useAction();
  const create = async (e) => {
    e.preventDefault();
    if (await act.run(() => api(`${OB}/dnclists`, { method: 'POST', body: { name: name.trim() } }), 'created')) {
      setName('');
      list.reload();
    }
  };
  const remove = (l) => act.run(async () => {
    await api(`${OB}/dnclists/${enc(l.id)}`, { method: 'DELETE' });
    if (open?.id === l.id) setOpen(null);
    list.reload();
  }, 'deleted');
  const columns = [
    { label: 'name', render: (l) => html`<button type="button" class="link" aria-expanded=${String(open?.id === l.id)}
      onClick=${() => setOpen(open?.id === l.id ? null : l)}>${l.name}</button>` },
    { key: 'size', label: 'obSize' },
  ];
  const current = open && (list.rows.find((l) => l.id === open.id) || open);
  return html`<div class="outbound">
    ${isAdmin && html`<form class="create" onSubmit=${create}>
      <label><span>${t('name')}</span>
        <input name="name" value=${name} required autocomplete="off" aria-invalid=${invalidAt(act.error, 'name')}
          onInput=${(e) => setName(e.currentTarget.value)} /></label>
      <button type="submit" disabled=${act.busy}>${t('obCreateDnc')}</button>
    </form>`}
    <p class="status" role="status">${act.status && t(act.status)}</p>
    <${ErrorBox} error=${list.error || act.error} />
    ${list.data && html`<${Table} columns=${columns} rows=${list.rows} caption=${t('dnclists')}
      actions=${isAdmin && ((l) => html`<${DeleteButton} name=${l.name} busy=${act.busy} onDelete=${() => remove(l)} />`)} />
      <${Pager} list=${list} />`}
    ${current && html`<${DncDetail} key=${current.id} list=${current} isAdmin=${isAdmin} onChanged=${list.reload} onClose=${() => setOpen(null)} />`}
  </div>`;
}

const numberOf = (e) => (typeof e === 'string' ? e : e?.phoneNumber || e?.phone || e?.number || e?.id || '');

function DncDetail({ list, isAdmin, onChanged, onClose }) {
  const base = useId();
  const path = `${OB}/dnclists/${enc(list.id)}/phonenumbers`;
  const numbers = usePaged(path);
  const [text, setText] = useState('');
  const [country, setCountry] = useState('ES');
  const act = useAction();
  const changed = () => { numbers.reload(); onChanged(); };
  const add = async (e) => {
    e.preventDefault();
    const phoneNumbers = text.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    if (!phoneNumbers.length) return;
    if (await act.run(() => api(path, { method: 'POST', body: { phoneNumbers, defaultCountry: country.trim().toUpperCase() } }), 'obNumbersAdded')) {
      setText('');
      changed();
    }
  };
  const remove = (n) => act.run(async () => {
    await api(path, { method: 'DELETE', body: { phoneNumbers: [n], defaultCountry: country.trim().toUpperCase() } });
    changed();
  }, 'deleted');
  const rows = numbers.rows.map((e) => ({ number: numberOf(e), raw: e }));
  return html`<section class="detail" aria-labelledby=${base + '-title'}>
    <div class="detail-head">
      <h3 id=${base + '-title'}>${t('obNumbersOf', { name: list.name })}</h3>
      <button type="button" onClick=${onClose}>${t('obClose')}</button>
    </div>
    ${isAdmin && html`<form class="create" onSubmit=${add}>
      <label><span>${t('obPhoneNumbers')}</span>
        <textarea name="phoneNumbers" rows="4" cols="28" required value=${text} aria-describedby=${base + '-nh'}
          aria-invalid=${invalidAt(act.error, 'phoneNumbers')} onInput=${(e) => setText(e.currentTarget.value)}></textarea></label>
      <label><span>${t('obDefaultCountry')}</span>
        <input name="defaultCountry" value=${country} maxlength="2" size="3" pattern="[A-Za-z]{2}" autocomplete="off"
          onInput=${(e) => setCountry(e.currentTarget.value)} /></label>
      <button type="submit" disabled=${act.busy}>${t('obAddNumbers')}</button>
      <p class="hint full" id=${base + '-nh'}>${t('obOnePerLine')}</p>
    </form>`}
    ${isAdmin && html`<${ImportForm} path=${`${OB}/dnclists/${enc(list.id)}/import`} onDone=${changed} />`}
    <p class="status" role="status">${act.status && t(act.status)}</p>
    <${ErrorBox} error=${numbers.error || act.error} />
    ${numbers.data && html`<${Table} columns=${[{ key: 'number', label: 'obPhone' }]} rows=${rows} rowKey=${(r) => r.number}
      caption=${t('obNumbersOf', { name: list.name })}
      actions=${isAdmin && ((r) => html`<button type="button" class="danger" disabled=${act.busy}
        aria-label=${t('removeMember', { name: r.number })} onClick=${() => remove(r.number)}>${t('remove')}</button>`)} />
      <${Pager} list=${numbers} />`}
  </section>`;
}

// ---- campaigns ---------------------------------------------------------------------

// The fields a PUT sends back: what the server owns is left out.
const READ_ONLY = ['id', 'schemaId', 'dateCreated', 'dateModified', 'selfUri'];
const writable = (c) => Object.fromEntries(Object.entries(c).filter(([k]) => !READ_ONLY.includes(k)));

export function CampaignsSection({ isAdmin }) {
  const list = usePaged(`${OB}/campaigns`);
  const lists = useAll(`${OB}/contactlists`);
  const dncs = useAll(isAdmin ? `${OB}/dnclists` : null);
  const queues = useAll('/api/v2/routing/queues');
  const [editing, setEditing] = useState(null);
  const [open, setOpen] = useState(null);
  const act = useAction();
  const listName = (id) => (lists.items || []).find((l) => l.id === id)?.name || id;
  const remove = (c) => act.run(async () => {
    await api(`${OB}/campaigns/${enc(c.id)}`, { method: 'DELETE' });
    if (open?.id === c.id) setOpen(null);
    list.reload();
  }, 'deleted');
  const toggle = (c) => act.run(async () => {
    await api(`${OB}/campaigns/${enc(c.id)}`, { method: 'PUT', body: { ...writable(c), state: c.state === 'on' ? 'off' : 'on' } });
    list.reload();
  }, 'obSaved');
  const columns = [
    { key: 'number', label: 'obNumber' },
    { label: 'name', render: (c) => html`<button type="button" class="link" aria-expanded=${String(open?.id === c.id)}
      aria-label=${t('obDetailsOf', { name: c.name })} onClick=${() => setOpen(open?.id === c.id ? null : c)}>${c.name}</button>` },
    { label: 'obDirection', render: (c) => t(c.direction === 'inbound' ? 'inbound' : 'outbound') },
    { label: 'obMode', render: (c) => (c.direction === 'inbound' ? '—' : t('dm_' + c.dialingMode)) },
    { label: 'state', render: (c) => html`<span class=${'state ' + c.state}>${t(c.state === 'on' ? 'obOn' : 'obOff')}</span>` },
    { label: 'obLists', render: (c) => show((c.direction === 'inbound' ? [c.inboundListId].filter(Boolean) : c.contactListIds || []).map(listName)) },
  ];
  const current = open && (list.rows.find((c) => c.id === open.id) || open);
  return html`<div class="outbound">
    ${isAdmin && !editing && html`<p><button type="button" class="primary" onClick=${() => setEditing('new')}>${t('obNewCampaign')}</button></p>`}
    ${editing && html`<${CampaignForm} key=${editing === 'new' ? 'new' : editing.id} campaign=${editing === 'new' ? null : editing}
      lists=${lists.items || []} dncs=${dncs.items || []} queues=${queues.items || []}
      onCancel=${() => setEditing(null)} onSaved=${() => { setEditing(null); act.setStatus('obSaved'); list.reload(); }} />`}
    <p class="status" role="status">${act.status && t(act.status)}</p>
    <${ErrorBox} error=${list.error || act.error} />
    ${list.data && html`<${Table} columns=${columns} rows=${list.rows} caption=${t('campaigns')}
      actions=${isAdmin && ((c) => html`<div class="row">
        <button type="button" aria-label=${t('editItem', { name: c.name })} onClick=${() => setEditing(c)}>${t('edit')}</button>
        <button type="button" aria-label=${t(c.state === 'on' ? 'obTurnOffItem' : 'obTurnOnItem', { name: c.name })} disabled=${act.busy}
          onClick=${() => toggle(c)}>${t(c.state === 'on' ? 'obTurnOff' : 'obTurnOn')}</button>
        <${DeleteButton} name=${c.name} busy=${act.busy} onDelete=${() => remove(c)} />
      </div>`)} />
      <${Pager} list=${list} />`}
    ${current && html`<${CampaignDetail} key=${current.id} campaign=${current} canManage=${true} onClose=${() => setOpen(null)} />`}
  </div>`;
}

const blankCampaign = () => ({
  name: '', number: '', direction: 'outbound', dialingMode: 'preview', powerRatio: '2',
  contactListIds: [], queueId: '', inboundListId: '',
  transferNumbers: [],
  callingHours: { timeZone: 'Europe/Madrid', windows: [withKey({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '21:00' })] },
  retryRules: [withKey({ outcome: 'busy', retry: true, delaySeconds: '900' }), withKey({ outcome: 'no-answer', retry: true, delaySeconds: '3600' })],
  maxAttempts: '3', dncListIds: [], callerId: '', abandonCapPercent: '3', ringTimeoutSeconds: '25', abandonPrompt: 'abandon',
  allowReleaseWithoutCategory: true, autoReleaseSeconds: '-1', state: 'off',
});

function fromCampaign(c) {
  const str = (v, d = '') => (v === undefined || v === null ? d : String(v));
  return {
    name: c.name || '', number: str(c.number), direction: c.direction || 'outbound', dialingMode: c.dialingMode || 'preview',
    powerRatio: str(c.powerRatio, '2'), contactListIds: c.contactListIds || [], queueId: c.queueId || '', inboundListId: c.inboundListId || '',
    transferNumbers: (c.transferNumbers || []).map((x) => withKey({ name: x.name || '', number: x.number || '' })),
    callingHours: {
      timeZone: c.callingHours?.timeZone || '',
      windows: (c.callingHours?.windows || []).map((w) => withKey({ days: w.days || [], start: w.start || '', end: w.end || '' })),
    },
    retryRules: (c.retryRules || []).map((r) => withKey({ outcome: r.outcome, retry: r.retry !== false, delaySeconds: str(r.delaySeconds, '0') })),
    maxAttempts: str(c.maxAttempts), dncListIds: c.dncListIds || [], callerId: c.callerId || '',
    abandonCapPercent: str(c.abandonCapPercent), ringTimeoutSeconds: str(c.ringTimeoutSeconds), abandonPrompt: c.abandonPrompt || '',
    allowReleaseWithoutCategory: !!c.allowReleaseWithoutCategory, autoReleaseSeconds: str(c.autoReleaseSeconds, '-1'),
    state: c.state === 'on' ? 'on' : 'off',
  };
}

const num = (v) => (v === '' || v === null || v === undefined ? undefined : Number(v));

function toCampaignBody(v) {
  const body = {
    name: v.name.trim(), number: num(v.number), direction: v.direction, queueId: v.queueId,
    transferNumbers: v.transferNumbers.map((x) => ({ name: x.name.trim(), number: x.number.trim() })),
    allowReleaseWithoutCategory: v.allowReleaseWithoutCategory, autoReleaseSeconds: num(v.autoReleaseSeconds),
    state: v.state,
  };
  if (v.direction === 'inbound') {
    body.inboundListId = v.inboundListId;
  } else {
    Object.assign(body, {
      dialingMode: v.dialingMode, contactListIds: v.contactListIds,
      callingHours: { timeZone: v.callingHours.timeZone.trim(), windows: v.callingHours.windows.map((w) => ({ days: w.days, start: w.start, end: w.end })) },
      retryRules: v.retryRules.map((r) => ({ outcome: r.outcome, retry: r.retry, delaySeconds: num(r.delaySeconds) ?? 0 })),
      maxAttempts: num(v.maxAttempts), dncListIds: v.dncListIds, callerId: v.callerId.trim(),
      abandonCapPercent: num(v.abandonCapPercent), ringTimeoutSeconds: num(v.ringTimeoutSeconds), abandonPrompt: v.abandonPrompt.trim() || undefined,
    });
    if (v.dialingMode === 'power') body.powerRatio = num(v.powerRatio);
  }
  return Object.fromEntries(Object.entries(body).filter(([, x]) => x !== undefined));
}

let zones = null;
const timeZones = () => (zones ??= (typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []));

// Checks is a group of checkboxes: a multi-select that keyboards and
// screen readers handle well.
function Checks({ legend, options, value, onChange, invalid, hint }) {
  return html`<fieldset class="checks" aria-invalid=${invalid}>
    <legend>${legend}</legend>
    ${options.length === 0 && html`<p class="hint">${hint || t('empty')}</p>`}
    ${options.map(([id, label]) => html`<label class="check" key=${id}>
      <input type="checkbox" value=${id} checked=${value.includes(id)}
        onChange=${(e) => onChange(e.currentTarget.checked ? [...value, id] : value.filter((x) => x !== id))} /> ${label}</label>`)}
  </fieldset>`;
}

function CampaignForm({ campaign, lists, dncs, queues, onSaved, onCancel }) {
  const [v, setV] = useState(() => (campaign ? fromCampaign(campaign) : blankCampaign()));
  const act = useAction();
  const base = useId();
  const focusLater = useFocusLater();
  const set = (k) => (e) => setV({ ...v, [k]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value });
  const setRow = (k, i, next) => setV({ ...v, [k]: v[k].map((x, j) => (j === i ? next : x)) });
  const dropRow = (k, i) => setV({ ...v, [k]: v[k].filter((_, j) => j !== i) });
  const hours = v.callingHours;
  const setWin = (i, next) => setV({ ...v, callingHours: { ...hours, windows: hours.windows.map((w, j) => (j === i ? next : w)) } });
  const inv = (p) => invalidAt(act.error, p);
  const outbound = v.direction === 'outbound';

  const submit = async (e) => {
    e.preventDefault();
    const body = toCampaignBody(v);
    const ok = await act.run(() => (campaign
      ? api(`${OB}/campaigns/${enc(campaign.id)}`, { method: 'PUT', body })
      : api(`${OB}/campaigns`, { method: 'POST', body })));
    if (ok) onSaved();
  };
  const numberInput = (k, label, attrs = {}) => html`<label><span>${t(label)}</span>
    <input name=${k} type="number" value=${v[k]} aria-invalid=${inv(k)} onInput=${set(k)} ...${attrs} /></label>`;
  const id = (s) => `${base}-${s}`;

  return html`<form class="editor" onSubmit=${submit} aria-labelledby=${id('title')}>
    <h3 id=${id('title')}>${campaign ? t('obEditCampaign', { name: campaign.name }) : t('obNewCampaign')}</h3>
    <div class="row">
      <label><span>${t('name')}</span>
        <input name="name" value=${v.name} required autocomplete="off" aria-invalid=${inv('name')} onInput=${set('name')} /></label>
      ${numberInput('number', 'obNumber', { min: 1, max: 9999, required: true })}
      <${Field} id=${id('direction')} label=${t('obDirection')}>
        <select id=${id('direction')} name="direction" value=${v.direction} aria-invalid=${inv('direction')} onChange=${set('direction')}>
          <option value="outbound">${t('outbound')}</option>
          <option value="inbound">${t('inbound')}</option>
        </select><//>
      ${outbound && html`<${Field} id=${id('mode')} label=${t('obDialingMode')}>
        <select id=${id('mode')} name="dialingMode" value=${v.dialingMode} aria-invalid=${inv('dialingMode')} onChange=${set('dialingMode')}>
          ${DIALING_MODES.map((m) => html`<option value=${m}>${t('dm_' + m)}</option>`)}
        </select><//>`}
      ${outbound && v.dialingMode === 'power' && numberInput('powerRatio', 'obPowerRatio', { min: 1, max: 10, step: 0.1 })}
      <${Field} id=${id('queue')} label=${t('queue')}>
        <select id=${id('queue')} name="queueId" value=${v.queueId} required=${!outbound} aria-invalid=${inv('queueId')} onChange=${set('queueId')}>
          <option value="">${t(outbound ? 'obNoQueue' : 'obChooseQueue')}</option>
          ${queues.map((q) => html`<option key=${q.id} value=${q.id}>${q.name}</option>`)}
        </select><//>
      <label class="check switch"><input type="checkbox" role="switch" name="state" checked=${v.state === 'on'}
        aria-invalid=${inv('state')} onChange=${(e) => setV({ ...v, state: e.currentTarget.checked ? 'on' : 'off' })} /> ${t('obCampaignOn')}</label>
    </div>

    ${outbound
      ? html`<${Checks} legend=${t('obContactLists')} value=${v.contactListIds} invalid=${inv('contactListIds')} hint=${t('obNoLists')}
          options=${lists.map((l) => [l.id, l.name])} onChange=${(ids) => setV({ ...v, contactListIds: ids })} />`
      : html`<div class="row"><${Field} id=${id('inlist')} label=${t('obInboundList')}>
          <select id=${id('inlist')} name="inboundListId" value=${v.inboundListId} required aria-invalid=${inv('inboundListId')} onChange=${set('inboundListId')}>
            <option value="">${t('obChooseList')}</option>
            ${lists.map((l) => html`<option key=${l.id} value=${l.id}>${l.name}</option>`)}
          </select><//></div>`}

    <fieldset class="rows">
      <legend>${t('obTransferNumbers')}</legend>
      ${v.transferNumbers.map((x, i) => html`<div class="row item" key=${x._k} role="group" aria-label=${t('obTransferN', { n: i + 1 })}>
        <label><span>${t('name')}</span>
          <input id=${id('tn' + i)} value=${x.name} required autocomplete="off" aria-invalid=${inv(`transferNumbers[${i}].name`)}
            onInput=${(e) => setRow('transferNumbers', i, { ...x, name: e.currentTarget.value })} /></label>
        <label><span>${t('number')}</span>
          <input type="tel" value=${x.number} required autocomplete="off" aria-invalid=${inv(`transferNumbers[${i}].number`)}
            onInput=${(e) => setRow('transferNumbers', i, { ...x, number: e.currentTarget.value })} /></label>
        <button type="button" class="danger" aria-label=${t('obRemoveTransferN', { n: i + 1 })} onClick=${() => dropRow('transferNumbers', i)}>${t('remove')}</button>
      </div>`)}
      <p><button type="button" onClick=${() => { setV({ ...v, transferNumbers: [...v.transferNumbers, withKey({ name: '', number: '' })] }); focusLater(id('tn' + v.transferNumbers.length)); }}>
        ${t('obAddTransfer')}</button></p>
    </fieldset>

    ${outbound && html`
    <fieldset class="rows">
      <legend>${t('obCallingHours')}</legend>
      <div class="row">
        <label><span>${t('obTimeZone')}</span>
          <input name="timeZone" list=${id('zones')} value=${hours.timeZone} autocomplete="off" aria-invalid=${inv('callingHours.timeZone')}
            onInput=${(e) => setV({ ...v, callingHours: { ...hours, timeZone: e.currentTarget.value } })} /></label>
        <datalist id=${id('zones')}>${timeZones().map((z) => html`<option value=${z} />`)}</datalist>
      </div>
      ${hours.windows.length === 0 && html`<p class="hint">${t('obAnyTime')}</p>`}
      ${hours.windows.map((w, i) => html`<fieldset class="item" key=${w._k}>
        <legend>${t('obWindowN', { n: i + 1 })}</legend>
        <div class="row">
          <div class="days" role="group" aria-label=${t('obDays')}>
            ${DAYS.map((d) => html`<label class="check" title=${t('day_' + d)}><input type="checkbox" aria-label=${t('day_' + d)}
              checked=${w.days.includes(d)}
              onChange=${(e) => setWin(i, { ...w, days: e.currentTarget.checked ? DAYS.filter((x) => x === d || w.days.includes(x)) : w.days.filter((x) => x !== d) })} />
              <span aria-hidden="true">${t('dayShort_' + d)}</span></label>`)}
          </div>
          <label><span>${t('obStart')}</span>
            <input id=${id('w' + i)} type="time" value=${w.start} required aria-invalid=${inv(`callingHours.windows[${i}].start`)}
              onInput=${(e) => setWin(i, { ...w, start: e.currentTarget.value })} /></label>
          <label><span>${t('obEnd')}</span>
            <input type="time" value=${w.end} required aria-invalid=${inv(`callingHours.windows[${i}].end`)}
              onInput=${(e) => setWin(i, { ...w, end: e.currentTarget.value })} /></label>
          <button type="button" class="danger" aria-label=${t('obRemoveWindowN', { n: i + 1 })}
            onClick=${() => setV({ ...v, callingHours: { ...hours, windows: hours.windows.filter((_, j) => j !== i) } })}>${t('remove')}</button>
        </div>
      </fieldset>`)}
      <p><button type="button" onClick=${() => {
        setV({ ...v, callingHours: { ...hours, windows: [...hours.windows, withKey({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '21:00' })] } });
        focusLater(id('w' + hours.windows.length));
      }}>${t('obAddWindow')}</button></p>
    </fieldset>

    <fieldset class="rows">
      <legend>${t('obRetryRules')}</legend>
      ${v.retryRules.map((r, i) => html`<div class="row item" key=${r._k} role="group" aria-label=${t('obRuleN', { n: i + 1 })}>
        <${Field} id=${id('rr' + i)} label=${t('obOutcome')}>
          <select id=${id('rr' + i)} value=${r.outcome} aria-invalid=${inv(`retryRules[${i}].outcome`)}
            onChange=${(e) => setRow('retryRules', i, { ...r, outcome: e.currentTarget.value })}>
            ${RETRY_OUTCOMES.map((o) => html`<option value=${o}>${t('ao_' + o)}</option>`)}
          </select><//>
        <label class="check"><input type="checkbox" checked=${r.retry}
          onChange=${(e) => setRow('retryRules', i, { ...r, retry: e.currentTarget.checked })} /> ${t('obRetry')}</label>
        <label><span>${t('obDelaySeconds')}</span>
          <input type="number" min="0" max="2592000" value=${r.delaySeconds} aria-invalid=${inv(`retryRules[${i}].delaySeconds`)}
            onInput=${(e) => setRow('retryRules', i, { ...r, delaySeconds: e.currentTarget.value })} /></label>
        <button type="button" class="danger" aria-label=${t('obRemoveRuleN', { n: i + 1 })} onClick=${() => dropRow('retryRules', i)}>${t('remove')}</button>
      </div>`)}
      <p><button type="button" onClick=${() => {
        const used = new Set(v.retryRules.map((r) => r.outcome));
        setV({ ...v, retryRules: [...v.retryRules, withKey({ outcome: RETRY_OUTCOMES.find((o) => !used.has(o)) || 'busy', retry: true, delaySeconds: '900' })] });
        focusLater(id('rr' + v.retryRules.length));
      }}>${t('obAddRule')}</button></p>
    </fieldset>

    <${Checks} legend=${t('obDncLists')} value=${v.dncListIds} invalid=${inv('dncListIds')}
      options=${dncs.map((l) => [l.id, l.name])} onChange=${(ids) => setV({ ...v, dncListIds: ids })} />

    <div class="row">
      ${numberInput('maxAttempts', 'obMaxAttempts', { min: 1, max: 100 })}
      <label><span>${t('obCallerId')}</span>
        <input name="callerId" type="tel" value=${v.callerId} autocomplete="off" aria-invalid=${inv('callerId')} onInput=${set('callerId')} /></label>
      ${numberInput('abandonCapPercent', 'obAbandonCap', { min: 0, max: 3, step: 0.1 })}
      ${numberInput('ringTimeoutSeconds', 'obRingTimeout', { min: 15, max: 120 })}
      <label><span>${t('obAbandonPrompt')}</span>
        <input name="abandonPrompt" value=${v.abandonPrompt} autocomplete="off" aria-invalid=${inv('abandonPrompt')} onInput=${set('abandonPrompt')} /></label>
    </div>`}

    <div class="row">
      <label class="check"><input type="checkbox" name="allowReleaseWithoutCategory" checked=${v.allowReleaseWithoutCategory}
        onChange=${set('allowReleaseWithoutCategory')} /> ${t('obAllowRelease')}</label>
      ${numberInput('autoReleaseSeconds', 'obAutoRelease', { min: -1, max: 3600, 'aria-describedby': id('arh') })}
      <span class="hint" id=${id('arh')}>${t('obAutoReleaseHint')}</span>
    </div>

    <div class="row">
      <button type="submit" disabled=${act.busy}>${t('obSaveCampaign')}</button>
      <button type="button" onClick=${onCancel}>${t('cancel')}</button>
    </div>
    <${ErrorBox} error=${act.error} />
  </form>`;
}

// CampaignDetail: live figures (when the dialer offers them) and the agents
// logged into the campaign.
export function CampaignDetail({ campaign, canManage, onClose }) {
  const base = useId();
  const path = `${OB}/campaigns/${enc(campaign.id)}`;
  const [stats, setStats] = useState(undefined); // undefined: loading; null: none
  const [agents, setAgents] = useState(null);
  const [record, setRecord] = useState(null);
  const [version, setVersion] = useState(0);
  const users = useAll('/api/v2/users');
  const act = useAction();
  useEffect(() => {
    api(`${path}/stats`).then(setStats).catch((err) => {
      // Not offered (no dialer, or not built): shown as "—".
      if (err?.status === 404 || err?.status === 501 || err?.code === 'dialer.off') setStats(null);
      else act.setError(err);
    });
    api(`${path}/agents`, { query: { pageSize: 100 } }).then((d) => setAgents(d?.entities || [])).catch(act.setError);
    if (campaign.direction === 'outbound') {
      api(`${path}/abandonment`).then(setRecord).catch((err) => {
        if (err?.status === 404 || err?.status === 501 || err?.code === 'dialer.off') setRecord(null);
        else act.setError(err);
      });
    }
  }, [path, version]);
  const pct = (x) => (Math.round(x * 100) / 100).toFixed(2);
  const userName = (id) => {
    const u = (users.items || []).find((x) => x.id === id);
    return u ? `${u.name} (${u.username})` : id;
  };
  const logout = (a) => act.run(async () => {
    await api(`${path}/agents/${enc(a.userId)}`, { method: 'DELETE' });
    setVersion((x) => x + 1);
  });
  const figures = stats && typeof stats === 'object' ? Object.entries(stats).filter(([, x]) => x === null || typeof x !== 'object') : [];
  return html`<section class="detail" aria-labelledby=${base + '-title'}>
    <div class="detail-head">
      <h3 id=${base + '-title'}>${campaignLabel(campaign)}</h3>
      <div class="row">
        <button type="button" onClick=${() => setVersion((x) => x + 1)}>${t('obRefresh')}</button>
        <button type="button" onClick=${onClose}>${t('obClose')}</button>
      </div>
    </div>
    <h4>${t('obStats')}</h4>
    ${stats === undefined && html`<p class="empty">${t('loading')}</p>`}
    ${stats === null && html`<p class="empty" data-testid="stats">—</p>`}
    ${stats && html`<dl class="figures" data-testid="stats">
      ${figures.length === 0 ? html`<dt>—</dt>` : figures.map(([k, x]) => html`<div key=${k}><dt>${k}</dt><dd>${show(x)}</dd></div>`)}
    </dl>`}
    ${record && html`<h4>${t('obAbandonRecord')}</h4>
      <p data-testid="abandon-window" class=${record.overCap ? 'error' : ''}>${t('obAbandonWindow', { abandoned: record.abandoned, live: record.liveAnswers,
        pct: pct(record.abandonPercent), cap: record.capPercent, tz: record.timeZone })}</p>
      ${!record.live && html`<p class="hint">${t('obAbandonFromHistory')}</p>`}
      <${Table} rows=${record.days} rowKey=${(d) => d.date} caption=${t('obAbandonRecord')}
        columns=${[{ label: 'obDate', key: 'date' }, { label: 'obLiveAnswers', key: 'liveAnswers' }, { label: 'obAbandoned', key: 'abandoned' },
          { label: 'obAbandonPct', render: (d) => pct(d.abandonPercent) }, { label: 'obOverCap', render: (d) => (d.overCap ? t('yes') : '') }]} />`}
    <h4>${t('obAgentsLoggedIn')}</h4>
    ${agents && html`<${Table} rows=${agents} rowKey=${(a) => a.userId} caption=${t('obAgentsLoggedIn')}
      columns=${[{ label: 'user', render: (a) => userName(a.userId) }, { label: 'obSince', render: (a) => when(a.dateLoggedIn) }]}
      actions=${canManage && ((a) => html`<button type="button" disabled=${act.busy} aria-label=${t('obLogOutAgent', { name: userName(a.userId) })}
        onClick=${() => logout(a)}>${t('obLogOutShort')}</button>`)} />`}
    <${ErrorBox} error=${act.error} />
  </section>`;
}

// ---- callbacks ---------------------------------------------------------------------

export function CallbacksSection({ me }) {
  const base = useId();
  const [campaignId, setCampaignId] = useState('');
  const [state, setState] = useState('scheduled');
  const list = usePaged(`${OB}/callbacks`, { campaignId, state });
  const campaigns = useAll(`${OB}/campaigns`);
  const users = useAll('/api/v2/users');
  const [moving, setMoving] = useState(null);
  const act = useAction();
  const campaignOf = (id) => (campaigns.items || []).find((c) => c.id === id);
  const userName = (id) => {
    if (!id) return t('obCampaignOwned');
    if (id === me?.id) return t('obMe');
    return (users.items || []).find((u) => u.id === id)?.name || id;
  };
  const cancel = (cb) => act.run(async () => {
    await api(`${OB}/callbacks/${enc(cb.id)}`, { method: 'DELETE' });
    list.reload();
  }, 'obCallbackCancelled');
  const columns = [
    { label: 'obWhen', render: (cb) => html`<time datetime=${cb.at}>${when(cb.at)}</time>` },
    { label: 'obCampaign', render: (cb) => campaignLabel(campaignOf(cb.campaignId)) },
    { key: 'phone', label: 'obPhone' },
    { label: 'obOwner', render: (cb) => userName(cb.userId) },
    { label: 'state', render: (cb) => t('cb_' + cb.state) },
  ];
  return html`<div class="outbound">
    <form class="inline filters" onSubmit=${(e) => e.preventDefault()} aria-label=${t('obFilters')}>
      <${Field} id=${base + '-campaign'} label=${t('obCampaign')}>
        <select id=${base + '-campaign'} value=${campaignId} onChange=${(e) => setCampaignId(e.currentTarget.value)}>
          <option value="">${t('obAllCampaigns')}</option>
          ${(campaigns.items || []).filter((c) => c.direction !== 'inbound').map((c) => html`<option key=${c.id} value=${c.id}>${campaignLabel(c)}</option>`)}
        </select><//>
      <${Field} id=${base + '-state'} label=${t('state')}>
        <select id=${base + '-state'} value=${state} onChange=${(e) => setState(e.currentTarget.value)}>
          <option value="">${t('obAll')}</option>
          ${CALLBACK_STATES.map((s) => html`<option value=${s}>${t('cb_' + s)}</option>`)}
        </select><//>
      <button type="button" onClick=${list.reload}>${t('obRefresh')}</button>
    </form>
    <p class="status" role="status">${act.status && t(act.status)}</p>
    <${ErrorBox} error=${list.error || act.error} />
    ${list.data && html`<${Table} columns=${columns} rows=${list.rows} caption=${t('callbacks')}
      actions=${(cb) => cb.state === 'scheduled' && html`<div class="row">
        <button type="button" aria-expanded=${String(moving?.id === cb.id)} aria-label=${t('obMoveItem', { when: when(cb.at) })}
          onClick=${() => setMoving(moving?.id === cb.id ? null : cb)}>${t('obMove')}</button>
        <button type="button" class="danger" disabled=${act.busy} aria-label=${t('obCancelItem', { when: when(cb.at) })}
          onClick=${() => cancel(cb)}>${t('obCancelCallback')}</button>
      </div>`} />
      <${Pager} list=${list} />`}
    ${moving && html`<${MoveForm} key=${moving.id} callback=${moving} onCancel=${() => setMoving(null)}
      onMoved=${() => { setMoving(null); act.setStatus('obCallbackMoved'); list.reload(); }} />`}
  </div>`;
}

function MoveForm({ callback, onMoved, onCancel }) {
  const [at, setAt] = useState(() => toLocalInput(callback.at));
  const act = useAction();
  const input = useRef(null);
  useEffect(() => input.current?.focus(), []);
  const submit = async (e) => {
    e.preventDefault();
    if (await act.run(() => api(`${OB}/callbacks/${enc(callback.id)}`, { method: 'PATCH', body: { at: fromLocalInput(at) } }))) onMoved();
  };
  return html`<form class="create" onSubmit=${submit}>
    <label><span>${t('obNewTime', { when: when(callback.at) })}</span>
      <input ref=${input} type="datetime-local" value=${at} required aria-invalid=${invalidAt(act.error, 'at')}
        onInput=${(e) => setAt(e.currentTarget.value)} /></label>
    <button type="submit" disabled=${act.busy}>${t('obMoveCallback')}</button>
    <button type="button" onClick=${onCancel}>${t('cancel')}</button>
    <${ErrorBox} error=${act.error} />
  </form>`;
}
