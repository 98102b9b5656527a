// j_polling.js BASE_URL: when the event stream cannot be had (every
// /stream request is refused here), the processing page falls back to
// polling the status endpoint, keeps retrying the stream, and still
// follows the batch to the end (daemon stopped by browser.bats until
// startDaemon()).  Every stream request says where the page is
// (?since=<seq of the status it read>).
'use strict';
const L = require('./lib');

L.run('j_polling', async ({ browser, base, shot, fix }) => {
  const page = await L.uploadPage(browser, base);
  let streams = 0; let polls = 0; const since = [];
  // The page opens the stream at the seq it has read (?since=N).
  await page.route('**/api/v1/status/tasks/*/stream{,?*}', (r) => {
    streams++; since.push(new URL(r.request().url()).searchParams.get('since')); r.abort();
  });
  page.on('request', (r) => { if (/\/status$/.test(new URL(r.url()).pathname)) polls++; });
  await L.choose(page, [fix('sneaker.jpg')], 1);
  await L.coarse(page);
  await L.submit(page);
  await L.waitTiles(page, 'queued', 1, 15000);
  // Let it fail over to polling at least once before work starts.
  for (let i = 0; i < 100 && (streams < 2 || polls < 2); i++) await page.waitForTimeout(100);
  L.startDaemon();
  await L.waitTiles(page, 'completed', 1);
  await page.waitForSelector('#results:not([hidden])');
  await shot(page, '1-completed-by-polling');
  if (streams < 1) throw new Error(`the page never tried the event stream (${polls} polls, ${await page.textContent('#b-elapsed')})`);
  if (polls < 2) throw new Error(`only ${polls} status polls`);
  // After reading the status (seq 1: one queued file) the stream is asked
  // only for what came after it.
  if (!since.every((k) => /^[1-9][0-9]*$/.test(k || ''))) throw new Error(`stream opened without the page's seq: since=${since}`);
  return `${streams} stream attempts refused, ${polls} status polls, batch completed`;
});
