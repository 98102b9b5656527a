// e_reload.js BASE_URL (daemon stopped by browser.bats until startDaemon()):
// reload mid-batch shows the same batch, tiles and thumbnails, and the
// reloaded page follows the batch live to completion.
'use strict';
const L = require('./lib');

L.run('e_reload', async ({ browser, base, shot, fix }) => {
  const page = await L.uploadPage(browser, base);
  await L.choose(page, [fix('chair.png'), fix('sneaker.jpg')], 2);
  await L.coarse(page);
  const id = await L.submit(page);
  await L.waitTiles(page, 'queued', 2, 15000);
  await page.reload();
  await L.waitTiles(page, 'queued', 2, 15000);
  if (new URL(page.url()).searchParams.get('taskId') !== id) throw new Error(`reload changed the page: ${page.url()}`);
  if ((await page.textContent('#b-id')) !== id) throw new Error('batch card lost its id on reload');
  const thumbs = await L.tilePictures(page);
  if (thumbs !== 2) throw new Error(`${thumbs} thumbnails after reload, want 2`);
  const pos = await page.textContent('#tiles li:first-child .detail');
  await shot(page, '1-reloaded-queued');
  L.startDaemon();
  await L.waitTiles(page, 'completed', 2);
  await page.waitForSelector('#results:not([hidden])');
  await shot(page, '2-completed');
  return `tiles kept on reload ("${pos}"), then completed live`;
});
