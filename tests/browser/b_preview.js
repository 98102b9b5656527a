// b_preview.js BASE_URL: the 3D preview draws: after model-viewer's 'load'
// event its canvas has many non-background pixels in many colours.
'use strict';
const L = require('./lib');

L.run('b_preview', async ({ browser, base, shot, fix }) => {
  const page = await L.uploadPage(browser, base);
  await L.choose(page, [fix('sneaker.jpg')], 1);
  await L.submit(page);
  await L.waitTiles(page, 'completed', 1);
  await page.waitForSelector('#results:not([hidden]) model-viewer');
  const p = await L.previewPixels(page);
  await shot(page, '1-preview');
  await page.locator('model-viewer').first().screenshot({ path: require('path').join(__dirname, '..', 'screenshots', 'b_preview-2-canvas.png') });
  if (p.lit < p.total * 0.1 || p.colours < 300) throw new Error(`3D preview looks blank: ${JSON.stringify(p)}`);
  return `preview ${p.width}x${p.height}: ${p.lit}/${p.total} central pixels drawn, ${p.colours} colours`;
});
