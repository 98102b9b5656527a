// upload.js: the upload page.  Without this script the form still posts
// (the server answers 303 to the processing page); with it the page
// checks files before sending (the server's limits, by their bytes),
// shows them large with count and total size, remove and reorder; offers
// the models as cards (what each is good at, typical time, price per
// photo, all from the model table via /api/v1/models/available); shows
// the row's few settings for people first and every other parameter
// under "Advanced" with its API name; says on the button what will
// happen and what it costs (the model's price_usd, forced parameters and
// price_rules, as the server prices it: spool/price.c); shows upload
// progress with Abort; and lists the batches this browser sent.
import { $, el, plural } from './js/dom.js';
import { remember, showRecent } from './js/recent.js';

// The server's limits; until it answers (or if it cannot) the server alone judges.
let maxFiles = Infinity;
let maxBytes = Infinity;
let retention = 0;
const FACE_PRESETS = [['', 'Automatic'], ['5000', 'Low (5,000)'], ['10000', 'Medium (10,000)'],
  ['20000', 'High (20,000)']];

const form = $('upload');
let chosen = [];          // {file, url, thumb}
let models = [];
let xhr = null;

// 10485760 -> "10", 1572864 -> "1.5".
const mb = (b) => (b / 1048576).toFixed(1).replace(/\.0$/, '');
const bytes = (b) => (b >= 1048576 ? `${mb(b)} MB` : `${Math.max(1, Math.round(b / 1024))} KB`);

// The type is judged by the bytes, as the server does.
async function sniff(file) {
  const b = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  const s = String.fromCharCode(...b);
  if (s.startsWith('RIFF') && s.slice(8, 12) === 'WEBP') return 'image/webp';
  return null;
}

async function add(files) {
  const refused = [];
  for (const f of files) {
    if (chosen.length >= maxFiles) { refused.push(`${f.name}: only ${maxFiles} files per upload, so it was left out.`); continue; }
    if (f.size === 0) { refused.push(`${f.name} is empty; choose another file.`); continue; }
    if (f.size > maxBytes) {
      refused.push(`${f.name} is ${(f.size / 1048576).toFixed(1)} MB; the limit is ${mb(maxBytes)} MB, so make it smaller.`);
      continue;
    }
    if (!(await sniff(f))) { refused.push(`${f.name} is not a JPEG, PNG or WebP image, so it was left out.`); continue; }
    chosen.push({ file: f, url: URL.createObjectURL(f) });
  }
  $('refused').textContent = refused.join(' ');
  render();
}

function move(i, by) {
  const j = i + by;
  if (j < 0 || j >= chosen.length) return;
  [chosen[i], chosen[j]] = [chosen[j], chosen[i]];
  render();
  // Keep the keyboard where it was: on the same photo's button.
  const b = $('picked').children[j].querySelector(by < 0 ? '.earlier' : '.later');
  (b && !b.disabled ? b : $('picked').children[j].querySelector('.rm')).focus();
}

function render() {
  const ul = $('picked');
  ul.replaceChildren();
  chosen.forEach((c, i) => {
    const li = el('li');
    const pic = el('div', { class: 'pic' });
    pic.append(el('img', { src: c.url, alt: '' }));
    const acts = el('div', { class: 'actions' });
    const btn = (cls, text, label, fn, off) => {
      const b = el('button', { type: 'button', class: `secondary small ${cls}`, 'aria-label': label }, text);
      b.disabled = off;
      b.addEventListener('click', fn);
      acts.append(b);
    };
    btn('earlier', '←', `Move ${c.file.name} earlier`, () => move(i, -1), i === 0);
    btn('later', '→', `Move ${c.file.name} later`, () => move(i, 1), i === chosen.length - 1);
    btn('rm', 'Remove', `Remove ${c.file.name}`, () => {
      URL.revokeObjectURL(c.url); chosen.splice(i, 1); render();
      const next = $('picked').querySelector('.rm');
      (next || $('files')).focus();
    }, false);
    li.append(pic, el('div', { class: 'name' }, c.file.name), el('div', { class: 'small' }, bytes(c.file.size)), acts);
    ul.append(li);
  });
  const total = chosen.reduce((a, c) => a + c.file.size, 0);
  $('count').textContent = chosen.length ? `${plural(chosen.length, 'photo')}, ${bytes(total)} in all` : '';
  $('picked-head').hidden = chosen.length === 0;
  $('clear').hidden = chosen.length === 0;
  $('files').required = chosen.length === 0;
  showEstimate();
}

const current = () => models.find((x) => x.id === (form.querySelector('input[name=model]:checked') || {}).value) ||
  models.find((x) => x.default);

// The chosen value of parameter p (its default when left empty), typed.
function paramValue(p) {
  const e = $(`p-${p.name}`);
  if (!e || e.value === '') return p.default;
  if (p.type === 'boolean') return e.value === 'true';
  if (p.type === 'integer' || p.type === 'number') return Number(e.value);
  return e.value;
}

// Price of one file with the form's choices: null when unknown.
function filePrice(m) {
  if (!m || typeof m.price_usd !== 'number') return null;
  const v = {};
  for (const p of m.parameters) v[p.name] = paramValue(p);
  for (const f of m.forced || []) if (v[f.if_param] === f.if_value) v[f.set_param] = f.set_value;
  let usd = m.price_usd;
  for (const r of m.price_rules || []) {
    if (v[r.param] === r.value) usd = (usd + r.add_usd) * (r.factor || 1);
  }
  return Math.max(0, usd);
}

// "Make 12 models · about $3.60" on the button, before it is pressed.
function showEstimate() {
  const n = chosen.length;
  const m = current();
  let text = 'Make 3D models';
  if (n > 0) {
    const each = filePrice(m);
    const what = `Make ${plural(n, 'model')}`;
    if (m && m.provider === 'local') text = `${what} · free, on this server`;
    else if (each === null) text = `${what} · price unknown`;
    else text = `${what} · about $${(each * n).toFixed(2)}`;
  }
  $('go').textContent = text;
}

// "about 1 min" from the row's typical_s.
function typical(s) {
  if (!Number.isFinite(s) || s <= 0) return '';
  return s < 60 ? `about ${Math.max(1, Math.round(s))} s` : `about ${Math.round(s / 60)} min`;
}

function priceWords(m) {
  if (m.provider === 'local') return 'Free, runs on this server';
  if (typeof m.price_usd !== 'number') return 'Price not known';
  return `$${m.price_usd.toFixed(2)} per photo`;
}

function showCards() {
  const ul = $('cards');
  ul.replaceChildren();
  for (const m of models) {
    const li = el('li');
    const id = `m-${m.id}`;
    const input = el('input', { type: 'radio', name: 'model', id, value: m.id });
    input.checked = !!m.default;
    const label = el('label', { for: id });
    const facts = el('span', { class: 'm-facts' });
    facts.append(el('span', { class: 'm-price' }, priceWords(m)));
    const t = typical(m.typical_s);
    if (t) facts.append(el('span', { class: 'm-time' }, `${t} per model`));
    label.append(el('span', { class: 'm-name' }, m.name),
      el('span', { class: 'm-good' }, m.good_at || m.description || ''), facts);
    li.append(input, label);
    ul.append(li);
  }
  if (!form.querySelector('input[name=model]:checked') && ul.querySelector('input')) ul.querySelector('input').checked = true;
  // The no-JavaScript select gives way to the cards.
  $('model-pick').remove();
  $('cards-box').hidden = false;
}

const humanName = (n) => { const w = n.replace(/_/g, ' '); return w.charAt(0).toUpperCase() + w.slice(1); };

// One labelled control for parameter p; setting (may be undefined) gives a
// person's label and choice names.
function paramControl(p, setting) {
  const id = `p-${p.name}`;
  const wrap = el('div', { class: 'setting' });
  const label = el('label', { for: id }, setting ? setting.label : humanName(p.name));
  if (!setting) label.append(el('span', { class: 'api-name mono' }, p.name));
  wrap.append(label);
  const names = (setting && setting.choice_labels) || null;
  let input;
  const option = (v, text, sel) => { const o = el('option', { value: v }, text); if (sel) o.selected = true; input.append(o); };
  if (p.name === 'face_limit') {
    input = el('select', { id, name: p.name });
    for (const [v, t] of FACE_PRESETS) option(v, t, false);
  } else if (p.allowed_values) {
    input = el('select', { id, name: p.name });
    p.allowed_values.forEach((v, i) => option(String(v), names && names[i] ? names[i] : String(v), v === p.default));
  } else if (p.type === 'boolean') {
    input = el('select', { id, name: p.name });
    ['true', 'false'].forEach((v, i) => option(v, names && names[i] ? names[i] : (v === 'true' ? 'Yes' : 'No'),
      String(p.default) === v));
  } else {
    input = el('input', { id, name: p.name, type: 'number', inputmode: 'decimal' });
    if (p.minimum !== undefined) input.min = p.minimum;
    if (p.maximum !== undefined) input.max = p.maximum;
    input.step = p.type === 'integer' ? '1' : 'any';
    if (p.default !== null && p.default !== undefined) input.value = p.default;
    else input.placeholder = 'automatic';
  }
  let def = p.default === null || p.default === undefined ? 'automatic' : String(p.default);
  if (p.name === 'face_limit') def = 'automatic';
  else if (p.type === 'boolean') def = p.default ? 'yes' : 'no';
  const text = setting ? (p.description || '') : `${p.description || ''} (default: ${def}).`;
  const hint = el('p', { class: 'hint', id: `${id}-hint` }, text.replace(/^\s*\(/, '('));
  input.setAttribute('aria-describedby', hint.id);
  wrap.append(input, hint);
  return wrap;
}

function showParams() {
  const m = current();
  $('basic').replaceChildren();
  $('params').replaceChildren();
  $('model-desc').textContent = m ? m.description : '';
  if (m) {
    const settings = m.settings || [];
    for (const s of settings) {
      const p = m.parameters.find((x) => x.name === s.param);
      if (p) $('basic').append(paramControl(p, s));
    }
    for (const p of m.parameters) if (!settings.some((s) => s.param === p.name)) $('params').append(paramControl(p));
  }
  $('basic').hidden = $('basic').children.length === 0;
  $('advanced').hidden = $('params').children.length === 0;
  $('settings-step').hidden = $('basic').hidden && $('advanced').hidden;
  showEstimate();
}

async function loadModels() {
  try {
    const r = await fetch('/api/v1/models/available');
    const j = await r.json();
    models = j.models || [];
    if (j.limits) {
      maxFiles = j.limits.max_files;
      maxBytes = j.limits.max_file_bytes;
      retention = j.limits.retention_hours || 0;
      $('limits').textContent = `Up to ${maxFiles} JPEG, PNG or WebP photos, ${mb(maxBytes)} MB each. One object per photo works best.`;
    }
    showCards();
    showParams();
  } catch (e) {
    $('model-desc').textContent = 'The list of models could not be loaded, so the server will use its default model. Reload the page to try again.';
  }
  showRecent($('recent-box'), $('recent'), $('recent-note'), retention);
}

async function send(ev) {
  ev.preventDefault();
  if (chosen.length === 0) { $('refused').textContent = 'No photo is chosen yet. Choose or drop at least one photo.'; return; }
  await Promise.all(chosen.filter((c) => c.thumb === undefined).map(makeThumb));
  const fd = new FormData();
  for (const c of chosen) fd.append('files', c.file, c.file.name);
  const m = form.querySelector('input[name=model]:checked, select[name=model]');
  if (m && m.value !== '') fd.append('model', m.value);
  for (const e of form.querySelectorAll('#basic select, #basic input, #params select, #params input')) {
    if (e.value !== '') fd.append(e.name, e.value);
  }
  xhr = new XMLHttpRequest();
  xhr.open('POST', '/api/v1/upload/');
  xhr.setRequestHeader('Accept', 'application/json');
  xhr.upload.addEventListener('progress', (e) => {
    if (!e.lengthComputable) return;
    const pct = Math.round((e.loaded / e.total) * 100);
    $('sendbar').value = pct;
    $('sendtext').textContent = `${pct}% sent`;
  });
  xhr.addEventListener('load', () => {
    let j = {};
    try { j = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
    if (xhr.status === 200 && j.batch_id) {
      try {
        // Small thumbnails for the processing page of this browser.
        // Keyed by batch id + file index (the file id is the upload position).
        chosen.forEach((c, i) => {
          if (c.thumb) sessionStorage.setItem(`i2m:thumb:${j.batch_id}:${i}`, c.thumb);
        });
      } catch (e) { /* storage full: the page shows placeholders */ }
      remember(j.batch_id, Date.now(), chosen.length);
      location.href = `/processing?taskId=${encodeURIComponent(j.batch_id)}`;
      return;
    }
    done(j.message || `The upload failed (HTTP ${xhr.status}). Try again in a moment.`);
  });
  xhr.addEventListener('error', () => done('The connection to the server was lost during the upload. Check the connection and try again.'));
  xhr.addEventListener('abort', () => done('The upload was stopped. Your photos are still here; press the button to send them again.'));
  $('sending').hidden = false;
  $('go').disabled = true;
  $('server-error').textContent = '';
  xhr.send(fd);
}

function done(msg) {
  $('sending').hidden = true;
  $('go').disabled = false;
  $('server-error').textContent = msg;
  xhr = null;
}

// Thumbnails small enough for sessionStorage.
async function makeThumb(c) {
  try {
    const bmp = await createImageBitmap(c.file);
    const s = 160 / Math.max(bmp.width, bmp.height);
    const cv = el('canvas');
    cv.width = Math.max(1, Math.round(bmp.width * s));
    cv.height = Math.max(1, Math.round(bmp.height * s));
    cv.getContext('2d').drawImage(bmp, 0, 0, cv.width, cv.height);
    c.thumb = cv.toDataURL('image/jpeg', 0.7);
  } catch (e) { c.thumb = null; }
}

const input = $('files');
input.addEventListener('change', async () => {
  await add([...input.files]);
  input.value = '';
  await Promise.all(chosen.filter((c) => c.thumb === undefined).map(makeThumb));
});
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', async (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  await add([...e.dataTransfer.files]);
  await Promise.all(chosen.filter((c) => c.thumb === undefined).map(makeThumb));
});
$('clear').addEventListener('click', () => { chosen.forEach((c) => URL.revokeObjectURL(c.url)); chosen = []; render(); input.focus(); });
$('abort').addEventListener('click', () => { if (xhr) xhr.abort(); });
$('cards').addEventListener('change', showParams);
$('settings-step').addEventListener('change', showEstimate);
$('settings-step').addEventListener('input', showEstimate);
form.addEventListener('submit', send);
loadModels();
