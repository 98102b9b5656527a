// m_streams_full.js BASE_URL BATCH_ID: the processing page when the event
// stream cannot be had, run by sse_capacity.bats while every stream slot
// of the server is taken (the batch is queued; the daemon starts when
// startDaemon() asks).  First the stream is held silent (no event, no
// heartbeat): the page must give up on it within seconds and poll.  Then
// the server's own answer, 503 (full), must also send it to polling; the
// page keeps polling and still follows the batch to its results.
'use strict';
const L = require('./lib');

L.run('m_streams_full', async ({ browser, base, shot }) => {
  const id = process.argv[3];
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  let silent = 0; let refused = 0; let opened = 0; let polls = 0; let pollsAfterSilent = -1;
  const hold = async (route) => { silent++; }; // never answered
  await page.route('**/api/v1/status/tasks/*/stream{,?*}', hold);
  page.on('response', (r) => {
    const p = new URL(r.url()).pathname;
    if (/\/stream$/.test(p)) { if (r.status() === 503) refused++; else opened++; }
  });
  page.on('request', (r) => { if (/\/status$/.test(new URL(r.url()).pathname)) polls++; });
  await page.goto(`${base}/processing.html?taskId=${id}`);
  await L.waitTiles(page, 'queued', 1, 15000);
  // A silent stream: polling within a few seconds (4 s watchdog + 1.5 s).
  for (let i = 0; i < 150 && !(silent >= 1 && polls >= 2); i++) await page.waitForTimeout(100);
  if (silent < 1) throw new Error('the page never opened the stream');
  if (polls < 2) throw new Error(`a silent stream left the page without polling (${polls} polls in 15 s)`);
  pollsAfterSilent = polls;
  await page.unroute('**/api/v1/status/tasks/*/stream{,?*}', hold);
  // The server's answer now: 503 at once, and the page keeps polling.
  for (let i = 0; i < 300 && refused < 1; i++) await page.waitForTimeout(100);
  if (refused < 1) throw new Error(`the page never tried the stream again (${polls} polls)`);
  await shot(page, '1-polling-while-full');
  L.startDaemon();
  await L.waitTiles(page, 'completed', 1);
  await page.waitForSelector('#results:not([hidden])');
  await shot(page, '2-completed-by-polling');
  if (opened > 0) throw new Error(`${opened} streams were answered although every slot was taken`);
  if (polls <= pollsAfterSilent) throw new Error('no polls after the 503');
  return `silent stream given up, ${refused} stream(s) refused with 503, ${polls} status polls, batch completed`;
});
