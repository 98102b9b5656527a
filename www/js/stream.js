// stream.js: follows one batch's state.  The status endpoint first (so a
// reload or a shared link shows everything at once), then the SSE stream;
// when the stream fails the follower polls the status endpoint and tries
// SSE again later.  The stream is opened with ?since=<seq of what the
// page shows>, so it sends only later changes.  The EventSource is closed
// on task_completed, since a reconnect would replay it.
//
// follow(api, on) calls on.status(status object), on.file(file object),
// on.progress(task_progress data), on.completed(task_completed data),
// on.failed(message), on.problem(sentence, '' when it is over) and
// on.missing() (404).  stop() ends it; resume(status) follows again from
// a status the page got (after cancel or retry).
export function follow(api, on) {
  let es = null;
  let timer = null;
  let stopped = false;
  let seq = 0;              // the batch's last change the page has shown

  const status = (s) => { if (Number.isInteger(s.seq)) seq = s.seq; on.status(s); };

  async function poll() {
    try {
      const r = await fetch(`${api}/status`, { cache: 'no-store' });
      if (r.status === 404) { on.missing(); return false; }
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      status(await r.json());
      return true;
    } catch (e) {
      on.problem('The server cannot be reached right now. The page keeps trying.');
      return true;
    }
  }

  function pollLoop() {
    if (stopped) return;
    timer = setTimeout(async () => {
      await poll();
      if (!stopped) { on.problem(''); connect(); }
    }, 1500);
  }

  function connect() {
    if (stopped || es) return;
    // The stream skips what the page has (seq), so nothing is sent twice.
    es = new EventSource(`${api}/stream?since=${seq}`);
    const seen = (e) => { const k = Number(e.lastEventId); if (k > seq) seq = k; };
    es.addEventListener('file_update', (e) => { seen(e); on.file(JSON.parse(e.data)); });
    es.addEventListener('task_progress', (e) => on.progress(JSON.parse(e.data)));
    es.addEventListener('task_completed', (e) => on.completed(JSON.parse(e.data)));
    es.addEventListener('task_failed', (e) => on.failed(JSON.parse(e.data).message));
    es.addEventListener('error', () => {
      // Fall back to polling, then try the stream again.
      if (es) { es.close(); es = null; }
      pollLoop();
    });
  }

  function stop() {
    stopped = true;
    if (es) { es.close(); es = null; }
    clearTimeout(timer);
  }

  function resume(s) {
    stopped = false;
    status(s);
    connect();
  }

  poll().then((ok) => { if (ok && !stopped) connect(); });
  return { stop, resume };
}
