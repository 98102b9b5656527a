// dialog.js: one model large, in a modal <dialog>: the 3D viewer, the
// photo it was made from beside it, its formats (with sizes and links),
// its size and triangle count when the status gives them.  showModal()
// keeps keyboard focus inside, Escape and the Close button close it, and
// focus goes back to the button that opened it.
import { $, el, size } from './dom.js';
import { modelName, viewUrl } from './results.js';

let opener = null;

function fact(dl, term, value) {
  dl.append(el('dt', {}, term), el('dd', {}, value));
}

// open(f, photoSrc, from): show file f (a completed file object).
export function openModel(f, photo, from) {
  const d = $('viewer');
  const name = modelName(f);
  opener = from || null;
  $('viewer-title').textContent = name;
  $('viewer-mv').setAttribute('src', viewUrl(f));
  $('viewer-mv').setAttribute('alt', `3D model made from ${f.filename}, large`);
  const img = $('viewer-photo');
  if (photo) { img.src = photo; img.alt = `The photo ${f.filename}`; } else { img.removeAttribute('src'); img.alt = ''; }
  $('viewer-figure').hidden = !photo;
  const dl = $('viewer-facts');
  dl.replaceChildren();
  fact(dl, 'Photo', f.filename);
  fact(dl, 'Size', size(f.file_size || 0));
  if (Number.isFinite(f.triangles)) fact(dl, 'Triangles', f.triangles.toLocaleString('en'));
  if (typeof f.watertight === 'boolean') fact(dl, 'Closed surface', f.watertight ? 'Yes' : 'No');
  const formats = Array.isArray(f.formats) && f.formats.length ? f.formats
    : [{ name: 'GLB', ext: 'glb', size: f.file_size, url: f.model_url }];
  const ul = $('viewer-formats');
  ul.replaceChildren(...formats.map((x) => {
    const li = el('li');
    const file = `${name.replace(/\.[^.]*$/, '')}.${x.ext}`;
    const a = el('a', { href: x.url, download: file }, `Download ${x.name || x.ext.toUpperCase()} (${file})`);
    li.append(a, el('span', { class: 'hint' }, ` ${x.size ? size(x.size) : ''}`));
    return li;
  }));
  d.showModal();
  $('viewer-close').focus();
}

export function setupDialog() {
  const d = $('viewer');
  $('viewer-close').addEventListener('click', () => d.close());
  // A click on the backdrop (the dialog box itself, outside its content) closes it.
  d.addEventListener('click', (e) => { if (e.target === d) d.close(); });
  d.addEventListener('close', () => {
    $('viewer-mv').removeAttribute('src');
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  });
}
