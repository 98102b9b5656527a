// upload.js BASE_URL: upload the sample photos through the page, watch
// every tile reach completed, check the 3D preview draws and the download
// links serve valid models.  Exits non-zero with a reason on any failure.
'use strict';
const path = require('path');
const fs = require('fs');
const { chromium } = require(path.join(__dirname, '..', '..', 'node_modules', 'playwright-core'));

const base = process.argv[2];
const shots = path.join(__dirname, '..', 'screenshots');
const fix = path.join(__dirname, '..', 'fixtures');

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
      '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    await page.goto(base + '/');
    await page.waitForSelector('#model option[value="local"]', { state: 'attached' });
    // A text file named .png is refused before upload, with its reason.
    const bad = path.join(require('os').tmpdir(), `notes-${process.pid}.png`);
    fs.writeFileSync(bad, 'just text');
    await page.setInputFiles('#files', [path.join(fix, 'chair.png'), path.join(fix, 'sneaker.jpg'), bad]);
    await page.waitForFunction(() => document.querySelectorAll('#picked li').length === 2);
    const refused = await page.textContent('#refused');
    if (!refused.includes('not a JPEG, PNG or WebP')) throw new Error(`bad file not refused: "${refused}"`);
    await page.screenshot({ path: path.join(shots, '1-upload.png'), fullPage: true });
    await page.click('#go');
    await page.waitForURL(/\/processing\?taskId=[0-9a-f]{32}$/, { timeout: 30000 });
    await page.waitForFunction(() => document.querySelectorAll('#tiles li.completed').length === 2,
      null, { timeout: 60000 });
    await page.waitForSelector('#results:not([hidden])');
    // The 3D preview draws: wait for model-viewer's load, then count pixels.
    await page.waitForFunction(() => [...document.querySelectorAll('model-viewer')]
      .every((m) => m.loaded), null, { timeout: 60000 });
    await page.waitForTimeout(500);
    const lit = await page.evaluate(async () => {
      const mv = document.querySelector('model-viewer');
      const url = mv.toDataURL('image/png');
      const img = new Image();
      img.src = url;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width; c.height = img.height;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      const colours = new Set();
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] > 0) { n++; colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]); }
      }
      return { n, colours: colours.size, total: d.length / 4 };
    });
    if (lit.n < lit.total * 0.05 || lit.colours < 500) {
      throw new Error(`3D preview looks blank: ${JSON.stringify(lit)}`);
    }
    await page.screenshot({ path: path.join(shots, '2-results.png'), fullPage: true });
    const summary = await page.textContent('#summary');
    if (!summary.includes('All 2 models are ready')) throw new Error(`summary: "${summary}"`);
    // Download links: one model and the zip.
    const links = await page.$$eval('#models a.button', (as) => as.map((a) => a.href));
    const zip = await page.getAttribute('#zip', 'href');
    const out = process.env.BROWSER_OUT || require('os').tmpdir();
    for (const [i, u] of [links[0], base + zip].entries()) {
      const r = await page.request.get(u);
      if (r.status() !== 200) throw new Error(`${u}: HTTP ${r.status()}`);
      fs.writeFileSync(path.join(out, i === 0 ? 'one.glb' : 'all.zip'), await r.body());
    }
    console.log(`ok: preview pixels ${lit.n}/${lit.total}, colours ${lit.colours}`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(`FAIL: ${e.message}`); process.exit(1); });
