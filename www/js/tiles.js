// tiles.js: one tile per file of a batch, updated in place.  A tile's
// picture box has a fixed aspect and the photo is contained in it, so the
// photo keeps its own aspect and nothing moves while tiles update; the
// text lines below it keep their height too.  The picture is the file's
// thumbnail_url from the status when the server gives one, else the
// thumbnail the upload page of this browser kept (sessionStorage), else
// the provider's preview once there is one.
import { el } from './dom.js';

export const WORDS = { queued: 'Waiting', uploading: 'Sending to the model', in_queue: 'Waiting at the provider',
  processing: 'Making the model', downloading: 'Fetching the model', completed: 'Ready',
  failed: 'Failed', cancelled: 'Cancelled' };

export function makeTiles(ul, batchId) {
  const tiles = new Map();   // file_id -> tile elements

  // Thumbnail the upload page of this browser stored, keyed by batch id + file index.
  const kept = (fileId) => {
    try { return sessionStorage.getItem(`i2m:thumb:${batchId}:${fileId}`); } catch (e) { return null; }
  };

  function tile(f) {
    let t = tiles.get(f.file_id);
    if (!t) {
      const li = el('li');
      const pic = el('div', { class: 'pic' });
      const img = el('img', { alt: '' });
      pic.append(img);
      const name = el('div', { class: 'name' }, f.filename);
      const status = el('div', { class: 'status' });
      const bar = el('progress', { max: '100', value: '0' });
      bar.setAttribute('aria-label', `Progress of ${f.filename}`);
      const detail = el('div', { class: 'detail' });
      li.append(pic, name, status, bar, detail);
      ul.append(li);
      t = { li, pic, img, status, bar, detail, src: '' };
      tiles.set(f.file_id, t);
    }
    return t;
  }

  function picture(t, f) {
    const want = f.thumbnail_url || kept(f.file_id) ||
      (f.rendered_image && f.rendered_image.url) || '';
    if (want === t.src) return;
    t.src = want;
    if (want) t.img.src = want; else t.img.removeAttribute('src');
    t.pic.classList.toggle('placeholder', !want);
  }

  // Show the latest state of one file.
  function render(f) {
    const t = tile(f);
    t.li.className = f.status;
    t.status.textContent = `${WORDS[f.status] || f.status} · ${f.progress}%`;
    t.bar.value = f.progress;
    let d = '';
    if (f.status === 'failed' && f.error) d = f.error;
    else if (f.queue_position !== null && f.queue_position !== undefined) d = `Number ${f.queue_position} in the queue.`;
    else if (f.message) d = f.message;
    t.detail.textContent = d;
    t.detail.className = f.status === 'failed' ? 'detail err' : 'detail';
    picture(t, f);
  }

  // The picture a file's tile shows ('' when none), for the model dialog.
  const photo = (fileId) => (tiles.get(fileId) || {}).src || '';

  return { render, photo };
}
