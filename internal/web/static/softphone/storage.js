// Storage that always works. Framed by a CRM on another site, the browser
// may deny the page localStorage and sessionStorage (third-party storage
// blocked); the shared modules read them at load, so they are replaced by
// in-memory stores first (imported before anything else). The sign-in
// then lasts as long as the page.

function memoryStorage() {
  const m = new Map();
  return {
    get length() { return m.size; },
    key: (i) => [...m.keys()][i] ?? null,
    getItem: (k) => (m.has(String(k)) ? m.get(String(k)) : null),
    setItem: (k, v) => { m.set(String(k), String(v)); },
    removeItem: (k) => { m.delete(String(k)); },
    clear: () => m.clear(),
  };
}

for (const name of ['localStorage', 'sessionStorage']) {
  let ok = false;
  try {
    const s = window[name];
    s.setItem('centralita.sp.probe', '1');
    s.removeItem('centralita.sp.probe');
    ok = true;
  } catch {
    ok = false;
  }
  if (!ok) {
    try {
      Object.defineProperty(window, name, { value: memoryStorage(), configurable: true });
    } catch (err) {
      console.warn('softphone: no', name, err);
    }
  }
}

export const storageIsMemory = () => {
  try {
    return !(window.localStorage instanceof Storage);
  } catch {
    return true;
  }
};
