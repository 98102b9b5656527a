// a_upload.js BASE_URL: chair.png + sneaker.jpg + chair.png through the
// page; every tile reaches completed; the results show 3 model cards.
'use strict';
const L = require('./lib');

L.run('a_upload', async ({ browser, base, shot, fix }) => {
  const page = await L.uploadPage(browser, base);
  await L.choose(page, [fix('chair.png'), fix('sneaker.jpg'), fix('chair.png')], 3);
  await page.waitForFunction(() => [...document.querySelectorAll('#picked img')].every((i) => i.complete));
  await shot(page, '1-chosen');
  const id = await L.submit(page);
  await page.waitForSelector('#tiles li');
  await shot(page, '2-processing');
  await L.waitTiles(page, 'completed', 3);
  await page.waitForSelector('#results:not([hidden])');
  const cards = await page.$$eval('#models > li', (ls) => ls.length);
  if (cards !== 3) throw new Error(`${cards} result cards, want 3`);
  const thumbs = await L.tilePictures(page);
  if (thumbs !== 3) throw new Error(`${thumbs} tiles show the upload thumbnail, want 3`);
  const sum = await page.textContent('#summary');
  if (!sum.includes('All 3 models are ready')) throw new Error(`summary: "${sum}"`);
  const bid = await page.textContent('#b-id');
  if (bid !== id) throw new Error(`batch card id "${bid}" != ${id}`);
  await shot(page, '3-results');
  return `batch ${id}, 3 tiles completed, 3 cards`;
});
