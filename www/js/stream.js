// stream.js: follows one batch's state.  The status endpoint first (so a
// reload or a shared link shows everything at once), then the SSE stream;
// when the stream fails the follower polls the status endpoint and tries
// SSE again later.  The stream is opened with ?since=<seq of what the
// page shows>, so it sends only later changes.  The EventSource is closed
// on task_completed, since a reconnect would replay it.  A stream counts
// as failed when it errors (a full server answers 503 at once) or when
// neither an event nor a heartbeat came within STREAM_QUIET_MS of
// opening (a stream that hangs); the follower then polls, and tries the
// stream again after a back-off that doubles up to a minute (reset by
// the first live event).
//
// follow(api, on) calls on.status(status object), on.file(file object),
// on.progress(task_progress data), on.completed(task_completed data),
// on.failed(message), on.problem(sentence, '' when it is over) and
// on.missing() (404).  stop() ends it; resume(status) follows again from
// a status the page got (after cancel or retry).
const STREAM_QUIET_MS = 4000; // an opened stream says something by then

export function follow(api, on) {
  let es = null;
  let timer = null;
  let stopped = false;
  let seq = 0;              // the batch's last change the page has shown
  let watch = null;         // fires when an opened stream stayed silent
  let againAt = 0;          // no new stream attempt before this (ms)
  let backoff = 5000;

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
    if (stopped || timer) return;
    timer = setTimeout(async () => {
      timer = null;
      await poll();
      if (stopped) return;
      on.problem('');
      if (Date.now() >= againAt) connect(); else pollLoop();
    }, 1500);
  }

  // The stream failed or stayed silent: poll, and try it again later.
  function failed() {
    clearTimeout(watch);
    watch = null;
    if (es) { es.close(); es = null; }
    againAt = Date.now() + backoff;
    backoff = Math.min(backoff * 2, 60000);
    pollLoop();
  }

  function connect() {
    if (stopped || es) return;
    // The stream skips what the page has (seq), so nothing is sent twice.
    es = new EventSource(`${api}/stream?since=${seq}`);
    clearTimeout(watch);
    watch = setTimeout(() => { if (es) failed(); }, STREAM_QUIET_MS);
    const alive = () => { clearTimeout(watch); watch = null; backoff = 5000; };
    const seen = (e) => { alive(); const k = Number(e.lastEventId); if (k > seq) seq = k; };
    es.addEventListener('heartbeat', alive);
    es.addEventListener('file_update', (e) => { seen(e); on.file(JSON.parse(e.data)); });
    es.addEventListener('task_progress', (e) => { alive(); on.progress(JSON.parse(e.data)); });
    es.addEventListener('task_completed', (e) => { alive(); on.completed(JSON.parse(e.data)); });
    es.addEventListener('task_failed', (e) => { alive(); on.failed(JSON.parse(e.data).message); });
    es.addEventListener('error', failed);
  }

  function stop() {
    stopped = true;
    if (es) { es.close(); es = null; }
    clearTimeout(timer);
    timer = null;
    clearTimeout(watch);
  }

  function resume(s) {
    stopped = false;
    status(s);
    connect();
  }

  poll().then((ok) => { if (ok && !stopped) connect(); });
  return { stop, resume };
}
