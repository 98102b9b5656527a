// upload.js: the upload page. Without this script the form still posts
// (the server answers 303 to the processing page); with it the page checks
// files before sending (the server's limits), shows thumbnails, the chosen
// model's parameters, the batch's price before it is sent (from the
// model's price_usd, forced parameters and price_rules, as the server
// prices it: spool/price.c), and an upload progress bar with Abort.
// The server's limits, from /api/v1/models/available; until it answers
// (or if it cannot) the server alone judges.
let maxFiles = Infinity;
let maxBytes = Infinity;
const FACE_PRESETS = [['', 'Auto'], ['5000', 'Low (5,000)'], ['10000', 'Medium (10,000)'],
  ['20000', 'High (20,000)']];

const $ = (id) => document.getElementById(id);
const form = $('upload');
let chosen = [];          // {file, url}
let models = [];
let xhr = null;

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// 10485760 -> "10", 1572864 -> "1.5".
const mb = (b) => (b / 1048576).toFixed(1).replace(/\.0$/, '');

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
    if (chosen.length >= maxFiles) { refused.push(`${f.name}: only ${maxFiles} files per upload.`); continue; }
    if (f.size === 0) { refused.push(`${f.name} is empty.`); continue; }
    if (f.size > maxBytes) {
      refused.push(`${f.name} is ${(f.size / 1048576).toFixed(1)} MB; the limit is ${mb(maxBytes)} MB.`);
      continue;
    }
    if (!(await sniff(f))) { refused.push(`${f.name} is not a JPEG, PNG or WebP image.`); continue; }
    chosen.push({ file: f, url: URL.createObjectURL(f) });
  }
  $('refused').textContent = refused.join(' ');
  render();
}

function render() {
  const ul = $('picked');
  ul.replaceChildren();
  chosen.forEach((c, i) => {
    const li = el('li');
    li.append(el('img', { src: c.url, alt: '' }), el('div', {}, c.file.name));
    const rm = el('button', { type: 'button', class: 'secondary' }, 'Remove');
    rm.setAttribute('aria-label', `Remove ${c.file.name}`);
    rm.addEventListener('click', () => { URL.revokeObjectURL(c.url); chosen.splice(i, 1); render(); });
    li.append(rm);
    ul.append(li);
  });
  $('clear').hidden = chosen.length === 0;
  $('files').required = chosen.length === 0;
  showEstimate();
}

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
  const m = models.find((x) => x.id === $('model').value) || models.find((x) => x.default);
  let text = 'Make 3D models';
  if (n > 0) {
    const each = filePrice(m);
    const what = `Make ${n} model${n === 1 ? '' : 's'}`;
    if (m && m.provider === 'local') text = `${what} · free, on this server`;
    else if (each === null) text = `${what} · price unknown`;
    else text = `${what} · about $${(each * n).toFixed(2)}`;
  }
  $('go').textContent = text;
}

function paramControl(p) {
  const id = `p-${p.name}`;
  const wrap = el('div');
  const words = p.name.replace(/_/g, ' ');
  wrap.append(el('label', { for: id }, words.charAt(0).toUpperCase() + words.slice(1)));
  let input;
  if (p.name === 'face_limit') {
    input = el('select', { id, name: p.name });
    for (const [v, t] of FACE_PRESETS) input.append(el('option', { value: v }, t));
  } else if (p.allowed_values) {
    input = el('select', { id, name: p.name });
    for (const v of p.allowed_values) {
      const o = el('option', { value: String(v) }, String(v));
      if (v === p.default) o.selected = true;
      input.append(o);
    }
  } else if (p.type === 'boolean') {
    input = el('select', { id, name: p.name });
    for (const v of ['true', 'false']) {
      const o = el('option', { value: v }, v === 'true' ? 'Yes' : 'No');
      if (String(p.default) === v) o.selected = true;
      input.append(o);
    }
  } else {
    input = el('input', { id, name: p.name, type: 'number', inputmode: 'decimal' });
    if (p.minimum !== undefined) input.min = p.minimum;
    if (p.maximum !== undefined) input.max = p.maximum;
    input.step = p.type === 'integer' ? '1' : 'any';
    if (p.default !== null && p.default !== undefined) input.value = p.default;
    else input.placeholder = 'automatic';
  }
  let def = p.default === null || p.default === undefined ? 'automatic' : String(p.default);
  if (p.name === 'face_limit') def = 'Auto';
  else if (p.type === 'boolean') def = p.default ? 'Yes' : 'No';
  const hint = el('p', { class: 'hint', id: `${id}-hint` }, `${p.description || ''} (default: ${def})`);
  input.setAttribute('aria-describedby', hint.id);
  wrap.append(input, hint);
  return wrap;
}

function showParams() {
  const m = models.find((x) => x.id === $('model').value) || models.find((x) => x.default);
  $('params').replaceChildren();
  $('model-desc').textContent = m ? m.description : '';
  if (m) for (const p of m.parameters) $('params').append(paramControl(p));
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
      $('limits').textContent = `Up to ${maxFiles} files, ${mb(maxBytes)} MB each. You can also drop them here.`;
    }
    const sel = $('model');
    sel.replaceChildren();
    for (const m of models) {
      const o = el('option', { value: m.id }, m.name + (m.provider === 'local' ? ' (on this server)' : ''));
      if (m.default) o.selected = true;
      sel.append(o);
    }
    showParams();
  } catch (e) {
    $('model-desc').textContent = 'The model list could not be loaded; the server default will be used.';
  }
}

async function send(ev) {
  ev.preventDefault();
  if (chosen.length === 0) { $('refused').textContent = 'Choose at least one photo.'; return; }
  await Promise.all(chosen.filter((c) => c.thumb === undefined).map(makeThumb));
  const fd = new FormData();
  for (const c of chosen) fd.append('files', c.file, c.file.name);
  for (const e of form.querySelectorAll('#model, #params select, #params input')) {
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
      location.href = `/processing?taskId=${encodeURIComponent(j.batch_id)}`;
      return;
    }
    done(j.message || `The upload failed (HTTP ${xhr.status}).`);
  });
  xhr.addEventListener('error', () => done('The connection to the server was lost during the upload.'));
  xhr.addEventListener('abort', () => done('Upload aborted.'));
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
$('clear').addEventListener('click', () => { chosen.forEach((c) => URL.revokeObjectURL(c.url)); chosen = []; render(); });
$('abort').addEventListener('click', () => { if (xhr) xhr.abort(); });
$('model').addEventListener('change', showParams);
$('params').addEventListener('change', showEstimate);
$('params').addEventListener('input', showEstimate);
form.addEventListener('submit', send);
loadModels();
