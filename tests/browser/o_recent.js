// o_recent.js BASE_URL: two batches sent from this browser are listed on
// the upload page after a reload (newest first), each with its state, a
// thumbnail, a link to its page and until when the server keeps it
// (RETENTION_HOURS from models/available).
'use strict';
const L = require('./lib');

L.run('o_recent', async ({ browser, base, shot, fix }) => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(base + '/');
  await L.modelsLoaded(page);
  if (!(await page.isHidden('#recent-box'))) throw new Error('a fresh browser shows recent batches');
  const ids = [];
  for (const files of [[fix('chair.png')], [fix('sneaker.jpg'), fix('chair.png')]]) {
    await page.goto(base + '/');
    await L.modelsLoaded(page);
    await L.choose(page, files, files.length);
    await L.coarse(page);
    ids.push(await L.submit(page));
    await L.waitTiles(page, 'completed', files.length);
  }
  await page.goto(base + '/');
  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll('#recent li .state').length === 2 &&
    [...document.querySelectorAll('#recent li .state')].every((p) => !p.textContent.startsWith('Asking')));
  const rows = await page.$$eval('#recent li', (ls) => ls.map((l) => ({
    href: l.querySelector('a').getAttribute('href'), text: l.textContent,
    thumbs: [...l.querySelectorAll('.mini img')].filter((i) => i.complete && i.naturalWidth > 0).length })));
  const want = [ids[1], ids[0]];
  rows.forEach((r, i) => {
    if (r.href !== `/processing?taskId=${want[i]}`) throw new Error(`row ${i} links to ${r.href}, want ${want[i]}`);
    if (!/ready/.test(r.text) || !/keeps it until/.test(r.text)) throw new Error(`row ${i}: "${r.text}"`);
    if (r.thumbs < 1) throw new Error(`row ${i} shows no thumbnail`);
  });
  if (!rows[0].text.startsWith('2 photos') && !rows[0].text.includes('2 photos')) throw new Error(`newest row: "${rows[0].text}"`);
  const note = await page.textContent('#recent-note');
  if (!note.includes('72 hours')) throw new Error(`retention not said: "${note}"`);
  await shot(page, '1-recent');
  // A finished batch's page: the elapsed time stands still at its end.
  await Promise.all([page.waitForURL(/\/processing\?taskId=/), page.click('#recent li:first-child a')]);
  await page.waitForSelector('#results:not([hidden])');
  const e1 = await page.textContent('#b-elapsed');
  const t0 = Date.now();
  await page.waitForFunction((t) => Date.now() > t + 2500, t0);
  const e2 = await page.textContent('#b-elapsed');
  if (e1 !== e2 || !/^\d+ s$/.test(e1)) throw new Error(`elapsed of a finished batch: "${e1}", then "${e2}"`);
  await ctx.close();
  return `elapsed stays ${e1}; 2 recent batches listed after a reload (${rows.map((r) => r.thumbs).join('+')} thumbnails): "${note}"`;
});
