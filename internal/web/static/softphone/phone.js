// The browser phone: when the agent's station is a browser device (station
// type "webrtc", SIP switch), this page is the agent's phone. Calls to the
// station arrive as WebRTC offers on the notification topic
// v2.users.{id}.phone; the page acknowledges them (the call rings in the
// softphone as any call does), and answers the offer when the platform
// asks ("pickup": the agent clicked Answer, which answers through the API,
// or the platform answers its own leg, e.g. a manual dial). A reload in
// the middle of a call gets the call back: the server offers it again
// ("resume", answered at once). Audio is
// G.711 µ-law both ways, DTMF from the keypad goes in band (RFC 4733,
// RTCDTMFSender). Signalling uses its own notification channel and
// WebSocket: client messages {"message":"phone","body":{…}} and their
// {"result":…} replies (see internal/telephony/webrtc/browserphone).

import { h } from 'preact';
import { useState, useEffect } from 'preact/hooks';
import htm from 'htm';
import { api } from '/ui/api.js';
import { getLang } from '/ui/i18n.js';

const html = htm.bind(h);

const REGISTER_EVERY_MS = 60_000; // the server forgets a page after 2 min
const MAX_RETRY_MS = 30_000;
const GATHER_MS = 3_000; // ICE gathering: loopback and LAN hosts only

const TEXTS = {
  en: {
    phone: 'Browser phone', off: 'connecting…', ready: 'ready', ringing: 'ringing', answering: 'connecting the call…',
    connected: 'on a call', error: 'not working', noMic: 'the microphone is not available',
  },
  es: {
    phone: 'Teléfono del navegador', off: 'conectando…', ready: 'preparado', ringing: 'sonando', answering: 'conectando la llamada…',
    connected: 'en llamada', error: 'no funciona', noMic: 'el micrófono no está disponible',
  },
};
const tx = (k) => (TEXTS[getLang()] || TEXTS.en)[k] || TEXTS.en[k];

// The live call's RTCRtpSender, for the keypad.
let current = null; // { sender }

// phoneKey plays one keypad key in the browser phone's call (RFC 4733).
// It returns false when there is no browser phone call to play it in.
export function phoneKey(key) {
  const dtmf = current?.sender?.dtmf;
  if (!dtmf || !dtmf.canInsertDTMF) return false;
  dtmf.insertDTMF(dtmf.toneBuffer + key, 100, 70);
  return true;
}

// BrowserPhone runs the phone for the agent's station (hidden unless the
// station is a browser device).
export function BrowserPhone({ me, station }) {
  const [type, setType] = useState('');
  const [state, setState] = useState('off');
  const [error, setError] = useState('');
  const [remote, setRemote] = useState(null);
  useEffect(() => {
    setType('');
    if (!station?.id) return undefined;
    let gone = false;
    api(`/api/v2/stations/${encodeURIComponent(station.id)}`)
      .then((s) => { if (!gone) setType(s?.type || ''); })
      .catch((err) => console.warn('browser phone: station', err));
    return () => { gone = true; };
  }, [station?.id]);
  useEffect(() => {
    if (type !== 'webrtc') return undefined;
    const phone = startPhone({ userId: me.id, station: station.name, onState: setState, onError: setError, onRemote: setRemote });
    return () => phone.close();
  }, [type, me.id, station?.name]);
  if (type !== 'webrtc') return null;
  return html`<section class="sp-phone row" aria-label=${tx('phone')} data-testid="browser-phone" data-state=${state}>
    <span>${tx('phone')}: <strong>${tx(state)}</strong></span>
    ${error && html`<span class="error" role="alert">${error}</span>`}
    <audio data-testid="remote-audio" autoplay ref=${(el) => { if (el && el.srcObject !== remote) el.srcObject = remote; }}></audio>
  </section>`;
}

// startPhone registers the page for station and serves its calls until
// close().
function startPhone({ userId, station, onState, onError, onRemote }) {
  const topic = `v2.users.${userId}.phone`;
  let closed = false;
  let ws = null;
  let retries = 0;
  let retryTimer = null;
  let registerTimer = null;
  let seq = 0;
  const calls = new Map(); // callId → { offer, pc, mic, answering }

  const state = () => {
    if (closed) return;
    const all = [...calls.values()];
    if (all.some((c) => c.connected)) onState('connected');
    else if (all.some((c) => c.answering)) onState('answering');
    else if (all.length > 0) onState('ringing');
    else onState(ws?.readyState === WebSocket.OPEN ? 'ready' : 'off');
  };

  const send = (body) => {
    if (ws?.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify({ message: 'phone', correlationId: `phone-${++seq}-${body.type}`, body }));
    return true;
  };
  // The first register of a page load is "fresh": the server offers the
  // calls in progress again (a reload dropped their media).
  let fresh = true;
  const register = () => { if (send({ type: 'register', station, ...(fresh && { fresh: true }) })) fresh = false; };

  function end(callId) {
    const c = calls.get(callId);
    if (!c) return;
    calls.delete(callId);
    c.pc?.close();
    c.mic?.getTracks().forEach((t) => t.stop());
    if (current === c) current = null;
    if (![...calls.values()].some((o) => o.connected)) onRemote(null);
    state();
  }

  async function answer(callId) {
    const c = calls.get(callId);
    if (!c || c.answering) return;
    c.answering = true;
    state();
    try {
      const pc = new RTCPeerConnection({ iceServers: [] });
      c.pc = pc;
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === 'connected') {
          c.connected = true;
          current = c;
          state();
        } else if (pc.connectionState === 'failed') {
          onError(tx('error'));
        }
      };
      pc.ontrack = (e) => onRemote(e.streams[0] || new MediaStream([e.track]));
      try {
        c.mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
      } catch (err) {
        onError(`${tx('noMic')}: ${err.message || err}`);
        throw err;
      }
      if (!calls.has(callId)) return; // hung up meanwhile
      const track = c.mic.getAudioTracks()[0];
      c.sender = pc.addTrack(track, c.mic);
      await pc.setRemoteDescription({ type: 'offer', sdp: c.offer });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      if (!calls.has(callId)) return;
      send({ type: 'answer', callId, sdp: pc.localDescription.sdp });
    } catch (err) {
      console.warn('browser phone: answer failed', err);
      send({ type: 'hangup', callId });
      end(callId);
    }
  }

  function onEvent(ev) {
    switch (ev?.type) {
      case 'offer':
        if (!calls.has(ev.callId)) calls.set(ev.callId, { offer: ev.sdp, from: ev.from });
        send({ type: 'ringing', callId: ev.callId });
        state();
        if (ev.pickup) answer(ev.callId);
        break;
      case 'pickup':
        answer(ev.callId);
        break;
      case 'hangup':
        end(ev.callId);
        break;
      default:
    }
  }

  const retry = () => {
    if (closed) return;
    onState('off');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, Math.min(1000 * 2 ** retries++, MAX_RETRY_MS));
  };

  async function connect() {
    if (closed) return;
    let channel;
    try {
      channel = await api('/api/v2/notifications/channels', { method: 'POST' });
      await api(`/api/v2/notifications/channels/${encodeURIComponent(channel.id)}/subscriptions`, { method: 'PUT', body: [{ id: topic }] });
    } catch (err) {
      console.warn('browser phone: notification channel', err);
      retry();
      return;
    }
    if (closed) return;
    const u = new URL(channel.connectUri, location.href);
    if (location.protocol === 'https:' && u.protocol === 'ws:') u.protocol = 'wss:';
    const socket = new WebSocket(u.href);
    ws = socket;
    socket.onopen = () => {
      retries = 0;
      onError('');
      register();
      clearInterval(registerTimer);
      registerTimer = setInterval(register, REGISTER_EVERY_MS);
      state();
    };
    socket.onmessage = (msg) => {
      let m;
      try {
        m = JSON.parse(msg.data);
      } catch {
        return;
      }
      if (m?.topicName === topic) onEvent(m.eventBody);
      else if (m?.result && m.result !== '200' && String(m.correlationId || '').startsWith('phone-')) {
        // A refused register (say, the station is not a browser device) is
        // worth showing; a late answer to a call that ended is not.
        if (m.correlationId.endsWith('-register')) onError(m.message || tx('error'));
        else console.warn('browser phone:', m.message);
      }
    };
    socket.onclose = () => {
      clearInterval(registerTimer);
      if (ws === socket) ws = null;
      retry();
    };
  }

  // Leaving the page (closing the tab, a reload): the station has no phone
  // until a page registers again, so calls to it fail at once instead of
  // ringing nowhere. Calls in progress stay up (a reload resumes them).
  const leave = () => send({ type: 'unregister' });
  addEventListener('pagehide', leave);

  connect();
  return {
    close() {
      removeEventListener('pagehide', leave);
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(registerTimer);
      if (ws) {
        send({ type: 'unregister' });
        ws.onclose = null;
        ws.close(1000, 'done');
        ws = null;
      }
      for (const id of [...calls.keys()]) end(id);
    },
  };
}

// gathered resolves once ICE gathering is complete (or after GATHER_MS:
// what was gathered by then goes in the answer).
function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, GATHER_MS);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
