// c_badfile.js BASE_URL: a text file named x.png is refused before upload
// with its reason, the good photo beside it is kept, nothing is sent.
'use strict';
const fs = require('fs');
const path = require('path');
const L = require('./lib');

L.run('c_badfile', async ({ browser, base, shot, fix, tmp }) => {
  const bad = path.join(tmp, 'x.png');
  fs.writeFileSync(bad, 'this is text, not a picture\n');
  const page = await L.uploadPage(browser, base);
  let posts = 0;
  page.on('request', (r) => { if (r.method() === 'POST') posts++; });
  await L.choose(page, [bad, fix('chair.png')], 1);
  const refused = await page.textContent('#refused');
  if (!refused.includes('x.png is not a JPEG, PNG or WebP image')) throw new Error(`bad file not refused: "${refused}"`);
  const kept = await page.textContent('#picked');
  if (!kept.includes('chair.png') || kept.includes('x.png')) throw new Error(`chosen list: "${kept}"`);
  if (!(await page.isVisible('#refused'))) throw new Error('the refusal is not visible');
  await shot(page, '1-refused');
  // Only the bad file: nothing to send, the form says so and stays.
  await page.click('#clear');
  await L.choose(page, [bad], 0);
  await page.click('#go');
  await page.waitForTimeout(300);
  if (posts !== 0) throw new Error(`${posts} POST requests were sent`);
  if (new URL(page.url()).pathname !== '/') throw new Error(`left the upload page: ${page.url()}`);
  await shot(page, '2-nothing-to-send');
  return `refused: "${refused}"`;
});
