// processing.js: one page for a batch from upload to results: the batch
// card (facts, overall progress, summary, Cancel, Retry, Download all,
// Notify me), a tile per file, the result cards and the model dialog.
// State comes from js/stream.js (status first, then the live stream or
// polling); the tab title carries the progress ("12/25 · image2model");
// the elapsed time runs until the batch's end (finished_at when the
// server gives it, else the newest model's time) and then stands still.
import { $ } from './js/dom.js';
import { follow } from './js/stream.js';
import { makeTiles } from './js/tiles.js';
import { showResults } from './js/results.js';
import { openModel, setupDialog } from './js/dialog.js';
import { setupNotify } from './js/notify.js';

// model-viewer decodes meshopt geometry (the light previews) with the
// decoder it bundles once a decoder location is set; the script there is
// only loaded to start it (js/meshopt-ready.js), so nothing leaves our origin.
customElements.whenDefined('model-viewer').then((MV) => { MV.meshoptDecoderLocation = '/js/meshopt-ready.js'; });

const q = new URLSearchParams(location.search);
const id = q.get('taskId') || q.get('batch') || q.get('task_id') || '';
const api = `/api/v1/status/tasks/${encodeURIComponent(id)}`;
const DONE = ['completed', 'failed', 'cancelled'];
const files = new Map();     // file_id -> latest file object
const tiles = makeTiles($('tiles'), id);
const notify = setupNotify($('notify'), $('notify-note'));
let follower = null;
let finished = false;
let created = null;          // ms
let ended = null;            // ms, when the batch finished
const modelNames = {};       // model id -> its name, from models/available

// The model's name for people (its id until the list is in).
fetch('/api/v1/models/available').then((r) => r.json()).then((j) => {
  for (const m of j.models || []) modelNames[m.id] = m.name;
  if (modelNames[$('b-model').dataset.id]) $('b-model').textContent = modelNames[$('b-model').dataset.id];
}).catch(() => { /* the id stays */ });

// ISO text, seconds or milliseconds -> ms (null when none).
function ms(t) {
  if (t === null || t === undefined || t === '') return null;
  if (typeof t === 'number') return t < 1e12 ? t * 1000 : t;
  const v = Date.parse(t);
  return Number.isNaN(v) ? null : v;
}

function tickElapsed() {
  if (created === null) return;
  const until = finished ? (ended || Date.now()) : Date.now();
  const s = Math.max(0, Math.round((until - created) / 1000));
  $('b-elapsed').textContent = s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function renderBatch(s) {
  const all = [...files.values()];
  const done = all.filter((f) => DONE.includes(f.status)).length;
  const prog = s && typeof s.progress === 'number' ? s.progress
    : Math.round(all.reduce((a, f) => a + (DONE.includes(f.status) ? 100 : f.progress), 0) / Math.max(1, all.length));
  $('overall').value = prog;
  $('b-files').textContent = `${all.length} (${done} finished)`;
  if (!finished) $('summary').textContent = `${done} of ${all.length} files finished, ${prog}% overall.`;
  document.title = `${done}/${all.length} · image2model`;
  $('retry').hidden = all.filter((f) => f.status === 'failed' || f.status === 'cancelled').length === 0;
  $('cancel').hidden = finished;
  $('notify').hidden = finished || $('notify').hidden;
}

function renderFile(f) {
  files.set(f.file_id, f);
  tiles.render(f);
}

function finish(s) {
  const was = finished;
  finished = true;
  if (follower) follower.stop();
  // The end: the server's finished_at, else the newest model's time.
  const times = ((s && s.result && s.result.files) || []).map((f) => ms(f.created_time)).filter((t) => t);
  ended = ms(s && s.finished_at) || (times.length ? Math.max(...times) : null) || ended || Date.now();
  renderBatch({ progress: 100 });
  showResults([...files.values()], { list: $('models'), section: $('results'), zip: $('zip'),
    zipFormat: $('zip-format'), zipFormatLabel: $('zip-format-label'), batch: id, focus: q.get('model'),
    summary: $('summary'), reasons: $('reasons'), zipUrl: `/api/v1/download/${encodeURIComponent(id)}/all.zip`,
    open: (f, from) => openModel(f, tiles.photo(f.file_id), from) });
  tickElapsed();
  if (!was) notify.finished('Your 3D models are ready', $('summary').textContent, id);
}

function applyStatus(s) {
  $('b-id').textContent = s.batch_id;
  $('b-model').dataset.id = s.model;
  $('b-model').textContent = modelNames[s.model] || s.model;
  created = ms(s.created);
  $('b-started').textContent = new Date(created).toLocaleString();
  for (const f of s.files) renderFile(f);
  renderBatch(s);
  if (s.finished) finish(s); else tickElapsed();
}

async function post(what) {
  const r = await fetch(`${api}/${what}`, { method: 'POST' });
  let j = {};
  try { j = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) {
    $('problem').textContent = j.message || `The ${what} could not be done (HTTP ${r.status}). Reload the page and try again.`;
    return;
  }
  $('problem').textContent = '';
  finished = false;
  ended = null;
  $('results').hidden = true;
  follower.resume(j);
}

$('cancel').addEventListener('click', () => {
  if (confirm('Cancel the files that are not finished yet? Finished models stay.')) post('cancel');
});
$('retry').addEventListener('click', () => post('retry'));
setupDialog();
setInterval(tickElapsed, 1000);

if (!/^[0-9a-f]{32}$/.test(id)) {
  $('problem').textContent = 'This link has no valid batch id. Upload photos on the start page.';
  $('cancel').hidden = true;
  $('notify').hidden = true;
} else {
  follower = follow(api, {
    status: applyStatus,
    file: (f) => { renderFile(f); renderBatch(); },
    progress: (p) => renderBatch(p),
    completed: (d) => {
      if (d.result && d.result.results) for (const f of d.result.results) renderFile(f);
      finish(d);
    },
    failed: (msg) => {
      $('problem').textContent = msg || 'The batch cannot go on. Upload the photos again.';
      finish(null);
    },
    problem: (msg) => { $('problem').textContent = msg; },
    missing: () => {
      $('problem').textContent = 'There is no batch with this id. Check the link, or upload the photos again.';
      $('cancel').hidden = true;
      $('notify').hidden = true;
    },
  });
}
