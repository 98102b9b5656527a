// q_thumbs.js BASE_URL: a batch's link opened in a fresh browser context
// (no sessionStorage from the uploading tab) shows the server's thumbnail
// in every tile: the picture comes from the file's thumbnail_url (absolute,
// on the page's origin) and has loaded.
'use strict';
const L = require('./lib');

L.run('q_thumbs', async ({ browser, base, shot, fix }) => {
  const page = await L.uploadPage(browser, base);
  await L.choose(page, [fix('chair.png'), fix('sneaker.jpg')], 2);
  await L.coarse(page);
  const id = await L.submit(page);
  await L.waitTiles(page, 'completed', 2);
  const link = page.url();
  const ctx = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const other = await ctx.newPage();
  await other.goto(link);
  await L.waitTiles(other, 'completed', 2);
  const srcs = await other.$$eval('#tiles li img', (is) => is.map((i) => i.getAttribute('src') || ''));
  const want = new RegExp(`^${base.replace(/[.]/g, '\\.')}/api/v1/thumbs/${id}/[0-9]+$`);
  if (srcs.length !== 2 || !srcs.every((s) => want.test(s))) throw new Error(`tile pictures in a fresh browser: ${JSON.stringify(srcs)}`);
  const drawn = await L.tilePictures(other);
  if (drawn !== 2) throw new Error(`${drawn} of 2 thumbnails drew in a fresh browser`);
  await shot(other, '1-fresh-browser');
  await ctx.close();
  return `both tiles show ${srcs.join(', ')}`;
});
