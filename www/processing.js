// processing.js: one page for a batch from upload to results.
// State comes first from the status endpoint (so a reload or a shared
// link shows everything at once), then live from the SSE stream; when the
// stream fails the page polls the status endpoint and tries SSE again
// later.  The stream is opened with ?since=<seq of what the page shows>,
// so it sends only later changes.  The EventSource is closed on
// task_completed, since a reconnect would replay it.
const $ = (id) => document.getElementById(id);
const q = new URLSearchParams(location.search);
const id = q.get('taskId') || q.get('batch') || q.get('task_id') || '';
const api = `/api/v1/status/tasks/${encodeURIComponent(id)}`;
const files = new Map();     // file_id -> latest file object
const tiles = new Map();     // file_id -> tile elements
let batch = null;
let finished = false;
let es = null;
let pollTimer = null;
let created = null;
let frozen = false;       // elapsed time stops when the batch is finished
let seq = 0;              // the batch's last change this page has shown
// Thumbnails the upload page of this browser stored, keyed by batch id + file index.
function thumbOf(fileId) {
  try { return sessionStorage.getItem(`i2m:thumb:${id}:${fileId}`); } catch (e) { return null; }
}

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function size(n) {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;
}

const WORDS = { queued: 'Queued', uploading: 'Uploading to the model', in_queue: 'Waiting at the provider',
  processing: 'Processing', downloading: 'Fetching the model', completed: 'Completed',
  failed: 'Failed', cancelled: 'Cancelled' };

function tile(f) {
  let t = tiles.get(f.file_id);
  if (!t) {
    const li = el('li');
    const img = el('img', { alt: '' });
    const th = thumbOf(f.file_id);
    if (th) img.src = th; else img.classList.add('placeholder');
    const name = el('div', { class: 'name' }, f.filename);
    const status = el('div', { class: 'status' });
    const bar = el('progress', { max: '100', value: '0' });
    bar.setAttribute('aria-label', `Progress of ${f.filename}`);
    const detail = el('div', { class: 'detail' });
    li.append(img, name, status, bar, detail);
    $('tiles').append(li);
    t = { li, img, status, bar, detail };
    tiles.set(f.file_id, t);
  }
  return t;
}

function renderFile(f) {
  files.set(f.file_id, f);
  const t = tile(f);
  t.li.className = f.status;
  t.status.textContent = `${WORDS[f.status] || f.status} · ${f.progress}%`;
  t.bar.value = f.progress;
  let d = '';
  if (f.status === 'failed' && f.error) d = f.error;
  else if (f.queue_position !== null && f.queue_position !== undefined) d = `Position in queue: ${f.queue_position}`;
  else if (f.message) d = f.message;
  t.detail.textContent = d;
  t.detail.className = f.status === 'failed' ? 'detail err' : 'detail';
  if (!t.img.src && f.rendered_image && f.rendered_image.url) t.img.src = f.rendered_image.url;
}

function renderBatch(s) {
  const all = [...files.values()];
  const done = all.filter((f) => ['completed', 'failed', 'cancelled'].includes(f.status)).length;
  const prog = s && typeof s.progress === 'number' ? s.progress
    : Math.round(all.reduce((a, f) => a + (done && ['completed', 'failed', 'cancelled'].includes(f.status) ? 100 : f.progress), 0) / Math.max(1, all.length));
  $('overall').value = prog;
  $('b-files').textContent = `${all.length} (${done} finished)`;
  $('summary').textContent = finished ? '' : `${done} of ${all.length} files finished, ${prog}% overall.`;
  const failed = all.filter((f) => f.status === 'failed' || f.status === 'cancelled').length;
  $('retry').hidden = failed === 0;
  $('cancel').hidden = finished;
}

function showResults() {
  const all = [...files.values()];
  const ok = all.filter((f) => f.status === 'completed');
  const bad = all.filter((f) => f.status !== 'completed');
  const ul = $('models');
  ul.replaceChildren();
  for (const f of ok) {
    const li = el('li');
    const mv = el('model-viewer', { src: f.model_url, 'camera-controls': '', 'shadow-intensity': '1',
      'interaction-prompt': 'none', alt: `3D model made from ${f.filename}` });
    li.append(mv);
    if (f.rendered_image && f.rendered_image.url) {
      li.append(el('img', { class: 'render', src: f.rendered_image.url, alt: `Preview rendered by the model of ${f.filename}` }));
    }
    const name = f.download_name || f.filename.replace(/\.[^.]*$/, '') + '.glb';
    li.append(el('div', { class: 'name' }, `${name} · ${size(f.file_size || 0)}`));
    const a = el('a', { class: 'button', href: f.model_url, download: name }, 'Download');
    a.setAttribute('aria-label', `Download ${name}`);
    li.append(a);
    ul.append(li);
  }
  $('results').hidden = ok.length === 0;
  $('zip').hidden = ok.length === 0;
  $('zip').href = `/api/v1/download/${encodeURIComponent(id)}/all.zip`;
  const why = bad.map((f) => `${f.filename}: ${(f.error || WORDS[f.status] || f.status).replace(/\.$/, '')}.`);
  let msg;
  if (bad.length === 0) msg = `All ${ok.length} models are ready.`;
  else if (ok.length === 0) msg = `No model could be made (${bad.length} ${bad.length === 1 ? 'file' : 'files'}):`;
  else msg = `${ok.length} of ${all.length} models are ready; ${bad.length} could not be made:`;
  $('summary').textContent = msg;
  const reasons = $('reasons');
  reasons.replaceChildren(...bad.map((f, i) => el('li', {}, why[i])));
  reasons.hidden = bad.length === 0;
}

function finish() {
  finished = true;
  if (es) { es.close(); es = null; }
  clearTimeout(pollTimer);
  renderBatch({ progress: 100 });
  showResults();
  tickElapsed();
}

function applyStatus(s) {
  batch = s;
  if (Number.isInteger(s.seq)) seq = s.seq;
  $('b-id').textContent = s.batch_id;
  $('b-model').textContent = s.model;
  created = s.created;
  $('b-started').textContent = new Date(s.created).toLocaleString();
  tickElapsed();
  for (const f of s.files) renderFile(f);
  renderBatch(s);
  if (s.finished) finish();
}

async function poll() {
  try {
    const r = await fetch(`${api}/status`, { cache: 'no-store' });
    if (r.status === 404) { $('problem').textContent = 'There is no batch with this id. Check the link.'; return false; }
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    applyStatus(await r.json());
    return true;
  } catch (e) {
    $('problem').textContent = 'The server cannot be reached; trying again.';
    return true;
  }
}

function pollLoop() {
  if (finished) return;
  pollTimer = setTimeout(async () => {
    await poll();
    if (!finished) { $('problem').textContent = ''; connect(); }
  }, 1500);
}

function connect() {
  if (finished || es) return;
  // The stream skips what the page has (seq), so nothing is sent twice.
  es = new EventSource(`${api}/stream?since=${seq}`);
  const seen = (e) => { const k = Number(e.lastEventId); if (k > seq) seq = k; };
  es.addEventListener('file_update', (e) => { seen(e); renderFile(JSON.parse(e.data)); renderBatch(); });
  es.addEventListener('task_progress', (e) => renderBatch(JSON.parse(e.data)));
  es.addEventListener('task_completed', (e) => {
    const d = JSON.parse(e.data);
    if (d.result && d.result.results) for (const f of d.result.results) renderFile(f);
    finish();
  });
  es.addEventListener('task_failed', (e) => {
    $('problem').textContent = JSON.parse(e.data).message || 'The batch cannot go on.';
    finish();
  });
  es.addEventListener('error', () => {
    // Fall back to polling, then try the stream again.
    if (es) { es.close(); es = null; }
    pollLoop();
  });
}

async function post(what) {
  const r = await fetch(`${api}/${what}`, { method: 'POST' });
  let j = {};
  try { j = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) { $('problem').textContent = j.message || `${what} failed (HTTP ${r.status}).`; return; }
  $('problem').textContent = '';
  finished = false;
  frozen = false;
  $('results').hidden = true;
  applyStatus(j);
  connect();
}

$('cancel').addEventListener('click', () => {
  if (confirm('Cancel the files that are not finished yet? Finished models stay.')) post('cancel');
});
$('retry').addEventListener('click', () => post('retry'));
// Elapsed time runs while files are being worked on and stops with them.
function tickElapsed() {
  if (!created || frozen) return;
  const s = Math.max(0, Math.round((Date.now() - created) / 1000));
  $('b-elapsed').textContent = `${Math.floor(s / 60)} min ${s % 60} s`;
  if (finished) frozen = true;
}
setInterval(tickElapsed, 1000);

if (!/^[0-9a-f]{32}$/.test(id)) {
  $('problem').textContent = 'This link has no valid batch id. Upload photos on the start page.';
  $('cancel').hidden = true;
} else {
  poll().then((ok) => { if (ok && !finished) connect(); });
}
