// lib.js: shared helpers of the browser scenarios (tests/browser/*.js).
// Each scenario is `node tests/browser/<name>.js BASE_URL`, exits 0 with
// "ok: ..." or 1 with "FAIL: reason", and saves a screenshot per state in
// tests/screenshots/<name>-<state>.png (git-ignored).
'use strict';
const path = require('path');
const fs = require('fs');
const os = require('os');

const ROOT = path.join(__dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'tests', 'screenshots');
const FIX = path.join(ROOT, 'tests', 'fixtures');
const ARGS = ['--headless=new', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic'];

async function launch() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install the chromium package (tools/deps installs tools/deps.d/www.txt)`);
  }
  const { chromium } = require(path.join(ROOT, 'node_modules', 'playwright-core'));
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

// run(name, async ({browser, base, shot, tmp}) => message): the scenario's frame.
function run(name, body) {
  const base = (process.argv[2] || '').replace(/\/$/, '');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `i2m-${name}-`));
  let browser = null;
  const main = async () => {
    if (!/^https?:\/\//.test(base)) throw new Error(`usage: node ${name}.js BASE_URL`);
    fs.mkdirSync(SHOTS, { recursive: true });
    browser = await launch();
    const shot = (page, state) => page.screenshot({ path: path.join(SHOTS, `${name}-${state}.png`), fullPage: true });
    return body({ browser, base, shot, tmp, fix: (f) => path.join(FIX, f) });
  };
  main().then(async (msg) => {
    if (browser) await browser.close();
    fs.rmSync(tmp, { recursive: true, force: true });
    console.log(`ok: ${name}${msg ? `: ${msg}` : ''}`);
  }, async (e) => {
    console.error(`FAIL: ${name}: ${e && e.message ? e.message : e}`);
    try { if (browser) await browser.close(); } catch (e2) { /* already gone */ }
    fs.rmSync(tmp, { recursive: true, force: true });
    process.exit(1);
  });
}

// A page on the upload form, the model list loaded.
async function uploadPage(browser, base, opts = {}) {
  const page = await browser.newPage({ viewport: opts.viewport || { width: 1000, height: 900 } });
  page.on('dialog', (d) => d.accept());
  await page.goto(base + '/');
  await modelsLoaded(page);
  return page;
}

// The model cards are there (the list came from models/available).
async function modelsLoaded(page, id = 'local') {
  await page.waitForSelector(`#cards input[name=model][value="${id}"]`, { state: 'attached' });
}

// Choose a model by clicking its card.
async function pickModel(page, id) {
  await page.click(`#cards label[for="m-${id}"]`);
  await page.waitForFunction((m) => document.querySelector('input[name=model]:checked').value === m, id);
}

// Open "Advanced settings" (collapsed at first).
async function openAdvanced(page) {
  if (!(await page.$eval('#advanced', (d) => d.open))) await page.click('#advanced > summary');
  await page.waitForFunction(() => document.querySelector('#advanced').open);
}

// Choose files on the upload page and wait until `kept` are listed.
async function choose(page, files, kept) {
  await page.setInputFiles('#files', files);
  await page.waitForFunction((n) => document.querySelectorAll('#picked li').length === n, kept);
}

// A coarse grid for the offline model: faster, the tests' models stay valid.
async function coarse(page) {
  await page.fill('#p-resolution', '48');
}

// Submit and land on the processing page; returns the batch id.
async function submit(page) {
  await page.click('#go');
  await page.waitForURL(/\/processing\?taskId=[0-9a-f]{32}$/, { timeout: 30000 });
  return new URL(page.url()).searchParams.get('taskId');
}

// Tiles whose picture (the server's thumbnail_url, else the one this
// browser kept) has loaded, once every picture has settled.
async function tilePictures(page) {
  await page.waitForFunction(() => [...document.querySelectorAll('#tiles li img[src]')].every((i) => i.complete));
  return page.$$eval('#tiles li img[src]', (is) => is.filter((i) => i.naturalWidth > 0).length);
}

async function tileClasses(page) {
  return page.$$eval('#tiles li', (ls) => ls.map((l) => l.className));
}

// Wait until n tiles have the class (status) given.
async function waitTiles(page, status, n, timeout = 60000) {
  try {
    await page.waitForFunction(([s, k]) => document.querySelectorAll(`#tiles li.${s}`).length === k,
      [status, n], { timeout });
  } catch (e) {
    throw new Error(`expected ${n} tiles ${status}, have [${await tileClasses(page)}]`);
  }
}

module.exports = { run, launch, uploadPage, modelsLoaded, pickModel, openAdvanced, choose, coarse, submit, waitTiles,
  tileClasses, tilePictures, FIX, ROOT, SHOTS };

// The 3D preview of the first <model-viewer>: wait for its 'load' event
// (or fail on 'error'), then count the pixels of its canvas that are not
// background.  Returns {lit, total, colours} over the central region.
// 'load' means the GLB is parsed, not that a frame is on the canvas: the
// first frame can come seconds later on a loaded machine (SwiftShader), so
// the canvas is read again until it has drawn (10% lit, 300 colours) or
// the deadline passes, and the last reading is returned either way.
async function previewPixels(page, timeout = 60000) {
  const deadline = Date.now() + timeout;
  await page.waitForSelector('model-viewer');
  await page.evaluate((ms) => new Promise((resolve, reject) => {
    const mv = document.querySelector('model-viewer');
    const t = setTimeout(() => reject(new Error(`no 'load' event from model-viewer within ${ms} ms`)), ms);
    if (mv.loaded) { clearTimeout(t); resolve(); return; }
    mv.addEventListener('load', () => { clearTimeout(t); resolve(); }, { once: true });
    mv.addEventListener('error', (e) => { clearTimeout(t); reject(new Error(`model-viewer error: ${e.detail && e.detail.type}`)); }, { once: true });
  }), timeout);
  for (;;) {
    await page.waitForTimeout(250);
    const p = await canvasPixels(page);
    if ((p.lit >= p.total * 0.1 && p.colours >= 300) || Date.now() > deadline) return p;
  }
}

// One reading of the first <model-viewer>'s canvas (see previewPixels).
function canvasPixels(page) {
  return page.evaluate(async () => {
    const mv = document.querySelector('model-viewer');
    const img = new Image();
    img.src = mv.toDataURL('image/png');
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width; c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    // Central half of the canvas; the background is transparent or the
    // colour of the top-left corner.
    const all = g.getImageData(0, 0, c.width, c.height).data;
    const bg = [all[0], all[1], all[2], all[3]];
    const x0 = Math.floor(c.width / 4); const y0 = Math.floor(c.height / 4);
    const d = g.getImageData(x0, y0, Math.floor(c.width / 2), Math.floor(c.height / 2)).data;
    const colours = new Set();
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) {
      const diff = Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) + Math.abs(d[i + 3] - bg[3]);
      if (d[i + 3] > 0 && diff > 24) { lit++; colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]); }
    }
    return { lit, total: d.length / 4, colours: colours.size, width: c.width, height: c.height };
  });
}

// Tell the bats test (START_DAEMON names a file it waits for) to start the daemon.
function startDaemon() {
  if (!process.env.START_DAEMON) throw new Error('START_DAEMON is not set: run this scenario from browser.bats');
  fs.writeFileSync(process.env.START_DAEMON, 'go');
}

Object.assign(module.exports, { previewPixels, startDaemon });
