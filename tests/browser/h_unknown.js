// h_unknown.js BASE_URL: an unknown or malformed batch id gets a clear message.
'use strict';
const L = require('./lib');

L.run('h_unknown', async ({ browser, base, shot }) => {
  const page = await browser.newPage();
  await page.goto(`${base}/processing?taskId=${'0'.repeat(32)}`);
  await page.waitForFunction(() => document.querySelector('#problem').textContent !== '');
  const a = await page.textContent('#problem');
  if (!/no batch with this id/i.test(a)) throw new Error(`unknown id: "${a}"`);
  await shot(page, '1-unknown');
  await page.goto(`${base}/processing?taskId=../../etc`);
  await page.waitForFunction(() => document.querySelector('#problem').textContent !== '');
  const b = await page.textContent('#problem');
  if (!/no valid batch id/i.test(b)) throw new Error(`malformed id: "${b}"`);
  return `"${a}" / "${b}"`;
});
