// f_cancel.js BASE_URL (daemon stopped by browser.bats until startDaemon()):
// Cancel asks first (dismissed: nothing changes), confirmed: every waiting
// tile is cancelled and the page says so; "Retry failed" queues them
// again.
'use strict';
const L = require('./lib');

L.run('f_cancel', async ({ browser, base, shot, fix }) => {
  const page = await browser.newPage({ viewport: { width: 360, height: 780 } });
  await page.goto(base + '/');
  await L.modelsLoaded(page);
  await L.choose(page, [fix('chair.png'), fix('sneaker.jpg')], 2);
  await L.submit(page);
  await L.waitTiles(page, 'queued', 2, 15000);
  let asked = 0;
  page.once('dialog', (d) => { asked++; d.dismiss(); });
  await page.click('#cancel');
  await page.waitForTimeout(500);
  if (asked !== 1) throw new Error('Cancel did not ask for confirmation');
  await L.waitTiles(page, 'queued', 2, 1000);
  page.once('dialog', (d) => { asked++; d.accept(); });
  await page.click('#cancel');
  await L.waitTiles(page, 'cancelled', 2, 15000);
  await page.waitForFunction(() => document.querySelector('#summary').textContent.includes('No model could be made'));
  const why = await page.textContent('#reasons');
  if (!why.includes('chair.png: Cancelled.') || !why.includes('sneaker.jpg: Cancelled.')) throw new Error(`reasons: "${why}"`);
  if (!(await page.isVisible('#retry'))) throw new Error('no "Retry failed" button after cancel');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > 360) throw new Error(`page is ${width}px wide at a 360px viewport`);
  await shot(page, '1-cancelled');
  await page.click('#retry');
  await L.waitTiles(page, 'queued', 2, 15000);
  await shot(page, '2-retried-queued');
  L.startDaemon();
  return 'cancel confirmed, 2 tiles cancelled, retried: queued again';
});
