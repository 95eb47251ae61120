// Live events for the console: a notification channel (POST
// /api/v2/notifications/channels), its topics, and the channel's WebSocket.
// Messages are envelopes {topicName, version, eventBody}; the server's
// heartbeats (topicName channel.metadata) only prove the socket is alive.
//
// The socket is reopened by itself after a drop, with a growing pause; the
// caller hears the state ('connecting', 'open', 'down') so it can poll by
// REST while there is no socket, and resynchronise when it is back.

import { api } from './api.js';

const HEARTBEAT_TOPIC = 'channel.metadata';
const CLOSING_TOPIC = 'v2.system.socket_closing';
// The server beats every 30 s; after this much silence the socket is
// taken for dead even if the browser has not noticed.
const SILENCE_MS = 75_000;
const MAX_RETRY_MS = 30_000;

// The connect URI is built from the request's Host; behind a TLS proxy that
// does not say so it may still read ws://, which an https page may not open.
function socketURL(connectUri) {
  const u = new URL(connectUri, location.href);
  if (location.protocol === 'https:' && u.protocol === 'ws:') u.protocol = 'wss:';
  return u.href;
}

// openNotifications subscribes to topics and calls onEvent(envelope) for
// each event, onStatus(state) on each change of state. close() ends it.
export function openNotifications({ topics, onEvent, onStatus = () => {} }) {
  let closed = false;
  let channel = null; // {id, connectUri}
  let ws = null;
  let retries = 0;
  let retryTimer = null;
  let silenceTimer = null;

  const status = (s) => { if (!closed) onStatus(s); };

  const armSilence = () => {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => ws?.close(4000, 'silent'), SILENCE_MS);
  };

  const retry = () => {
    if (closed) return;
    status('down');
    const delay = Math.min(1000 * 2 ** retries, MAX_RETRY_MS);
    retries++;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
  };

  async function connect() {
    if (closed) return;
    status('connecting');
    try {
      if (!channel) {
        const ch = await api('/api/v2/notifications/channels', { method: 'POST' });
        const answer = await api(`/api/v2/notifications/channels/${encodeURIComponent(ch.id)}/subscriptions`, {
          method: 'PUT',
          body: topics.map((id) => ({ id })),
        });
        for (const topic of answer?.entities || []) {
          if (topic.state && topic.state !== 'Permitted') {
            console.warn('notification topic rejected', topic.id, topic.rejectionReason || '');
          }
        }
        channel = ch;
      }
    } catch (err) {
      console.warn('notification channel could not be set up', err);
      retry();
      return;
    }
    if (closed) return;
    let socket;
    try {
      socket = new WebSocket(socketURL(channel.connectUri));
    } catch (err) {
      console.warn('notification socket could not be opened', err);
      channel = null;
      retry();
      return;
    }
    ws = socket;
    socket.onopen = () => {
      retries = 0;
      armSilence();
      status('open');
    };
    socket.onmessage = (msg) => {
      armSilence();
      let envelope;
      try {
        envelope = JSON.parse(msg.data);
      } catch {
        return;
      }
      const topic = envelope?.topicName;
      if (!topic || topic === HEARTBEAT_TOPIC) return;
      if (topic === CLOSING_TOPIC) return; // the close that follows starts over
      try {
        onEvent(envelope);
      } catch (err) {
        console.error('notification handler failed', err);
      }
    };
    socket.onclose = () => {
      clearTimeout(silenceTimer);
      if (ws === socket) ws = null;
      // The server closes a socket for an expired, evicted or unknown
      // channel, or for shutting down: start over with a new channel (the
      // server evicts the least recently used of a user's channels).
      channel = null;
      retry();
    };
  }

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(retryTimer);
      clearTimeout(silenceTimer);
      if (ws) {
        ws.onclose = null;
        ws.close(1000, 'done');
        ws = null;
      }
    },
  };
}
