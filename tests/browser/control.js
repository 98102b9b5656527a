// control.js BASE_URL SPOOL_DIR: with no daemon running (files stay
// queued): an over-size file is refused before upload; a reload mid-batch
// shows the same tiles; cancel (confirmed) marks every tile cancelled and
// says so; retry queues them again.  Then, with a daemon started by the
// caller (signalled through the file named by $START_DAEMON), a truncated
// JPEG's tile shows its reason while the other completes.
'use strict';
const path = require('path');
const fs = require('fs');
const os = require('os');
const { chromium } = require(path.join(__dirname, '..', '..', 'node_modules', 'playwright-core'));

const base = process.argv[2];
const shots = path.join(__dirname, '..', 'screenshots');
const fix = path.join(__dirname, '..', 'fixtures');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'i2m-browser-'));

async function tiles(page) {
  return page.$$eval('#tiles li', (ls) => ls.map((l) => l.className));
}

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  const big = path.join(tmp, 'huge.png');
  const head = Buffer.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]);
  fs.writeFileSync(big, Buffer.concat([head, Buffer.alloc(10 * 1024 * 1024 + 1)]));
  const cut = path.join(tmp, 'cut.jpg');
  fs.writeFileSync(cut, fs.readFileSync(path.join(fix, 'sneaker.jpg')).subarray(0, 20000));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
      '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    page.on('dialog', (d) => d.accept());
    await page.goto(base + '/');
    await page.waitForSelector('#cards input[name=model][value="local"]', { state: 'attached' });
    await page.setInputFiles('#files', [big, path.join(fix, 'chair.png'), cut]);
    await page.waitForFunction(() => document.querySelectorAll('#picked li').length === 2);
    const refused = await page.textContent('#refused');
    if (!refused.includes('huge.png is 10.0 MB; the limit is 10 MB')) throw new Error(`over-size not refused: "${refused}"`);
    await page.screenshot({ path: path.join(shots, '4-phone-upload.png'), fullPage: true });
    await page.click('#go');
    await page.waitForURL(/\/processing\?taskId=[0-9a-f]{32}$/, { timeout: 30000 });
    await page.waitForFunction(() => document.querySelectorAll('#tiles li.queued').length === 2);
    const url = page.url();
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('#tiles li.queued').length === 2);
    if (page.url() !== url) throw new Error('reload changed the page');
    await page.waitForFunction(() => [...document.querySelectorAll('#tiles li img[src]')].every((i) => i.complete));
    const thumbs = await page.$$eval('#tiles li img[src]', (is) => is.filter((i) => i.naturalWidth > 0).length);
    // The truncated JPEG cannot be drawn, so only the chair has a thumbnail.
    if (thumbs !== 1) throw new Error(`tiles lost their thumbnails on reload (${thumbs})`);
    await page.screenshot({ path: path.join(shots, '5-phone-queued.png'), fullPage: true });
    await page.click('#cancel');
    await page.waitForFunction(() => document.querySelectorAll('#tiles li.cancelled').length === 2);
    await page.waitForFunction(() => document.querySelector('#summary').textContent.includes('No model could be made'));
    await page.click('#retry');
    await page.waitForFunction(() => document.querySelectorAll('#tiles li.queued').length === 2);
    // Let the caller start the daemon, then watch the batch finish.
    fs.writeFileSync(process.env.START_DAEMON, 'go');
    await page.waitForFunction(() => document.querySelectorAll('#tiles li.completed').length === 1 &&
      document.querySelectorAll('#tiles li.failed').length === 1, null, { timeout: 60000 });
    const err = await page.textContent('#tiles li.failed .detail');
    if (!/truncated/i.test(err)) throw new Error(`failed tile gives no reason: "${err}"`);
    const sum = await page.textContent('#summary');
    const why = await page.textContent('#reasons');
    if (!sum.includes('1 of 2 models are ready') || !/cut\.jpg: .*truncated/i.test(why)) {
      throw new Error(`summary: "${sum}", reasons: "${why}"`);
    }
    await page.screenshot({ path: path.join(shots, '6-phone-partial.png'), fullPage: true });
    console.log('ok');
  } finally {
    await browser.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
main().catch((e) => { console.error(`FAIL: ${e.message}`); process.exit(1); });
