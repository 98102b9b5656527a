// results.js: the finished batch: a card per model (3D preview, the
// provider's own preview image at its own size, name, size and triangle
// count, Download, a menu of every format, AR on a phone and a QR code
// that opens the model there, "View large" for the model dialog), the
// batch's summary sentence and one reason per file without a model.
// The 3D previews load the light copy of a large GLB (preview_model:
// meshopt geometry, textures at most 2048 px); downloads stay original.
import { el, size, plural } from './dom.js';
import { WORDS } from './tiles.js';

// The name a model downloads under.
export const modelName = (f) => f.download_name || `${f.filename.replace(/\.[^.]*$/, '')}.glb`;
// What the 3D viewer loads: the light copy when there is one.
export const viewUrl = (f) => (f.preview_model && f.preview_model.url) || f.model_url;
// The formats of a file (a status from before formats: the GLB alone).
export const formatsOf = (f) => (Array.isArray(f.formats) && f.formats.length ? f.formats
  : [{ name: 'glb', ext: 'glb', label: 'GLB (glTF binary)', size: f.file_size, url: f.model_url }]);

// A <details> menu with a link per format of f.
function formatMenu(f, name) {
  const menu = el('details', { class: 'menu formats-menu' });
  // The accessible name starts with the visible word (axe: label-content-name-mismatch).
  const sum = el('summary', { class: 'button secondary' }, 'Formats');
  sum.setAttribute('aria-label', `Formats: download ${name} in another format`);
  const ul = el('ul');
  const stem = name.replace(/\.glb$/, '');
  for (const x of formatsOf(f)) {
    const li = el('li');
    const a = el('a', { href: x.url, download: `${stem}.${x.ext}` }, `${x.name.toUpperCase()}`);
    a.setAttribute('aria-label', `Download ${stem}.${x.ext}`);
    li.append(a, el('span', { class: 'hint' }, ` ${x.label || ''}${x.size ? ` · ${size(x.size)}` : ''}`));
    ul.append(li);
  }
  for (const e of f.format_errors || []) ul.append(el('li', { class: 'hint' }, `${e.name.toUpperCase()}: ${e.error}`));
  menu.append(sum, ul);
  return menu;
}

// "View on a phone": a QR code of this model's page (AR there).
function phoneMenu(f, name, batch) {
  const menu = el('details', { class: 'menu qr' });
  menu.append(el('summary', { class: 'button secondary' }, 'On a phone'));
  const stem = name.replace(/\.glb$/, '');
  const img = el('img', { width: '160', height: '160', alt: `QR code that opens ${name} on a phone, with AR` });
  // Loaded when opened: a batch of 25 models does not fetch 25 codes.
  menu.addEventListener('toggle', () => {
    if (menu.open && !img.src) img.src = `/api/v1/qr/${encodeURIComponent(batch)}/${encodeURIComponent(stem)}.svg`;
  });
  menu.append(img, el('p', { class: 'hint' }, 'Scan to open this model on your phone and place it in your room.'));
  return menu;
}

function card(f, open, batch) {
  const li = el('li');
  const usdz = formatsOf(f).find((x) => x.name === 'usdz');
  const mv = el('model-viewer', { src: viewUrl(f), 'camera-controls': '', 'shadow-intensity': '1',
    'interaction-prompt': 'none', ar: '', 'ar-modes': 'webxr scene-viewer quick-look',
    alt: `3D model made from ${f.filename}` });
  // iOS Quick Look gets the provider's USDZ when there is one, else model-viewer's own.
  if (usdz) mv.setAttribute('ios-src', usdz.url);
  li.id = `model-${modelName(f)}`;
  li.append(mv);
  if (f.rendered_image && f.rendered_image.url) {
    const fig = el('figure', { class: 'render' });
    fig.append(el('img', { src: f.rendered_image.url, alt: `Preview rendered by the model of ${f.filename}` }),
      el('figcaption', {}, 'Preview from the model'));
    li.append(fig);
  }
  const name = modelName(f);
  const tris = Number.isFinite(f.triangles) ? ` · ${f.triangles.toLocaleString('en')} triangles` : '';
  li.append(el('div', { class: 'name' }, `${name} · ${size(f.file_size || 0)}${tris}`));
  const actions = el('div', { class: 'actions' });
  const a = el('a', { class: 'button', href: f.model_url, download: name }, 'Download');
  a.setAttribute('aria-label', `Download ${name}`);
  const big = el('button', { type: 'button', class: 'secondary open' }, 'View large');
  big.setAttribute('aria-label', `View large: ${name}`);
  big.setAttribute('aria-haspopup', 'dialog');
  big.addEventListener('click', () => open(f, big));
  actions.append(a, formatMenu(f, name), big, phoneMenu(f, name, batch));
  li.append(actions);
  return li;
}

// The "Download all" format choice: every format some model has.
function zipFormats(ok, ui) {
  if (!ui.zipFormat) { ui.zip.href = ui.zipUrl; return; }
  const names = [];
  for (const f of ok) for (const x of formatsOf(f)) if (!names.includes(x.name)) names.push(x.name);
  const was = ui.zipFormat.value || 'glb';
  ui.zipFormat.replaceChildren(...names.map((n) => el('option', { value: n }, n.toUpperCase())));
  ui.zipFormat.value = names.includes(was) ? was : 'glb';
  const set = () => { ui.zip.href = `${ui.zipUrl}?format=${encodeURIComponent(ui.zipFormat.value)}`; };
  ui.zipFormat.onchange = set;
  set();
  ui.zipFormat.hidden = ok.length === 0;
  if (ui.zipFormatLabel) ui.zipFormatLabel.hidden = ok.length === 0;
}

// show(files, ui): ui = {list, section, zip, zipFormat, zipFormatLabel, summary, reasons,
// zipUrl, batch, focus (a model name to bring into view), open(f, opener)}.
export function showResults(all, ui) {
  const ok = all.filter((f) => f.status === 'completed');
  const bad = all.filter((f) => f.status !== 'completed');
  ui.list.replaceChildren(...ok.map((f) => card(f, ui.open, ui.batch)));
  ui.section.hidden = ok.length === 0;
  ui.zip.hidden = ok.length === 0;
  zipFormats(ok, ui);
  // Opened from a QR code: that model's card first in view.
  const mine = ui.focus && ok.find((f) => modelName(f) === ui.focus);
  if (mine) document.getElementById(`model-${ui.focus}`).scrollIntoView({ block: 'center' });
  let msg;
  if (bad.length === 0 && ok.length === 2) msg = 'Both models are ready. Download them one by one or both as a zip.';
  else if (bad.length === 0) msg = `All ${ok.length} models are ready. Download them one by one or all as a zip.`;
  else if (ok.length === 0) msg = `No model could be made (${plural(bad.length, 'file')}):`;
  else msg = `${ok.length} of ${all.length} models are ready; ${bad.length} could not be made:`;
  if (bad.length === 0 && ok.length === 1) msg = 'Your model is ready. Download it or view it large.';
  ui.summary.textContent = msg;
  ui.reasons.replaceChildren(...bad.map((f) =>
    el('li', {}, `${f.filename}: ${(f.error || WORDS[f.status] || f.status).replace(/\.$/, '')}.`)));
  ui.reasons.hidden = bad.length === 0;
}
