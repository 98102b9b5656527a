// nojs.js BASE_URL: with JavaScript off, the upload form still posts and
// the browser lands on the processing page of the new batch.
'use strict';
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', '..', 'node_modules', 'playwright-core'));

async function main() {
  const base = process.argv[2];
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  try {
    const ctx = await browser.newContext({ javaScriptEnabled: false });
    const page = await ctx.newPage();
    await page.goto(base + '/');
    await page.setInputFiles('#files', path.join(__dirname, '..', 'fixtures', 'chair.png'));
    await Promise.all([page.waitForURL(/\/processing\?taskId=[0-9a-f]{32}$/, { timeout: 30000 }),
      page.click('#go')]);
    await page.screenshot({ path: path.join(__dirname, '..', 'screenshots', '3-nojs-processing.png') });
    console.log(`ok: ${page.url()}`);
  } finally {
    await browser.close();
  }
}
main().catch((e) => { console.error(`FAIL: ${e.message}`); process.exit(1); });
