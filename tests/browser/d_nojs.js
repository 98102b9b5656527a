// d_nojs.js BASE_URL: with JavaScript off the plain form posts (303 from
// the server) and the browser lands on /processing?taskId=<id>.
'use strict';
const L = require('./lib');

L.run('d_nojs', async ({ browser, base, shot, fix }) => {
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(base + '/');
  const model = await page.$eval('select[name=model]', (s) => s.form && s.form.getAttribute('action'));
  if (model !== '/api/v1/upload/') throw new Error(`the model select is not in the upload form (${model})`);
  await page.setInputFiles('input[type=file][name=files]', [fix('chair.png'), fix('sneaker.jpg')]);
  await shot(page, '1-form');
  await Promise.all([page.waitForURL(/\/processing\?taskId=[0-9a-f]{32}$/, { timeout: 30000 }),
    page.click('button[type=submit]')]);
  const id = new URL(page.url()).searchParams.get('taskId');
  const r = await page.request.get(`${base}/api/v1/status/tasks/${id}/status`);
  if (r.status() !== 200) throw new Error(`status of ${id}: HTTP ${r.status()}`);
  const s = await r.json();
  if (s.files.length !== 2) throw new Error(`${s.files.length} files in the batch, want 2`);
  await shot(page, '2-processing');
  await ctx.close();
  return page.url();
});
