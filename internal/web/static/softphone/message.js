// Sending an SMS or WhatsApp message to the customer (when the call
// center allows text messages): channel, number (the caller's, prefilled),
// text; the server accepts it (202) and delivers it to the messaging
// integration's webhook; the form then follows the delivery.

import { h } from 'preact';
import { useState, useEffect } from 'preact/hooks';
import htm from 'htm';
import { api } from '/ui/api.js';
import { ErrorBox } from '/ui/errors.js';
import { tt } from './texts.js';

const html = htm.bind(h);
const MAX = 4096;

export function MessagePanel({ number, conversationId, update }) {
  const [channel, setChannel] = useState('sms');
  const [to, setTo] = useState(number || '');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [sent, setSent] = useState(null); // {id, state, lastError}
  useEffect(() => { if (number && !to) setTo(number); }, [number]);

  // The delivery is pushed on the user's messages topic (update); a slow
  // poll covers a notification socket that is down or missed the event.
  // The push can come before the POST's answer (the demo receiver is on
  // the same machine), so it is applied again once the message is known.
  useEffect(() => {
    if (!update?.id || !update.state || update.state === 'pending') return;
    if (sent?.id !== update.id || sent.state !== 'pending') return;
    setSent((cur) => (cur?.id === update.id && cur.state === 'pending' ? { ...cur, state: update.state } : cur));
    if (update.state === 'failed') { // the event has no reason; the message has
      api(`/api/v2/conversations/messages/agentless/${encodeURIComponent(update.id)}`)
        .then((m) => setSent((cur) => (cur?.id === m.id ? { ...cur, lastError: m.lastError } : cur))).catch(() => {});
    }
  }, [update, sent?.id]);
  useEffect(() => {
    if (!sent || sent.state !== 'pending') return undefined;
    let stop = false;
    let timer = null;
    const poll = async (delay) => {
      try {
        const s = await api(`/api/v2/conversations/messages/agentless/${encodeURIComponent(sent.id)}`);
        if (stop) return;
        if (s?.state && s.state !== 'pending') {
          setSent((cur) => (cur?.id === s.id ? { ...cur, state: s.state, lastError: s.lastError } : cur));
          return;
        }
      } catch { /* the next poll tries again */ }
      if (!stop) timer = setTimeout(() => poll(Math.min(delay * 2, 30000)), delay);
    };
    timer = setTimeout(() => poll(10000), 5000);
    return () => { stop = true; clearTimeout(timer); };
  }, [sent?.id, sent?.state]);

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const m = await api('/api/v2/conversations/messages/agentless', {
        method: 'POST',
        body: { toAddress: to.trim(), toAddressMessengerType: channel, textBody: text, ...(conversationId && { conversationId }) },
      });
      setSent({ id: m.id, state: 'pending' });
      setText('');
    } catch (err) {
      // The console words any 403 as a role problem; this one is the call center's option.
      setError(err?.code === 'messaging.off' ? { message: tt('messagesOff') } : err);
    } finally {
      setBusy(false);
    }
  };
  const status = !sent ? '' : sent.state === 'delivered' ? tt('messageDelivered')
    : sent.state === 'failed' ? tt('messageFailed', { reason: sent.lastError || '' }) : tt('messageAccepted');
  return html`<form class="sp-message sp-form" aria-label=${tt('message')} onSubmit=${submit}>
    <div class="field"><label for="sp-msg-channel">${tt('channel')}</label>
      <select id="sp-msg-channel" value=${channel} onChange=${(e) => setChannel(e.currentTarget.value)}>
        <option value="sms">${tt('sms')}</option>
        <option value="whatsapp">${tt('whatsapp')}</option>
      </select></div>
    <label><span>${tt('to')}</span>
      <input name="to" type="tel" inputmode="tel" value=${to} required autocomplete="off" placeholder="+34911234567"
        onInput=${(e) => setTo(e.currentTarget.value)} /></label>
    <label><span>${tt('text')}</span>
      <textarea name="text" rows="3" maxlength=${MAX} required value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea></label>
    <span class="meta" aria-live="off">${tt('chars', { n: text.length, max: MAX })}</span>
    <button type="submit" class="primary" disabled=${busy}>${tt('sendMessage')}</button>
    <p class="status" role="status" data-testid="message-status" data-state=${sent?.state || ''} data-message=${sent?.id || ''}>${status}</p>
    <${ErrorBox} error=${error} />
  </form>`;
}
