// How the console's Agent view and the softphone read a conversation: the
// actor's own participant, the phase of the call for them, the other party,
// times in state. One reading, so both show the same call the same way.
import { useState, useEffect } from 'preact/hooks';
import { t } from './i18n.js';

export const LIVE_STATES = new Set(['alerting', 'dialing', 'contacting', 'connected']);

export const stripTel = (s) => String(s || '').replace(/^tel:/, '');

// mine is the actor's own participant: the live one if any (a call may
// have rung them before, unanswered), else the one in wrap-up, else the last.
export function myParticipant(conv, me) {
  const mine = (conv?.participants || []).filter((p) => p.user?.id === me.id);
  return mine.findLast((p) => LIVE_STATES.has(p.state)) || mine.findLast((p) => p.afterCallWork) || mine[mine.length - 1] || null;
}

// phase says what the agent can do with a conversation; null hides it.
// An optional wrap-up (the call ended, it was taken, nothing recorded) is
// offered until dismissed.
export function phase(conv, mine, dismissed) {
  if (!mine) return null;
  if (mine.state === 'alerting') return 'alerting';
  if (mine.state === 'dialing' || mine.state === 'contacting') return 'dialing';
  if (mine.state === 'connected') return mine.held ? 'held' : 'connected';
  if (mine.afterCallWork) return 'wrapup';
  if (mine.state === 'disconnected' && mine.connectedTime && !mine.wrapup && !mine.wrapupSkipped
    && mine.purpose !== 'monitor' && !dismissed) return 'wrapupOptional';
  return null;
}

// otherParty names who the agent talks to; the caller stays the caller
// after a transfer to a number.
export function otherParty(conv, mine) {
  const others = (conv.participants || []).filter((p) => p !== mine && p.user?.id !== mine?.user?.id);
  const pick = (purposes) => others.findLast((p) => purposes.includes(p.purpose) && LIVE_STATES.has(p.state))
    || others.find((p) => purposes.includes(p.purpose));
  const p = pick(['customer']) || pick(['external']) || pick(['agent', 'user']);
  return (p && (p.name || stripTel(p.ani) || stripTel(p.address))) || t('unknownCaller');
}

// elapsed is mm:ss, or h:mm:ss from an hour.
export function elapsed(since, now) {
  if (!since) return '';
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  const mm = String(Math.floor(s / 60) % 60).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${mm}:${ss}`;
}

// A routing status only replaces one that is not newer (events and REST
// answers may cross).
export function newerStatus(prev, next) {
  if (!next?.status) return prev;
  if (prev?.startTime && next.startTime && Date.parse(next.startTime) < Date.parse(prev.startTime)) return prev;
  return { status: next.status, startTime: next.startTime };
}

// useNow ticks every second while active.
export function useNow(active = true) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return undefined;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [active]);
  return now;
}

// useCallAction runs a call control: busy while it runs, its error kept
// for display, and onChanged afterwards (the call is read again).
export function useCallAction(onChanged) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const act = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
      onChanged();
    }
  };
  return { busy, error, setError, act };
}
