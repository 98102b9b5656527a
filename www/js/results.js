// results.js: the finished batch: a card per model (3D preview, the
// provider's own preview image at its own size, name and size, Download,
// "View large" for the model dialog), the batch's summary sentence and
// one reason per file without a model.
import { el, size, plural } from './dom.js';
import { WORDS } from './tiles.js';

// The name a model downloads under.
export const modelName = (f) => f.download_name || `${f.filename.replace(/\.[^.]*$/, '')}.glb`;

function card(f, open) {
  const li = el('li');
  li.append(el('model-viewer', { src: f.model_url, 'camera-controls': '', 'shadow-intensity': '1',
    'interaction-prompt': 'none', alt: `3D model made from ${f.filename}` }));
  if (f.rendered_image && f.rendered_image.url) {
    const fig = el('figure', { class: 'render' });
    fig.append(el('img', { src: f.rendered_image.url, alt: `Preview rendered by the model of ${f.filename}` }),
      el('figcaption', {}, 'Preview from the model'));
    li.append(fig);
  }
  const name = modelName(f);
  li.append(el('div', { class: 'name' }, `${name} · ${size(f.file_size || 0)}`));
  const actions = el('div', { class: 'actions' });
  const a = el('a', { class: 'button', href: f.model_url, download: name }, 'Download');
  a.setAttribute('aria-label', `Download ${name}`);
  const big = el('button', { type: 'button', class: 'secondary open' }, 'View large');
  big.setAttribute('aria-label', `View large: ${name}`);
  big.setAttribute('aria-haspopup', 'dialog');
  big.addEventListener('click', () => open(f, big));
  actions.append(a, big);
  li.append(actions);
  return li;
}

// show(files, ui): ui = {list, section, zip, summary, reasons, zipUrl, open(f, opener)}.
export function showResults(all, ui) {
  const ok = all.filter((f) => f.status === 'completed');
  const bad = all.filter((f) => f.status !== 'completed');
  ui.list.replaceChildren(...ok.map((f) => card(f, ui.open)));
  ui.section.hidden = ok.length === 0;
  ui.zip.hidden = ok.length === 0;
  ui.zip.href = ui.zipUrl;
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
