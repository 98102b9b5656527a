// g_download.js BASE_URL OUT_DIR: click a model's Download link and the
// "Download all (.zip)" link; save them as OUT_DIR/one.glb and
// OUT_DIR/all.zip (browser.bats checks them).
'use strict';
const path = require('path');
const L = require('./lib');

L.run('g_download', async ({ browser, base, shot, fix }) => {
  const out = process.argv[3];
  if (!out) throw new Error('usage: g_download.js BASE_URL OUT_DIR');
  const page = await L.uploadPage(browser, base);
  await L.choose(page, [fix('chair.png'), fix('sneaker.jpg')], 2);
  await L.coarse(page);
  await L.submit(page);
  await L.waitTiles(page, 'completed', 2);
  await page.waitForSelector('#results:not([hidden])');
  await shot(page, '1-results');
  const got = [];
  for (const [sel, name] of [['#models a[download]', 'one.glb'], ['#zip', 'all.zip']]) {
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }),
      page.locator(sel).first().click()]);
    if (await dl.failure()) throw new Error(`${sel}: download failed: ${await dl.failure()}`);
    await dl.saveAs(path.join(out, name));
    got.push(`${name} (${dl.suggestedFilename()})`);
  }
  return got.join(', ');
});
