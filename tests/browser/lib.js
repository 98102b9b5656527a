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
  await page.waitForSelector('#model option[value="local"]', { state: 'attached' });
  return page;
}

// Choose files on the upload page and wait until `kept` are listed.
async function choose(page, files, kept) {
  await page.setInputFiles('#files', files);
  await page.waitForFunction((n) => document.querySelectorAll('#picked li').length === n, kept);
}

// Submit and land on the processing page; returns the batch id.
async function submit(page) {
  await page.click('#go');
  await page.waitForURL(/\/processing\?taskId=[0-9a-f]{32}$/, { timeout: 30000 });
  return new URL(page.url()).searchParams.get('taskId');
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

module.exports = { run, launch, uploadPage, choose, submit, waitTiles, tileClasses, FIX };
