// The Centralita console: one tab per administered resource, all driven by
// the public /api/v2. Preact + htm, loaded as plain modules (no bundler).

import { h, render } from 'preact';
import { useState, useEffect, useRef } from 'preact/hooks';
import htm from 'htm';
import { api, listAll, PAGE_SIZE } from './api.js';
import { initSession, logout, clearSession, startLogin } from './auth.js';
import { t, getLang, setLang, languages } from './i18n.js';
import { ErrorBox } from './errors.js';
import { Pager } from './pager.js';
import { AgentView } from './agent.js';
import { SchemasSection, ContactListsSection, DncSection, CampaignsSection, CallbacksSection } from './outbound.js';
import { CallCentersSection } from './crm.js';
import { TrunksSection, RecordingsSection } from './telephony.js';
import { PromptsSection } from './prompts.js';

const html = htm.bind(h);

const ROLES = ['admin', 'supervisor', 'agent'];
const roleOptions = () => ROLES.map((r) => [r, r]);

function show(value) {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? t('yes') : t('no');
  if (Array.isArray(value)) return value.map(show).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// ---- forms ----------------------------------------------------------------

const initialValues = (fields) => Object.fromEntries(fields.map((f) => [f.name, f.initial ?? '']));

// CreateForm renders labelled fields from a small spec and shows the API's
// error next to itself; field names in error.details are marked invalid.
function CreateForm({ title, fields, onSubmit }) {
  const [values, setValues] = useState(() => initialValues(fields));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const invalid = new Set((error?.details || []).map((d) => d.fieldName));

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(values);
      setValues(initialValues(fields));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const set = (name) => (e) => setValues({ ...values, [name]: e.currentTarget.value });

  return html`<form class="create" onSubmit=${submit}>
    ${fields.filter((f) => !f.when || f.when(values)).map((f) => html`<label key=${f.name}>
      <span>${t(f.label)}</span>
      ${f.options
        ? html`<select name=${f.name} value=${values[f.name]} required=${f.required} onChange=${set(f.name)}
            aria-invalid=${invalid.has(f.name) ? 'true' : undefined}>
            ${f.options().map(([v, text]) => html`<option value=${v}>${text}</option>`)}
          </select>`
        : html`<input name=${f.name} type=${f.type || 'text'} value=${values[f.name]}
            required=${f.required} min=${f.min} autocomplete=${f.type === 'password' ? 'new-password' : 'off'}
            aria-invalid=${invalid.has(f.name) ? 'true' : undefined} onInput=${set(f.name)} />`}
    </label>`)}
    <button type="submit" disabled=${busy}>${title}</button>
    <${ErrorBox} error=${error} />
  </form>`;
}

// ---- paged lists ----------------------------------------------------------

function usePaged(path) {
  const [pageNumber, setPageNumber] = useState(1);
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let current = true;
    api(path, { query: { pageSize: PAGE_SIZE, pageNumber } })
      .then((d) => {
        if (!current) return;
        // Deleting the last row of the last page leaves us past the end.
        if (pageNumber > 1 && !(d?.entities?.length)) setPageNumber(pageNumber - 1);
        setData(d);
        setError(null);
      })
      .catch((err) => current && setError(err));
    return () => { current = false; };
  }, [path, pageNumber, version]);
  return { pageNumber, setPageNumber, data, error, reload: () => setVersion((v) => v + 1) };
}

// Resource is one section: a paged table, a create form and per-row
// delete, with create/delete hidden from non-admins.
function Resource({ spec, me, isAdmin, onCreated, cell, notice, extra }) {
  const list = usePaged(spec.path);
  const [rowError, setRowError] = useState(null);
  const [status, setStatus] = useState(''); // an i18n key, so it follows the language switch
  const rows = list.data?.entities || [];
  const deletable = (row) => isAdmin && (!spec.canDelete || spec.canDelete(row, me));
  const showActions = isAdmin && rows.some(deletable);

  const create = async (values) => {
    setStatus(''); // a failed create must not leave an earlier "Created." beside its error
    const created = await api(spec.path, { method: 'POST', body: spec.toBody(values) });
    setStatus('created');
    onCreated?.(created, values);
    list.reload();
  };
  const remove = async (row) => {
    setRowError(null);
    setStatus('');
    try {
      await api(`${spec.path}/${encodeURIComponent(row.id)}`, { method: 'DELETE' });
      setStatus('deleted');
      list.reload();
    } catch (err) {
      setRowError(err);
    }
  };

  const renderRow = (row) => html`<tr key=${row.id}>
    ${spec.columns.map((c) => html`<td>${(cell && cell(c, row)) ?? show(c.value ? c.value(row) : row[c.key])}</td>`)}
    ${showActions && html`<td>${deletable(row) && html`<button type="button" class="danger"
      aria-label=${t('deleteItem', { name: spec.rowName(row) })} onClick=${() => remove(row)}>${t('delete')}</button>`}</td>`}
  </tr>`;

  // Grouped specs (wrap-up codes) get one <tbody> per group, in first-seen order.
  const groups = new Map();
  for (const row of rows) {
    const key = spec.groupBy ? spec.groupBy(row) : '';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  const colCount = spec.columns.length + (showActions ? 1 : 0);

  return html`<div class="resource">
    ${isAdmin && spec.fields && html`<${CreateForm} title=${t(spec.createLabel)} fields=${spec.fields} onSubmit=${create} />`}
    ${notice}
    <p class="status" role="status">${status && t(status)}</p>
    <${ErrorBox} error=${list.error || rowError} />
    ${list.data && !list.error && html`
      ${rows.length === 0
        ? html`<p class="empty">${t('empty')}</p>`
        : html`<table>
          <thead><tr>
            ${spec.columns.map((c) => html`<th scope="col">${t(c.label)}</th>`)}
            ${showActions && html`<th scope="col"><span class="visually-hidden">${t('actions')}</span></th>`}
          </tr></thead>
          ${[...groups].map(([group, groupRows]) => html`<tbody key=${group}>
            ${spec.groupBy && html`<tr class="group"><th scope="rowgroup" colspan=${colCount}>${group}</th></tr>`}
            ${groupRows.map(renderRow)}
          </tbody>`)}
        </table>`}
      <${Pager} list=${list} />`}
    ${extra}
  </div>`;
}

// ---- section specs --------------------------------------------------------

const col = (key, label = key, value) => ({ key, label, value });

const specs = {
  users: {
    path: '/api/v2/users',
    columns: [col('name'), col('username'), col('email'), col('roles'), col('state')],
    rowName: (u) => u.username || u.name,
    // Deleting yourself would end the session mid-click.
    canDelete: (u, me) => u.id !== me?.id,
    createLabel: 'createUser',
    fields: [
      { name: 'name', label: 'name', required: true },
      { name: 'username', label: 'username', required: true },
      { name: 'email', label: 'email', type: 'email' },
      { name: 'password', label: 'password', type: 'password', required: true },
      { name: 'role', label: 'roles', options: roleOptions, initial: 'agent' },
    ],
    toBody: (v) => ({ name: v.name, username: v.username, email: v.email, password: v.password, roles: [v.role] }),
  },
  devices: {
    path: '/api/v2/stations',
    columns: [col('name'), col('type'), col('status')],
    rowName: (d) => d.name,
    createLabel: 'createDevice',
    fields: [
      { name: 'name', label: 'name', required: true },
      { name: 'type', label: 'type', options: () => [['sip', 'SIP'], ['webrtc', 'WebRTC'], ['remote', t('remote')]], initial: 'sip' },
      { name: 'password', label: 'password', type: 'password' },
      { name: 'remoteNumber', label: 'remoteNumber', type: 'tel', required: true, when: (v) => v.type === 'remote' },
    ],
    toBody: (v) => ({
      name: v.name,
      type: v.type,
      ...(v.password && { password: v.password }),
      ...(v.type === 'remote' && { remoteNumber: v.remoteNumber }),
    }),
  },
  skills: {
    path: '/api/v2/routing/skills',
    columns: [col('name')],
    rowName: (s) => s.name,
    createLabel: 'createSkill',
    fields: [{ name: 'name', label: 'name', required: true }],
    toBody: (v) => ({ name: v.name }),
  },
  queues: {
    path: '/api/v2/routing/queues',
    columns: [col('name'), col('description'), col('memberCount', 'members'), col('waitPrompt', 'waitPrompt'), col('holdMusic', 'holdMusic')],
    rowName: (q) => q.name,
    createLabel: 'createQueue',
    fields: [
      { name: 'name', label: 'name', required: true },
      { name: 'description', label: 'description' },
      // Waiting audio: prompt names (the Prompts tab); empty = queue-wait, moh.
      { name: 'waitPrompt', label: 'waitPrompt' },
      { name: 'holdMusic', label: 'holdMusic' },
    ],
    toBody: (v) => ({ name: v.name, description: v.description, waitPrompt: v.waitPrompt || undefined, holdMusic: v.holdMusic || undefined }),
  },
  wrapupcodes: {
    path: '/api/v2/routing/wrapupcodes',
    columns: [col('name'), col('subcategory')],
    groupBy: (w) => w.category || t('noCategory'),
    rowName: (w) => w.name,
    createLabel: 'createWrapup',
    fields: [
      { name: 'name', label: 'name', required: true },
      { name: 'category', label: 'category' },
      { name: 'subcategory', label: 'subcategory' },
    ],
    toBody: (v) => ({ name: v.name, category: v.category, subcategory: v.subcategory }),
  },
  presence: {
    path: '/api/v2/presencedefinitions',
    columns: [
      col('label', 'label', presenceLabel),
      col('systemPresence', 'systemPresence'),
      col('breakNumber', 'breakNumber'),
      col('deactivated', 'deactivated'),
    ],
    rowName: presenceLabel,
    // Only custom break states can be deleted; the system ones have no number.
    canDelete: (p) => p.breakNumber !== undefined && p.breakNumber !== null,
    createLabel: 'createPresence',
    fields: [
      { name: 'breakNumber', label: 'breakNumber', type: 'number', min: 1, required: true },
      { name: 'label', label: 'label', required: true },
    ],
    toBody: (v) => ({ breakNumber: Number(v.breakNumber), label: v.label }),
  },
  clients: {
    path: '/api/v2/oauth/clients',
    columns: [col('name'), col('id', 'clientId'), col('authorizedGrantType', 'grantType'), col('roles'),
      col('accessTokenValiditySeconds', 'tokenValidity')],
    rowName: (c) => c.name,
    createLabel: 'createClient',
    fields: [
      { name: 'name', label: 'name', required: true },
      { name: 'role', label: 'roles', options: roleOptions, initial: 'admin' },
      { name: 'validity', label: 'tokenValidity', type: 'number', min: 60, initial: '86400', required: true },
    ],
    toBody: (v) => ({
      name: v.name,
      authorizedGrantType: 'CLIENT-CREDENTIALS',
      roles: [v.role],
      accessTokenValiditySeconds: Number(v.validity),
    }),
  },
};

function presenceLabel(p) {
  const labels = p.languageLabels || {};
  return (getLang() === 'es' ? labels.es : labels.en_US) || labels.en_US || p.name || p.systemPresence;
}

// ---- sections with extra behaviour ----------------------------------------

// The secret exists only in the create answer, so it is kept in memory
// until dismissed and never stored.
function ClientsSection({ isAdmin }) {
  const [created, setCreated] = useState(null);
  const [copied, setCopied] = useState(false);
  const secretInput = useRef(null);
  // Focus lands on the secret so keyboard and screen-reader users meet it
  // right away instead of after the table.
  useEffect(() => { secretInput.current?.select(); }, [created]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.secret);
    } catch {
      // Clipboard API needs a secure context; fall back to selecting it.
      secretInput.current.select();
      document.execCommand('copy');
    }
    setCopied(true);
  };
  const secretBox = created && html`<section class="secret" aria-labelledby="secret-title">
    <h3 id="secret-title">${t('secretTitle', { name: created.name })}</h3>
    <p><strong>${t('secretNotice')}</strong></p>
    <label><span>${t('clientId')}</span><input readonly value=${created.id} /></label>
    <label><span>${t('clientSecret')}</span><input ref=${secretInput} readonly value=${created.secret} /></label>
    <div class="actions">
      <button type="button" onClick=${copy}>${copied ? t('copied') : t('copy')}</button>
      <button type="button" onClick=${() => setCreated(null)}>${t('dismiss')}</button>
    </div>
  </section>`;
  return html`<${Resource} spec=${specs.clients} isAdmin=${isAdmin}
    onCreated=${(c) => { setCopied(false); setCreated(c?.secret ? c : null); }} notice=${secretBox} />`;
}

function QueuesSection({ isAdmin }) {
  const [open, setOpen] = useState(null);
  const cell = (c, q) => c.key === 'name'
    ? html`<button type="button" class="link" aria-expanded=${String(open?.id === q.id)}
        onClick=${() => setOpen(open?.id === q.id ? null : q)}>${q.name}</button>`
    : undefined;
  return html`<${Resource} spec=${specs.queues} isAdmin=${isAdmin} cell=${cell}
    extra=${open && html`<${Members} key=${open.id} queue=${open} isAdmin=${isAdmin} onClose=${() => setOpen(null)} />`} />`;
}

function Members({ queue, isAdmin, onClose }) {
  const path = `/api/v2/routing/queues/${encodeURIComponent(queue.id)}/members`;
  const [members, setMembers] = useState(null);
  const [users, setUsers] = useState([]);
  const [error, setError] = useState(null);
  const [version, setVersion] = useState(0);
  const reload = () => setVersion((v) => v + 1);

  useEffect(() => {
    api(path, { query: { pageSize: 100 } })
      .then((d) => { setMembers(d?.entities || []); setError(null); })
      .catch(setError);
  }, [path, version]);
  useEffect(() => {
    if (isAdmin) listAll('/api/v2/users').then(setUsers).catch(setError);
  }, [isAdmin]);

  const change = async (userId, remove) => {
    setError(null);
    try {
      await api(path, { method: 'POST', body: [{ id: userId }], query: remove ? { delete: 'true' } : undefined });
      reload();
    } catch (err) {
      setError(err);
    }
  };
  const memberIds = new Set((members || []).map((m) => m.id));
  const candidates = users.filter((u) => !memberIds.has(u.id));

  return html`<section class="members" aria-labelledby="members-title">
    <div class="members-head">
      <h3 id="members-title">${t('membersOf', { name: queue.name })}</h3>
      <button type="button" onClick=${onClose}>${t('closeMembers')}</button>
    </div>
    ${isAdmin && html`<${CreateForm} title=${t('addMember')}
      fields=${[{ name: 'user', label: 'user', required: true,
        options: () => [['', t('chooseUser')], ...candidates.map((u) => [u.id, `${u.name} (${u.username})`])] }]}
      onSubmit=${(v) => change(v.user, false)} />`}
    <${ErrorBox} error=${error} />
    ${members && (members.length === 0
      ? html`<p class="empty">${t('empty')}</p>`
      : html`<table>
        <thead><tr>
          <th scope="col">${t('name')}</th><th scope="col">${t('joined')}</th><th scope="col">${t('ringNumber')}</th>
          ${isAdmin && html`<th scope="col"><span class="visually-hidden">${t('actions')}</span></th>`}
        </tr></thead>
        <tbody>${members.map((m) => html`<tr key=${m.id}>
          <td>${show(m.name)}</td><td>${show(m.joined)}</td><td>${show(m.ringNumber)}</td>
          ${isAdmin && html`<td><button type="button" class="danger" aria-label=${t('removeMember', { name: m.name })}
            onClick=${() => change(m.id, true)}>${t('remove')}</button></td>`}
        </tr>`)}</tbody>
      </table>`)}
  </section>`;
}

// ---- shell ----------------------------------------------------------------

const TABS = ['users', 'devices', 'skills', 'queues', 'wrapupcodes', 'presence', 'clients',
  'schemas', 'contactlists', 'dnclists', 'campaigns', 'callbacks', 'callcenters', 'trunks', 'recordings', 'prompts', 'agent'];
// The outbound and CRM tabs are for supervisors and admins; agents also get Callbacks.
const SUPERVISOR_TABS = new Set(['schemas', 'contactlists', 'dnclists', 'campaigns', 'callcenters', 'recordings', 'prompts']);
const ADMIN_TABS = new Set(['trunks']); // telephony.js
const tabsFor = (me) => {
  const roles = me?.roles || [];
  const supervisor = roles.includes('admin') || roles.includes('supervisor');
  return TABS.filter((name) => (ADMIN_TABS.has(name) ? roles.includes('admin')
    : SUPERVISOR_TABS.has(name) ? supervisor : name !== 'callbacks' || supervisor || roles.includes('agent')));
};
// The tab named by the hash, else the default: the Agent view for agent-only
// users (their day is spent there), Users for everyone else.
const defaultTab = (me) => (me?.roles?.length === 1 && me.roles[0] === 'agent' ? 'agent' : TABS[0]);
const tabFromHash = (fallback = TABS[0], tabs = TABS) => (tabs.includes(location.hash.slice(1)) ? location.hash.slice(1) : fallback);

function Section({ tab, me, isAdmin }) {
  if (tab === 'agent') return html`<${AgentView} me=${me} />`;
  if (tab === 'schemas') return html`<${SchemasSection} isAdmin=${isAdmin} />`;
  if (tab === 'contactlists') return html`<${ContactListsSection} isAdmin=${isAdmin} />`;
  if (tab === 'dnclists') return html`<${DncSection} isAdmin=${isAdmin} />`;
  if (tab === 'campaigns') return html`<${CampaignsSection} isAdmin=${isAdmin} />`;
  if (tab === 'callbacks') return html`<${CallbacksSection} me=${me} />`;
  if (tab === 'callcenters') return html`<${CallCentersSection} isAdmin=${isAdmin} />`;
  if (tab === 'trunks') return html`<${TrunksSection} isAdmin=${isAdmin} />`;
  if (tab === 'recordings') return html`<${RecordingsSection} />`;
  if (tab === 'prompts') return html`<${PromptsSection} isAdmin=${isAdmin} />`; // prompts.js
  if (tab === 'queues') return html`<${QueuesSection} isAdmin=${isAdmin} />`;
  if (tab === 'clients') return html`<${ClientsSection} isAdmin=${isAdmin} />`;
  return html`<${Resource} key=${tab} spec=${specs[tab]} me=${me} isAdmin=${isAdmin} />`;
}

function Tabs({ tab, tabs = TABS }) {
  // Arrow keys move between tabs, as the ARIA tabs pattern expects.
  const onKeyDown = (e) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (!step) return;
    const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
    location.hash = next;
    document.getElementById('tab-' + next)?.focus();
  };
  return html`<nav class="tabs">
    <div role="tablist" aria-label=${t('sections')} onKeyDown=${onKeyDown}>
      ${tabs.map((name) => html`<button type="button" role="tab" id=${'tab-' + name} key=${name}
        aria-selected=${name === tab ? 'true' : 'false'} aria-controls="panel" tabindex=${name === tab ? 0 : -1}
        onClick=${() => { location.hash = name; }}>${t(name)}</button>`)}
    </div>
    <div class="doclinks">
      <a href="/docs" target="_blank" rel="noopener">${t('apiDocs')}</a>
      <a href="/openapi.json" target="_blank" rel="noopener">${t('openapi')}</a>
    </div>
  </nav>`;
}

function Header({ me, onLang }) {
  return html`<header>
    <h1>${t('product')}</h1>
    <div class="header-tools">
      <span class="me">${t('signedInAs')} <strong>${me.name || me.username}</strong>
        ${me.roles?.length > 0 && html` <span class="roles">(${me.roles.join(', ')})</span>`}</span>
      <${LangSelect} onLang=${onLang} />
      <button type="button" onClick=${() => logout()}>${t('logOut')}</button>
    </div>
  </header>`;
}

function LangSelect({ onLang }) {
  return html`<label class="lang"><span class="visually-hidden">${t('language')}</span>
    <select value=${getLang()} onChange=${(e) => onLang(e.currentTarget.value)}>
      ${languages.map(([code, name]) => html`<option value=${code} lang=${code}>${name}</option>`)}
    </select>
  </label>`;
}

function App() {
  const [session, setSession] = useState({ phase: 'loading' });
  const [, setLangState] = useState(getLang());
  const [tab, setTab] = useState(() => tabFromHash());
  const fallback = useRef(TABS[0]); // the default tab, known once /users/me answers
  const allowed = useRef(TABS); // the tabs the user may see, known once /users/me answers

  useEffect(() => {
    const onHash = () => setTab(tabFromHash(fallback.current, allowed.current));
    addEventListener('hashchange', onHash);
    (async () => {
      await initSession();
      const me = await api('/api/v2/users/me');
      fallback.current = defaultTab(me);
      allowed.current = tabsFor(me);
      setTab(tabFromHash(fallback.current, allowed.current)); // initSession may have restored the hash
      setSession({ phase: 'ready', me });
    })().catch((error) => setSession({ phase: 'error', error }));
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const onLang = (lang) => {
    setLang(lang);
    setLangState(lang);
  };

  if (session.phase === 'loading') {
    return html`<p class="loading" role="status">${t('signingIn')}</p>`;
  }
  if (session.phase === 'error') {
    return html`<main class="signin-error">
      <h1>${t('signInFailed')}</h1>
      <${ErrorBox} error=${session.error} />
      <button type="button" onClick=${() => { clearSession(); startLogin(); }}>${t('signInAgain')}</button>
      <${LangSelect} onLang=${onLang} />
    </main>`;
  }
  const isAdmin = (session.me.roles || []).includes('admin');
  return html`<${Header} me=${session.me} onLang=${onLang} />
    <${Tabs} tab=${tab} tabs=${tabsFor(session.me)} />
    <main id="panel" role="tabpanel" aria-labelledby=${'tab-' + tab}>
      <h2>${t(tab)}</h2>
      <${Section} tab=${tab} me=${session.me} isAdmin=${isAdmin} />
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
