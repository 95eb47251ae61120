// The agent's outbound desk, inside the Agent view: log into an outbound
// campaign (Login_Campaign / Logout_Campaign), and — when the dialer offers
// them through GET /api/v2/outbound/me — the preview card (Dial / Skip), the
// release after the call (categorize, or release without a category when
// the campaign allows), scheduling a callback and "Ready" for the next
// call. Kept current by the v2.users.{me}.outbound and .outboundcampaign
// notification topics, and re-read after every action.

import { h } from 'preact';
import { useState, useEffect, useRef, useCallback, useId } from 'preact/hooks';
import htm from 'htm';
import { api, listAll } from './api.js';
import { openNotifications } from './notifications.js';
import { ErrorBox } from './errors.js';
import { t } from './i18n.js';
import { OB, enc, Field, show, campaignLabel, toLocalInput, fromLocalInput, when } from './outbound.js';

const html = htm.bind(h);

const notFound = (err) => err?.status === 404;
// The desk is not there (not built, or the dialer is not running): hide it.
const noDesk = (err) => notFound(err) || err?.code === 'dialer.off';

const firstPhone = (c) => Object.values(c?.phones || {})[0] || '';

export function OutboundDesk({ me }) {
  const [campaigns, setCampaigns] = useState(null); // null: loading; false: no outbound API
  const [current, setCurrent] = useState(undefined); // the campaign id ('' none); undefined: not read
  const [selected, setSelected] = useState('');
  const [desk, setDesk] = useState(undefined); // undefined: not read; null: no desk API (404)
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState(null); // {key, params}
  const mounted = useRef(true);
  useEffect(() => () => { mounted.current = false; }, []);
  const base = useId();

  const loadDesk = useCallback(async (campaignId) => {
    if (!campaignId) {
      setDesk(undefined);
      return;
    }
    try {
      const d = await api(`${OB}/me`);
      if (mounted.current) setDesk(d || null);
    } catch (err) {
      if (!mounted.current) return;
      if (noDesk(err)) setDesk(null); // hide quietly
      else setError(err);
    }
  }, []);

  const reload = useCallback(async () => {
    let id = '';
    try {
      const cur = await api('/api/v2/users/me/outboundcampaign');
      id = cur?.campaignId || '';
    } catch (err) {
      if (!notFound(err)) {
        if (mounted.current) setError(err);
        return;
      }
    }
    if (!mounted.current) return;
    setCurrent(id);
    if (id) setSelected(id);
    await loadDesk(id);
  }, [loadDesk]);

  useEffect(() => {
    listAll(`${OB}/campaigns`)
      .then((all) => {
        if (!mounted.current) return;
        const outbound = all.filter((c) => c.direction !== 'inbound');
        setCampaigns(outbound);
        setSelected((s) => s || outbound[0]?.id || '');
        reload();
      })
      .catch((err) => {
        if (!mounted.current) return;
        if (notFound(err)) setCampaigns(false);
        else setError(err);
      });
  }, [me.id]);

  // Live events: only the topics the server knows (a topic it does not
  // know would fail the whole subscription).
  useEffect(() => {
    if (!campaigns) return undefined;
    let n = null;
    let done = false;
    api('/api/v2/notifications/availabletopics')
      .then((d) => {
        if (done) return;
        const known = new Set((d?.entities || []).map((x) => x.id));
        const topics = ['outbound', 'outboundcampaign']
          .filter((name) => known.has(`v2.users.{id}.${name}`))
          .map((name) => `v2.users.${me.id}.${name}`);
        if (!topics.length) return;
        n = openNotifications({
          topics,
          onStatus: (s) => { if (s === 'open') reload(); },
          onEvent: () => reload(),
        });
      })
      .catch(() => { /* no live updates: the desk still refreshes after each action */ });
    return () => {
      done = true;
      n?.close();
    };
  }, [!!campaigns, me.id]);

  const act = async (fn, ok) => {
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      await fn();
      if (ok) setStatus(ok);
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
      await reload();
    }
  };

  if (campaigns === false) return null;
  const campaignById = (id) => (campaigns || []).find((c) => c.id === id);
  const currentCampaign = current ? campaignById(current) || { id: current, name: current } : null;

  const login = () => act(() => api(`${OB}/campaigns/${enc(selected)}/agents/me`, { method: 'POST' }), { key: 'obLoggedIn' });
  const logout = () => act(() => api(`${OB}/campaigns/${enc(current)}/agents/me`, { method: 'DELETE' }), { key: 'obLoggedOut' });

  return html`<section class="card desk" aria-labelledby=${base + '-title'}>
    <h3 id=${base + '-title'}>${t('obDesk')}</h3>
    ${campaigns === null && html`<p class="empty">${t('loading')}</p>`}
    ${campaigns && html`<div class="row">
      <${Field} id=${base + '-campaign'} label=${t('obCampaign')}>
        <select id=${base + '-campaign'} name="campaign" value=${selected} disabled=${busy || campaigns.length === 0}
          onChange=${(e) => setSelected(e.currentTarget.value)}>
          ${campaigns.length === 0 && html`<option value="">${t('obNoCampaigns')}</option>`}
          ${campaigns.map((c) => html`<option key=${c.id} value=${c.id}>${campaignLabel(c)}</option>`)}
        </select><//>
      <button type="button" class="primary" disabled=${busy || !selected || selected === current} onClick=${login}>${t('obLogInCampaign')}</button>
      ${current && html`<button type="button" disabled=${busy} onClick=${logout}>${t('obLogOutCampaign')}</button>`}
    </div>
    <p class="current">${t('obCurrentCampaign')}: <strong data-testid="outbound-campaign" data-campaign=${current || ''}>
      ${current === undefined ? '…' : currentCampaign ? campaignLabel(currentCampaign) : t('obNone')}</strong></p>`}
    ${current && desk && html`<${DeskParts} desk=${desk} me=${me} campaign=${campaignById(desk.campaignId || current) || currentCampaign}
      busy=${busy} act=${act} />`}
    <p class="status" role="status">${status && t(status.key, status.params)}</p>
    <${ErrorBox} error=${error} />
  </section>`;
}

function DeskParts({ desk, me, campaign, busy, act }) {
  const preview = desk.preview || null;
  const pending = desk.pendingRelease || null;
  const schemaId = pending?.schemaId || campaign?.schemaId;
  const contactId = pending?.contactId || preview?.contactId || '';
  const [schema, setSchema] = useState(null);
  const [contact, setContact] = useState(null);
  useEffect(() => {
    if (!schemaId) return;
    api(`${OB}/schemas/${enc(schemaId)}`).then(setSchema).catch(() => setSchema(null));
  }, [schemaId]);
  // The preview carries the record; after the call it is read by id.
  useEffect(() => {
    setContact(null);
    if (!pending?.contactId) return;
    api(`${OB}/contacts/${enc(pending.contactId)}`).then(setContact).catch(() => setContact(null));
  }, [pending?.contactId]);
  const previewContact = preview && { key: preview.key, data: preview.data || {}, phones: {} };
  const allowRelease = pending?.allowReleaseWithoutCategory ?? campaign?.allowReleaseWithoutCategory;
  const state = pending ? 'obPendingRelease' : preview ? 'obPreviewing' : desk.conversationId ? 'obOnCall' : desk.ready ? 'obReady' : 'obNotReady';
  return html`
    <p class="current">${t('obDeskState')}: <strong data-testid="desk-state" data-ready=${String(!!desk.ready)}>${t(state)}</strong></p>
    ${preview && html`<${PreviewCard} preview=${preview} contact=${previewContact} schema=${schema} busy=${busy} act=${act} />`}
    ${pending && html`<${ReleaseForm} key=${pending.conversationId} pending=${pending} contact=${contact} schema=${schema}
      allowRelease=${allowRelease} busy=${busy} act=${act} />`}
    ${contactId && campaign && html`<${ScheduleForm} key=${contactId} me=${me} campaign=${campaign} contactId=${contactId} busy=${busy} act=${act} />`}
    ${!desk.ready && !pending && !preview && !desk.conversationId && html`<div class="row">
      <button type="button" class="primary" disabled=${busy}
        onClick=${() => act(() => api(`${OB}/me/ready`, { method: 'POST' }), { key: 'obReadyDone' })}>${t('obReadyButton')}</button>
    </div>`}`;
}

function ContactData({ contact, schema, phone }) {
  const fields = schema?.fields || [];
  const rows = fields.length
    ? fields.map((f) => [f.label || f.name, contact?.data?.[f.name] ?? (f.type === 'phone' ? contact?.phones?.[f.name] : undefined)])
    : Object.entries(contact?.data || {});
  // The number to dial comes first, unless a phone field already shows it.
  const shown = rows.some(([, v]) => v && v === phone);
  return html`<dl class="figures">
    ${!shown && html`<div><dt>${t('obPhone')}</dt><dd data-testid="preview-phone">${show(phone)}</dd></div>`}
    ${rows.map(([k, v]) => html`<div key=${k}><dt>${k}</dt><dd>${show(v)}</dd></div>`)}
  </dl>`;
}

function PreviewCard({ preview, contact, schema, busy, act }) {
  const id = useId();
  const phone = preview.phone || firstPhone(contact);
  return html`<article class="call preview" aria-labelledby=${id}>
    <h4 id=${id}>${t('obPreviewTitle')}</h4>
    <${ContactData} contact=${contact} schema=${schema} phone=${phone} />
    <div class="row">
      <button type="button" class="primary" disabled=${busy}
        onClick=${() => act(() => api(`${OB}/me/preview/dial`, { method: 'POST' }), { key: 'obDialing', params: { phone } })}>${t('obDial')}</button>
      <button type="button" disabled=${busy}
        onClick=${() => act(() => api(`${OB}/me/preview/skip`, { method: 'POST' }), { key: 'obSkipped' })}>${t('obSkip')}</button>
    </div>
  </article>`;
}

function ReleaseForm({ pending, contact, schema, allowRelease, busy, act }) {
  const base = useId();
  const [categoryId, setCategoryId] = useState('');
  const [subcategoryId, setSubcategoryId] = useState('');
  const [notes, setNotes] = useState('');
  const conversationId = pending.conversationId || '';
  const cats = schema?.dispositions || [];
  const cat = cats.find((c) => c.id === categoryId);
  const path = `${OB}/conversations/${enc(conversationId)}/release`;
  const submit = (e) => {
    e.preventDefault();
    act(() => api(path, { method: 'POST', body: { categoryId, subcategoryId, ...(notes.trim() && { notes: notes.trim() }) } }), { key: 'obReleased' });
  };
  return html`<form class="wrapup" onSubmit=${submit}>
    <fieldset>
      <legend>${t('obAfterCall')}</legend>
      ${contact && html`<${ContactData} contact=${contact} schema=${schema} phone=${firstPhone(contact)} />`}
      ${pending.scheduled && html`<p class="hint">${t('obScheduledNoReady')}</p>`}
      ${pending.autoReleaseAt && html`<p class="hint">${t('obAutoReleaseAt', { when: when(pending.autoReleaseAt) })}</p>`}
      <div class="row">
        <${Field} id=${base + '-cat'} label=${t('category')}>
          <select id=${base + '-cat'} name="category" value=${categoryId} required disabled=${!schema}
            onChange=${(e) => { setCategoryId(e.currentTarget.value); setSubcategoryId(''); }}>
            <option value="">${schema ? t('obChooseCategory') : t('loading')}</option>
            ${cats.map((c) => html`<option key=${c.id} value=${c.id}>${c.name}</option>`)}
          </select><//>
        <${Field} id=${base + '-sub'} label=${t('subcategory')}>
          <select id=${base + '-sub'} name="subcategory" value=${subcategoryId} required disabled=${!cat}
            onChange=${(e) => setSubcategoryId(e.currentTarget.value)}>
            <option value="">${t('obChooseSubcategory')}</option>
            ${(cat?.subcategories || []).map((s) => html`<option key=${s.id} value=${s.id}>${s.name}</option>`)}
          </select><//>
      </div>
      <label><span>${t('notes')}</span>
        <textarea name="notes" rows="2" maxlength="4000" value=${notes} onInput=${(e) => setNotes(e.currentTarget.value)}></textarea></label>
      <div class="row">
        <button type="submit" disabled=${busy || !subcategoryId}>${t('obCategorize')}</button>
        ${allowRelease && html`<button type="button" disabled=${busy}
          onClick=${() => act(() => api(path, { method: 'POST', body: {} }), { key: 'obReleased' })}>${t('obRelease')}</button>`}
      </div>
    </fieldset>
  </form>`;
}

function ScheduleForm({ me, campaign, contactId, busy, act }) {
  const base = useId();
  const [at, setAt] = useState(() => toLocalInput(null));
  const [mine, setMine] = useState(true);
  const submit = (e) => {
    e.preventDefault();
    const iso = fromLocalInput(at);
    act(() => api(`${OB}/callbacks`, { method: 'POST', body: { campaignId: campaign.id, contactId, at: iso, userId: mine ? me.id : '' } }),
      { key: 'obScheduled', params: { when: when(iso) } });
  };
  return html`<form class="inline schedule" onSubmit=${submit} aria-labelledby=${base + '-t'}>
    <span id=${base + '-t'} class="visually-hidden">${t('obScheduleTitle')}</span>
    <label><span>${t('obCallbackTime')}</span>
      <input type="datetime-local" name="at" value=${at} required onInput=${(e) => setAt(e.currentTarget.value)} /></label>
    <label class="check"><input type="checkbox" name="mine" checked=${mine} onChange=${(e) => setMine(e.currentTarget.checked)} /> ${t('obOnlyForMe')}</label>
    <button type="submit" class="secondary" disabled=${busy}>${t('obSchedule')}</button>
  </form>`;
}
