// recent.js: the batches this browser sent, kept in localStorage under
// "i2m:recent" as [{id, time (ms), count}], newest first, at most KEEP.
// The upload page lists them with their state from the status endpoint,
// their thumbnails and a link, and until when the server keeps them.
import { el, plural } from './dom.js';

const KEY = 'i2m:recent';
const KEEP = 10;

export function recent() {
  try {
    const a = JSON.parse(localStorage.getItem(KEY) || '[]');
    return Array.isArray(a) ? a.filter((b) => b && /^[0-9a-f]{32}$/.test(b.id)) : [];
  } catch (e) { return []; }
}

export function remember(id, time, count) {
  const a = recent().filter((b) => b.id !== id);
  a.unshift({ id, time, count });
  try { localStorage.setItem(KEY, JSON.stringify(a.slice(0, KEEP))); } catch (e) { /* storage full or off */ }
}

// The thumbnail the upload page of this tab kept for file i ('' when none).
function keptThumb(id, i) {
  try { return sessionStorage.getItem(`i2m:thumb:${id}:${i}`) || ''; } catch (e) { return ''; }
}

const when = (ms) => new Date(ms).toLocaleString('en-GB', { day: 'numeric', month: 'short',
  hour: '2-digit', minute: '2-digit' });

function stateOf(s) {
  const files = s.files || [];
  const ok = files.filter((f) => f.status === 'completed').length;
  const done = files.filter((f) => ['completed', 'failed', 'cancelled'].includes(f.status)).length;
  if (!s.finished) return `${done} of ${files.length} finished so far.`;
  if (ok === files.length) return ok === 1 ? 'The model is ready.' : ok === 2 ? 'Both models are ready.' : `All ${ok} models are ready.`;
  return `${ok} of ${files.length} models are ready.`;
}

// One row: thumbnails, link, state, until when it is kept.
async function row(b, retention) {
  const li = el('li');
  const mini = el('div', { class: 'mini' });
  const text = el('div');
  const a = el('a', { href: `/processing?taskId=${b.id}` }, `${plural(b.count, 'photo')}, sent ${when(b.time)}`);
  const state = el('p', { class: 'state' }, 'Asking the server…');
  const kept = el('p', { class: 'hint' },
    retention > 0 ? `The server keeps it until ${when(b.time + retention * 3600000)}.` : 'The server keeps it until it is removed.');
  text.append(a, state, kept);
  li.append(mini, text);
  try {
    const r = await fetch(`/api/v1/status/tasks/${b.id}/status`, { cache: 'no-store' });
    if (r.status === 404) {
      state.textContent = 'The server no longer has this batch.';
      kept.remove();
      for (let i = 0; i < Math.min(4, b.count); i++) mini.append(el('span'));
      return li;
    }
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const s = await r.json();
    state.textContent = stateOf(s);
    (s.files || []).slice(0, 4).forEach((f, i) => {
      let src = f.thumbnail_url || '';
      if (!src) src = keptThumb(b.id, i);
      if (!src && f.rendered_image) src = f.rendered_image.url;
      mini.append(src ? el('img', { src, alt: '' }) : el('span'));
    });
  } catch (e) {
    state.textContent = 'The state of this batch could not be read. Open it to try again.';
  }
  return li;
}

// Fill the list (ul) and show box when there is anything to show.
export async function showRecent(box, ul, note, retention) {
  const list = recent();
  if (list.length === 0) { box.hidden = true; return; }
  note.textContent = `This browser remembers the batches it sent. ${retention > 0
    ? `The server keeps each batch for ${plural(retention, 'hour')}.` : 'The server keeps batches until they are removed.'}`;
  ul.replaceChildren(...(await Promise.all(list.map((b) => row(b, retention)))));
  box.hidden = false;
}
