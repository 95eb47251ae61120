// The console's CRM call centers: the list, the editor (options, layout,
// connector settings and write-only secrets), the Salesforce XML definition
// (export, import, new from XML) and the screen-pop preview. All of it over
// /api/v2/crm (docs/crm.md). Preact + htm, no build step, like outbound.js.

import { h } from 'preact';
import { useState, useEffect, useRef, useId } from 'preact/hooks';
import htm from 'htm';
import { api } from './api.js';
import { ErrorBox } from './errors.js';
import { t } from './i18n.js';
import { Field, rawRequest, useAll, show, enc, useAction, invalidAt, withKey, useFocusLater } from './outbound.js';

const html = htm.bind(h);

const CC = '/api/v2/crm/callcenters';
const CONNECTORS = ['builtin', 'salesforce', 'dynamics', 'zendesk'];
const COMPAT_MODES = ['Lightning', 'Classic', 'Classic_and_Lightning'];
const RECORD_TYPES = ['Contact', 'Account', 'Lead', 'Opportunity', 'Company'];
const ACTIVITY_MODES = ['task', 'voicecall'];
const BOOLEANS = ['allowCategorization', 'allowClickToDialSearch', 'useTaskDescriptionField', 'allowContactRelease',
  'saveActivityLog', 'allowTextMessage'];
// The call-data names a mapping may take its value from (crm.MappingSources).
const SOURCES = ['callCampaing', 'callDialer', 'callId', 'callQueue', 'callReason', 'phoneNumber', 'contactBaseId',
  'campaignCrmId', 'campaignBaseId', 'userOutCampaign', 'crmId', 'contactId', 'crmKey', 'SearchBy', 'SearchData', 'CLAVESF'];
const PREVIEW_KEYS = ['SearchBy', 'SearchData', 'phoneNumber', 'contactId', 'CLAVESF'];

// ---- small helpers ----------------------------------------------------------

// xmlRequest sends an XML body and reads the JSON answer.
async function xmlRequest(path, method, xml, query) {
  const res = await rawRequest(path, { method, body: xml, contentType: 'application/xml', query });
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

function saveFile(text, filename, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---- the section ----------------------------------------------------------------

export function CallCentersSection({ isAdmin }) {
  const all = useAll(CC);
  const [editing, setEditing] = useState(null); // null | 'new' | call center
  const [xmlOf, setXmlOf] = useState(null); // the call center whose XML panel is open
  const [importing, setImporting] = useState(false);
  const act = useAction();
  const rows = all.items || [];
  const current = (x) => x && x !== 'new' ? rows.find((r) => r.id === x.id) || x : x;

  const remove = (cc) => act.run(async () => {
    await api(`${CC}/${enc(cc.id)}`, { method: 'DELETE' });
    if (editing?.id === cc.id) setEditing(null);
    if (xmlOf?.id === cc.id) setXmlOf(null);
    all.reload();
  }, 'deleted');

  return html`<div class="outbound crm">
    ${isAdmin && html`<div class="row">
      <button type="button" class="primary" aria-expanded=${String(editing === 'new')}
        onClick=${() => { setEditing('new'); setImporting(false); act.setStatus(''); }}>${t('ccNew')}</button>
      <button type="button" aria-expanded=${String(importing)}
        onClick=${() => { setImporting(!importing); setEditing(null); act.setStatus(''); }}>${t('ccNewFromXml')}</button>
    </div>`}
    ${importing && html`<${XmlImportForm} title=${t('ccNewFromXml')} withName
      onCancel=${() => setImporting(false)}
      onImport=${(xml, q) => xmlRequest(`${CC}/import`, 'POST', xml, q)}
      onDone=${() => { setImporting(false); act.setStatus('ccImported'); all.reload(); }} />`}
    ${editing && html`<${CallCenterForm} key=${editing === 'new' ? 'new' : editing.id} cc=${editing === 'new' ? null : current(editing)}
      onCancel=${() => setEditing(null)} onSaved=${() => { setEditing(null); act.setStatus('obSaved'); all.reload(); }} />`}
    <p class="status" role="status">${act.status && t(act.status)}</p>
    <${ErrorBox} error=${all.error || act.error} />
    ${all.items && (rows.length === 0
      ? html`<p class="empty">${t('empty')}</p>`
      : html`<table>
        <caption class="visually-hidden">${t('callcenters')}</caption>
        <thead><tr>
          <th scope="col">${t('name')}</th><th scope="col">${t('ccConnector')}</th><th scope="col">${t('ccDisplayName')}</th>
          <th scope="col">${t('ccPriority')}</th><th scope="col">${t('ccExternalData')}</th>
          <th scope="col"><span class="visually-hidden">${t('actions')}</span></th>
        </tr></thead>
        <tbody>${rows.map((cc) => html`<tr key=${cc.id}>
          <td>${cc.name}</td><td>${t('conn_' + cc.connector)}</td><td>${show(cc.displayName)}</td>
          <td>${cc.searchTypePriority?.length ? cc.searchTypePriority.join(' › ') : t('ccNoPriority')}</td>
          <td class="mono">${show(cc.externalData)}</td>
          <td class="actions"><div class="row">
            ${isAdmin && html`<button type="button" aria-label=${t('editItem', { name: cc.name })}
              onClick=${() => { setEditing(cc); setImporting(false); act.setStatus(''); }}>${t('edit')}</button>`}
            <button type="button" aria-expanded=${String(xmlOf?.id === cc.id)} aria-label=${t('ccXmlOf', { name: cc.name })}
              onClick=${() => setXmlOf(xmlOf?.id === cc.id ? null : cc)}>XML</button>
            ${isAdmin && html`<button type="button" class="danger" disabled=${act.busy}
              aria-label=${t('deleteItem', { name: cc.name })} onClick=${() => remove(cc)}>${t('delete')}</button>`}
          </div></td>
        </tr>`)}</tbody>
      </table>`)}
    ${xmlOf && html`<${XmlPanel} key=${xmlOf.id} cc=${current(xmlOf)} isAdmin=${isAdmin}
      onClose=${() => setXmlOf(null)} onChanged=${all.reload} />`}
    <${PreviewTool} callCenters=${rows} />
  </div>`;
}

// ---- the editor ---------------------------------------------------------------------

function formState(cc) {
  const d = cc || {};
  const prio = d.searchTypePriority || [];
  return {
    name: d.name || '', connector: d.connector || 'builtin', internalName: d.internalName || '', displayName: d.displayName || '',
    softphoneHeight: String(d.softphoneHeight ?? 420), softphoneWidth: String(d.softphoneWidth ?? 620),
    compatibilityMode: d.compatibilityMode || 'Lightning',
    // Every type in order, the chosen ones first in their priority order.
    order: [...prio, ...RECORD_TYPES.filter((x) => !prio.includes(x))],
    chosen: new Set(prio),
    externalData: d.externalData ?? 'neoContactId__c-contactId|neoBaseId__c-contactBaseId|neoCrmId__c-crmId',
    defaultNewRowData: d.defaultNewRowData ?? 'neoContactId__c-contactId|neoBaseId__c-contactBaseId|neoCrmId__c-crmId|Phone-phoneNumber',
    ...Object.fromEntries(BOOLEANS.map((b) => [b, d[b] ?? (b !== 'allowTextMessage')])),
    automaticContactRelease: String(d.automaticContactRelease ?? -1),
    campaignEntityName: d.campaignEntityName || '',
    noMatch: d.layout?.noMatch || 'new', newRecordType: d.layout?.newRecordType || 'Contact',
    singleMatch: d.layout?.singleMatch || 'open', multipleMatches: d.layout?.multipleMatches || 'search',
    activityMode: d.activityMode || 'task',
    settings: Object.entries(d.settings || {}).map(([key, value]) => withKey({ key, value })),
    secretsSet: d.secretsSet || [],
    secretValues: {}, // name → new value for a stored secret ('' = keep)
    secretRemove: new Set(),
    newSecrets: [],
  };
}

function CallCenterForm({ cc, onSaved, onCancel }) {
  const [s, setS] = useState(() => formState(cc));
  const act = useAction();
  const base = useId();
  const titleId = base + '-title';
  const focusLater = useFocusLater();
  const set = (k) => (e) => setS({ ...s, [k]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value });
  const inv = (p) => invalidAt(act.error, p);

  const move = (i, step) => {
    const order = [...s.order];
    [order[i], order[i + step]] = [order[i + step], order[i]];
    setS({ ...s, order });
    // Keep the focus on the moved type's button of the same direction, or
    // the other one when it reached the end (a disabled button takes none).
    const j = i + step;
    const atEnd = step < 0 ? j === 0 : j === order.length - 1;
    focusLater(`${base}-prio-${order[j]}-${(step < 0) !== atEnd ? 'up' : 'down'}`);
  };
  const toggle = (type, on) => {
    const chosen = new Set(s.chosen);
    if (on) chosen.add(type); else chosen.delete(type);
    setS({ ...s, chosen });
  };
  const setRow = (list, i, k, v) => setS({ ...s, [list]: s[list].map((r, j) => (j === i ? { ...r, [k]: v } : r)) });

  const submit = async (e) => {
    e.preventDefault();
    const secrets = {};
    for (const [k, v] of Object.entries(s.secretValues)) if (v) secrets[k] = v;
    for (const k of s.secretRemove) secrets[k] = '';
    for (const r of s.newSecrets) if (r.key.trim()) secrets[r.key.trim()] = r.value;
    const num = (v) => (v === '' ? undefined : Number(v));
    const body = {
      name: s.name.trim(), connector: s.connector, internalName: s.internalName.trim(), displayName: s.displayName.trim(),
      softphoneHeight: num(s.softphoneHeight), softphoneWidth: num(s.softphoneWidth), compatibilityMode: s.compatibilityMode,
      searchTypePriority: s.order.filter((x) => s.chosen.has(x)),
      externalData: s.externalData.trim(), defaultNewRowData: s.defaultNewRowData.trim(),
      ...Object.fromEntries(BOOLEANS.map((b) => [b, s[b]])),
      automaticContactRelease: num(s.automaticContactRelease),
      campaignEntityName: s.campaignEntityName.trim(),
      layout: { noMatch: s.noMatch, newRecordType: s.newRecordType, singleMatch: s.singleMatch, multipleMatches: s.multipleMatches },
      activityMode: s.activityMode,
      settings: Object.fromEntries(s.settings.filter((r) => r.key.trim()).map((r) => [r.key.trim(), r.value])),
      ...(Object.keys(secrets).length && { secrets }),
      ...(cc?.extra?.length && { extra: cc.extra }),
    };
    const ok = await act.run(() => (cc
      ? api(`${CC}/${enc(cc.id)}`, { method: 'PUT', body })
      : api(CC, { method: 'POST', body })));
    if (ok) onSaved();
  };

  const select = (key, label, options, path = key, text = (o) => o) => html`<${Field} id=${`${base}-${key}`} label=${label}>
    <select id=${`${base}-${key}`} name=${key} value=${s[key]} aria-invalid=${inv(path)} onChange=${set(key)}>
      ${options.map((o) => html`<option value=${o}>${text(o)}</option>`)}
    </select><//>`;
  const hintId = base + '-sources';

  return html`<form class="editor" onSubmit=${submit} aria-labelledby=${titleId}>
    <h3 id=${titleId}>${cc ? t('ccEdit', { name: cc.name }) : t('ccNew')}</h3>
    <div class="row">
      <label><span>${t('name')}</span>
        <input name="name" value=${s.name} required maxlength="200" autocomplete="off" aria-invalid=${inv('name')} onInput=${set('name')} /></label>
      ${select('connector', t('ccConnector'), CONNECTORS, 'connector', (o) => t('conn_' + o))}
      <label><span>${t('ccInternalName')}</span>
        <input name="internalName" value=${s.internalName} maxlength="40" pattern="[A-Za-z][A-Za-z0-9]{0,39}" autocomplete="off"
          placeholder=${t('ccFromName')} aria-invalid=${inv('internalName')} onInput=${set('internalName')} /></label>
      <label><span>${t('ccDisplayName')}</span>
        <input name="displayName" value=${s.displayName} autocomplete="off" placeholder=${t('ccFromName')}
          aria-invalid=${inv('displayName')} onInput=${set('displayName')} /></label>
    </div>
    <div class="row">
      <label><span>${t('ccHeight')}</span>
        <input name="softphoneHeight" type="number" min="240" max="2560" value=${s.softphoneHeight}
          aria-invalid=${inv('softphoneHeight')} onInput=${set('softphoneHeight')} /></label>
      <label><span>${t('ccWidth')}</span>
        <input name="softphoneWidth" type="number" min="200" max="1920" value=${s.softphoneWidth}
          aria-invalid=${inv('softphoneWidth')} onInput=${set('softphoneWidth')} /></label>
      ${select('compatibilityMode', t('ccCompat'), COMPAT_MODES, 'compatibilityMode', (o) => t('compat_' + o))}
    </div>

    <fieldset class="rows priority" aria-invalid=${inv('searchTypePriority')} aria-describedby=${base + '-prio-hint'}>
      <legend>${t('ccPriority')}</legend>
      <p class="hint" id=${base + '-prio-hint'}>${t('ccPriorityHint')}</p>
      <ol class="priority">${s.order.map((type, i) => html`<li key=${type} class="row">
        <label class="check"><input type="checkbox" checked=${s.chosen.has(type)}
          onChange=${(e) => toggle(type, e.currentTarget.checked)} /> ${t('rt_' + type)}</label>
        <button type="button" id=${`${base}-prio-${type}-up`} disabled=${i === 0} aria-label=${t('ccMoveUp', { name: t('rt_' + type) })}
          onClick=${() => move(i, -1)}><span aria-hidden="true">↑</span></button>
        <button type="button" id=${`${base}-prio-${type}-down`} disabled=${i === s.order.length - 1} aria-label=${t('ccMoveDown', { name: t('rt_' + type) })}
          onClick=${() => move(i, 1)}><span aria-hidden="true">↓</span></button>
      </li>`)}</ol>
      <p class="hint" aria-live="polite">${t('ccPriorityNow', { list: s.order.filter((x) => s.chosen.has(x)).map((x) => t('rt_' + x)).join(' › ') || t('ccNoPriority') })}</p>
    </fieldset>

    <fieldset class="rows">
      <legend>${t('ccMappings')}</legend>
      <label><span>${t('ccExternalData')}</span>
        <input name="externalData" class="wide mono" value=${s.externalData} autocomplete="off" spellcheck="false"
          aria-describedby=${hintId} aria-invalid=${inv('externalData')} onInput=${set('externalData')} /></label>
      <label><span>${t('ccDefaultNewRowData')}</span>
        <input name="defaultNewRowData" class="wide mono" value=${s.defaultNewRowData} autocomplete="off" spellcheck="false"
          aria-describedby=${hintId} aria-invalid=${inv('defaultNewRowData')} onInput=${set('defaultNewRowData')} /></label>
      <p class="hint" id=${hintId}>${t('ccMappingHint')} <code>${SOURCES.join(', ')}</code></p>
    </fieldset>

    <fieldset class="checks">
      <legend>${t('ccOptions')}</legend>
      ${BOOLEANS.map((b) => html`<label class="check" key=${b}><input type="checkbox" name=${b} checked=${s[b]}
        aria-invalid=${inv(b)} onChange=${set(b)} /> ${t('cc_' + b)}</label>`)}
    </fieldset>
    <div class="row">
      <label><span>${t('ccAutoRelease')}</span>
        <input name="automaticContactRelease" type="number" min="-1" value=${s.automaticContactRelease}
          aria-describedby=${base + '-rel-hint'} aria-invalid=${inv('automaticContactRelease')} onInput=${set('automaticContactRelease')} />
        <span class="hint" id=${base + '-rel-hint'}>${t('obAutoReleaseHint')}</span></label>
      <label><span>${t('ccCampaignEntity')}</span>
        <input name="campaignEntityName" value=${s.campaignEntityName} autocomplete="off" placeholder=${t('ccCampaignEntityNone')}
          aria-invalid=${inv('campaignEntityName')} onInput=${set('campaignEntityName')} /></label>
      ${select('activityMode', t('ccActivityMode'), ACTIVITY_MODES, 'activityMode', (o) => t('am_' + o))}
    </div>

    <fieldset class="rows">
      <legend>${t('ccLayout')}</legend>
      <div class="row">
        ${select('noMatch', t('ccNoMatch'), ['none', 'new'], 'layout.noMatch', (o) => t(o === 'new' ? 'ccLayNew' : 'ccLayNone'))}
        ${s.noMatch === 'new' && select('newRecordType', t('ccNewRecordType'), RECORD_TYPES, 'layout.newRecordType', (o) => t('rt_' + o))}
        ${select('singleMatch', t('ccSingleMatch'), ['none', 'open'], 'layout.singleMatch', (o) => t(o === 'open' ? 'ccLayOpen' : 'ccLayNone'))}
        ${select('multipleMatches', t('ccMultipleMatches'), ['none', 'search'], 'layout.multipleMatches', (o) => t(o === 'search' ? 'ccLaySearch' : 'ccLayNone'))}
      </div>
    </fieldset>

    <fieldset class="rows" aria-invalid=${inv('settings')}>
      <legend>${t('ccSettings')}</legend>
      ${s.settings.length === 0 && html`<p class="hint">${t('ccNoSettings')}</p>`}
      ${s.settings.map((r, i) => html`<div class="row" key=${r._k}>
        <label><span>${t('ccSettingName', { n: i + 1 })}</span>
          <input id=${`${base}-set${i}`} value=${r.key} autocomplete="off" maxlength="100" aria-invalid=${inv('settings.' + r.key)}
            onInput=${(e) => setRow('settings', i, 'key', e.currentTarget.value)} /></label>
        <label><span>${t('ccSettingValue', { n: i + 1 })}</span>
          <input class="wide" value=${r.value} autocomplete="off" aria-invalid=${inv('settings.' + r.key)}
            onInput=${(e) => setRow('settings', i, 'value', e.currentTarget.value)} /></label>
        <button type="button" class="danger" aria-label=${t('ccRemoveSetting', { n: i + 1 })}
          onClick=${() => setS({ ...s, settings: s.settings.filter((_, j) => j !== i) })}>${t('remove')}</button>
      </div>`)}
      <p><button type="button" onClick=${() => {
        setS({ ...s, settings: [...s.settings, withKey({ key: '', value: '' })] });
        focusLater(`${base}-set${s.settings.length}`);
      }}>${t('ccAddSetting')}</button></p>
    </fieldset>

    <fieldset class="rows" aria-invalid=${inv('secrets')}>
      <legend>${t('ccSecrets')}</legend>
      <p class="hint">${t('ccSecretsHint')}</p>
      ${s.secretsSet.map((name) => html`<div class="row" key=${name}>
        <label><span>${t('ccSecretNew', { name })}</span>
          <input type="password" autocomplete="new-password" value=${s.secretValues[name] || ''} placeholder=${t('ccSecretIsSet')}
            disabled=${s.secretRemove.has(name)} aria-invalid=${inv('secrets.' + name)}
            onInput=${(e) => setS({ ...s, secretValues: { ...s.secretValues, [name]: e.currentTarget.value } })} /></label>
        <span class="state on">${t('ccSecretIsSet')}</span>
        <label class="check"><input type="checkbox" checked=${s.secretRemove.has(name)} onChange=${(e) => {
          const rm = new Set(s.secretRemove);
          if (e.currentTarget.checked) rm.add(name); else rm.delete(name);
          setS({ ...s, secretRemove: rm });
        }} /> ${t('ccSecretRemove', { name })}</label>
      </div>`)}
      ${s.newSecrets.map((r, i) => html`<div class="row" key=${r._k}>
        <label><span>${t('ccNewSecretName', { n: i + 1 })}</span>
          <input id=${`${base}-sec${i}`} value=${r.key} autocomplete="off" pattern="[A-Za-z][A-Za-z0-9_]{0,63}"
            aria-invalid=${inv('secrets.' + r.key)} onInput=${(e) => setRow('newSecrets', i, 'key', e.currentTarget.value)} /></label>
        <label><span>${t('ccNewSecretValue', { n: i + 1 })}</span>
          <input type="password" autocomplete="new-password" value=${r.value}
            onInput=${(e) => setRow('newSecrets', i, 'value', e.currentTarget.value)} /></label>
        <button type="button" class="danger" aria-label=${t('ccRemoveNewSecret', { n: i + 1 })}
          onClick=${() => setS({ ...s, newSecrets: s.newSecrets.filter((_, j) => j !== i) })}>${t('remove')}</button>
      </div>`)}
      <p><button type="button" onClick=${() => {
        setS({ ...s, newSecrets: [...s.newSecrets, withKey({ key: '', value: '' })] });
        focusLater(`${base}-sec${s.newSecrets.length}`);
      }}>${t('ccAddSecret')}</button></p>
    </fieldset>

    <div class="row">
      <button type="submit" class="primary" disabled=${act.busy}>${t('ccSave')}</button>
      <button type="button" onClick=${onCancel}>${t('cancel')}</button>
    </div>
    <${ErrorBox} error=${act.error} />
  </form>`;
}

// ---- XML ---------------------------------------------------------------------------

// XmlImportForm takes a definition from a file or pasted text and hands it
// to onImport; the server's error (naming section and item) shows beside it.
function XmlImportForm({ title, withName, onImport, onDone, onCancel }) {
  const base = useId();
  const [xml, setXml] = useState('');
  const [name, setName] = useState('');
  const [connector, setConnector] = useState('salesforce');
  const act = useAction();
  const readFile = async (e) => {
    const file = e.currentTarget.files?.[0];
    if (file) setXml(await file.text());
  };
  const submit = async (e) => {
    e.preventDefault();
    const q = withName ? Object.fromEntries(Object.entries({ name: name.trim(), connector }).filter(([, v]) => v)) : undefined;
    const ok = await act.run(() => onImport(xml, q));
    if (ok) onDone?.(ok);
  };
  return html`<form class="csv-upload xml" onSubmit=${submit} aria-labelledby=${base + '-title'}>
    <h4 id=${base + '-title'}>${title}</h4>
    ${withName && html`<div class="row">
      <label><span>${t('ccImportName')}</span>
        <input value=${name} autocomplete="off" placeholder=${t('ccFromDisplayName')} onInput=${(e) => setName(e.currentTarget.value)} /></label>
      <${Field} id=${base + '-conn'} label=${t('ccConnector')}>
        <select id=${base + '-conn'} value=${connector} onChange=${(e) => setConnector(e.currentTarget.value)}>
          ${CONNECTORS.map((o) => html`<option value=${o}>${t('conn_' + o)}</option>`)}
        </select><//>
    </div>`}
    <label><span>${t('ccXmlFile')}</span>
      <input type="file" accept=".xml,application/xml,text/xml" onChange=${readFile} /></label>
    <label><span>${t('ccXmlText')}</span>
      <textarea class="xml mono" rows="8" spellcheck="false" required value=${xml}
        aria-invalid=${act.error ? 'true' : undefined} onInput=${(e) => setXml(e.currentTarget.value)}></textarea></label>
    <div class="row">
      <button type="submit" class="primary" disabled=${act.busy || !xml.trim()}>${t('ccImportXml')}</button>
      ${onCancel && html`<button type="button" onClick=${onCancel}>${t('cancel')}</button>`}
    </div>
    <p class="status" role="status">${act.status && t(act.status)}</p>
    <${ErrorBox} error=${act.error} />
  </form>`;
}

function XmlPanel({ cc, isAdmin, onClose, onChanged }) {
  const base = useId();
  const [xml, setXml] = useState(null);
  const [replaced, setReplaced] = useState(false);
  const act = useAction();
  const area = useRef(null);
  const exportXml = () => act.run(async () => {
    const res = await rawRequest(`${CC}/${enc(cc.id)}/xml`);
    setXml(await res.text());
  });
  useEffect(() => { if (xml) area.current?.focus(); }, [xml]);
  return html`<section class="detail" aria-labelledby=${base + '-title'}>
    <div class="detail-head">
      <h3 id=${base + '-title'}>${t('ccXmlTitle', { name: cc.name })}</h3>
      <button type="button" onClick=${onClose}>${t('ccClose')}</button>
    </div>
    <div class="row">
      <button type="button" disabled=${act.busy} onClick=${exportXml}>${t('ccExportXml')}</button>
      ${xml && html`<button type="button" onClick=${() => saveFile(xml, `${cc.internalName || 'callcenter'}.xml`, 'application/xml')}>${t('ccDownload')}</button>`}
    </div>
    <${ErrorBox} error=${act.error} />
    ${xml && html`<label><span>${t('ccExportedXml')}</span>
      <textarea ref=${area} class="xml mono" rows="12" readonly spellcheck="false" value=${xml}></textarea></label>`}
    <p class="status" role="status">${replaced && t('ccReplaced')}</p>
    ${isAdmin && html`<${XmlImportForm} title=${t('ccReplaceFromXml')}
      onImport=${(text) => xmlRequest(`${CC}/${enc(cc.id)}/xml`, 'PUT', text)}
      onDone=${() => { setReplaced(true); setXml(null); onChanged(); }} />`}
  </section>`;
}

// ---- the screen-pop preview ------------------------------------------------------------

function actionText(a) {
  if (!a) return '—';
  switch (a.kind) {
    case 'open': return a.recordId ? t('ccActOpenRecord', { type: t('rt_' + a.type) || a.type, id: a.recordId })
      : t('ccActOpen');
    case 'new': return t('ccActNew', { type: a.type ? t('rt_' + a.type) : '—' });
    case 'search': return t('ccActSearch');
    default: return t('ccActNone');
  }
}

function MapTable({ map, caption }) {
  const entries = Object.entries(map || {});
  if (!entries.length) return null;
  return html`<table class="report">
    <caption>${caption}</caption>
    <thead><tr><th scope="col">${t('ccField')}</th><th scope="col">${t('ccValue')}</th></tr></thead>
    <tbody>${entries.map(([k, v]) => html`<tr key=${k}><td class="mono">${k}</td><td>${v === '' ? t('ccEmptyValue') : v}</td></tr>`)}</tbody>
  </table>`;
}

function searchText(q) {
  if (!q) return t('ccNoSearch');
  const types = (q.types || []).map((x) => t('rt_' + x)).join(', ') || '—';
  if (q.phone) return t('ccSearchPhone', { phone: q.phone, types });
  return t('ccSearchField', { field: q.field === 'Id' ? t('ccRecordId') : q.field, value: q.value, types });
}

function PreviewTool({ callCenters }) {
  const base = useId();
  const [ccId, setCcId] = useState('');
  const [data, setData] = useState(() => PREVIEW_KEYS.map((key) => withKey({ key, value: '' })));
  const [withMatches, setWithMatches] = useState(false);
  const [matches, setMatches] = useState(() => [withKey({ type: 'Contact', id: '', name: '' })]);
  const [result, setResult] = useState(null);
  const act = useAction();
  const focusLater = useFocusLater();
  const chosen = ccId || callCenters[0]?.id || '';
  const setIn = (rows, setRows, i, k, v) => setRows(rows.map((r, j) => (j === i ? { ...r, [k]: v } : r)));
  const inv = (p) => invalidAt(act.error, p);

  const submit = async (e) => {
    e.preventDefault();
    setResult(null);
    const body = {
      callCenterId: chosen,
      callData: Object.fromEntries(data.filter((r) => r.key.trim() && r.value !== '').map((r) => [r.key.trim(), r.value])),
      ...(withMatches && { matches: matches.filter((m) => m.id.trim()).map((m) => ({ type: m.type, id: m.id.trim(), ...(m.name.trim() && { name: m.name.trim() }) })) }),
    };
    const r = await act.run(() => api('/api/v2/crm/screenpop/preview', { method: 'POST', body }));
    if (r && r !== true) setResult(r);
  };

  const plan = result?.plan;
  const decision = result?.decision;
  return html`<section class="preview-tool" aria-labelledby=${base + '-title'}>
    <h3 id=${base + '-title'}>${t('ccPreviewTitle')}</h3>
    <p class="hint">${t('ccPreviewHint')}</p>
    <form class="editor" onSubmit=${submit} aria-label=${t('ccPreviewTitle')}>
      <${Field} id=${base + '-cc'} label=${t('ccCallCenter')}>
        <select id=${base + '-cc'} value=${chosen} required onChange=${(e) => setCcId(e.currentTarget.value)}>
          ${callCenters.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
        </select><//>
      <fieldset class="rows" aria-invalid=${inv('callData')}>
        <legend>${t('ccCallData')}</legend>
        ${data.map((r, i) => html`<div class="row" key=${r._k}>
          <label><span>${t('ccDataName', { n: i + 1 })}</span>
            <input id=${`${base}-d${i}`} value=${r.key} list=${base + '-sources'} autocomplete="off"
              onInput=${(e) => setIn(data, setData, i, 'key', e.currentTarget.value)} /></label>
          <label><span>${t('ccValueOf', { name: r.key || i + 1 })}</span>
            <input value=${r.value} autocomplete="off" aria-invalid=${inv('callData.' + r.key)}
              onInput=${(e) => setIn(data, setData, i, 'value', e.currentTarget.value)} /></label>
          <button type="button" class="danger" aria-label=${t('ccRemoveData', { name: r.key || i + 1 })}
            onClick=${() => setData(data.filter((_, j) => j !== i))}>${t('remove')}</button>
        </div>`)}
        <datalist id=${base + '-sources'}>${SOURCES.map((x) => html`<option value=${x} />`)}</datalist>
        <p><button type="button" onClick=${() => { setData([...data, withKey({ key: '', value: '' })]); focusLater(`${base}-d${data.length}`); }}>${t('ccAddData')}</button></p>
      </fieldset>
      <fieldset class="rows">
        <legend>${t('ccMatches')}</legend>
        <label class="check"><input type="checkbox" checked=${withMatches} onChange=${(e) => setWithMatches(e.currentTarget.checked)} /> ${t('ccWithMatches')}</label>
        ${withMatches && html`
          ${matches.length === 0 && html`<p class="hint">${t('ccNoMatchesGiven')}</p>`}
          ${matches.map((m, i) => html`<div class="row" key=${m._k}>
            <${Field} id=${`${base}-m${i}-type`} label=${t('ccMatchType', { n: i + 1 })}>
              <select id=${`${base}-m${i}-type`} value=${m.type} onChange=${(e) => setIn(matches, setMatches, i, 'type', e.currentTarget.value)}>
                ${RECORD_TYPES.map((x) => html`<option value=${x}>${t('rt_' + x)}</option>`)}
              </select><//>
            <label><span>${t('ccMatchId', { n: i + 1 })}</span>
              <input value=${m.id} autocomplete="off" aria-invalid=${inv(`matches[${i}]`)}
                onInput=${(e) => setIn(matches, setMatches, i, 'id', e.currentTarget.value)} /></label>
            <label><span>${t('ccMatchName', { n: i + 1 })}</span>
              <input value=${m.name} autocomplete="off" onInput=${(e) => setIn(matches, setMatches, i, 'name', e.currentTarget.value)} /></label>
            <button type="button" class="danger" aria-label=${t('ccRemoveMatch', { n: i + 1 })}
              onClick=${() => setMatches(matches.filter((_, j) => j !== i))}>${t('remove')}</button>
          </div>`)}
          <p><button type="button" onClick=${() => {
            setMatches([...matches, withKey({ type: 'Account', id: '', name: '' })]);
            focusLater(`${base}-m${matches.length}-type`);
          }}>${t('ccAddMatch')}</button></p>`}
      </fieldset>
      <div class="row"><button type="submit" class="primary" disabled=${act.busy || !chosen}>${t('ccPreview')}</button></div>
      <${ErrorBox} error=${act.error} />
    </form>
    ${plan && html`<section class="detail plan" aria-labelledby=${base + '-plan'}>
      ${decision && html`<div class="decision" role="status">
        <h4>${t('ccDecision')}</h4>
        <p class="verdict">${actionText(decision.action)}</p>
        <p class="hint">${t('ccReason')}: ${decision.reason}</p>
        ${decision.matches?.length > 0 && html`<p>${t('ccMatchesFound')}: ${decision.matches.map((m) => `${t('rt_' + m.type)} ${m.id}${m.name ? ` (${m.name})` : ''}`).join(', ')}</p>`}
        <${MapTable} map=${decision.updates} caption=${t('ccUpdates')} />
      </div>`}
      <h4 id=${base + '-plan'}>${t('ccPlan')}</h4>
      <dl class="plan">
        <dt>${t('ccSearch')}</dt><dd>${searchText(plan.search)}</dd>
        <dt>${t('ccSearchBy')}</dt><dd>${show(plan.searchBy)}</dd>
        <dt>${t('ccSearchData')}</dt><dd>${show(plan.searchData)}</dd>
        <dt>${t('ccPriority')}</dt><dd>${plan.priority?.length ? plan.priority.map((x) => t('rt_' + x)).join(' › ') : t('ccNoPriority')}</dd>
        <dt>${t('ccOnNone')}</dt><dd>${actionText(plan.onNone)}</dd>
        <dt>${t('ccOnOne')}</dt><dd>${actionText(plan.onOne)}</dd>
        <dt>${t('ccOnMany')}</dt><dd>${actionText(plan.onMany)}</dd>
        <dt>${t('ccLog')}</dt><dd>${plan.log
          ? t('ccLogPlan', { mode: t('am_' + plan.log.mode), direction: plan.log.direction, subject: plan.log.subject })
            + (plan.log.useDescription ? ' ' + t('ccLogDescription') : '')
          : t('ccLogNone')}</dd>
      </dl>
      <${MapTable} map=${plan.onNone?.defaults} caption=${t('ccNewDefaults')} />
      <${MapTable} map=${plan.updates} caption=${t('ccPlanUpdates')} />
    </section>`}
  </section>`;
}
