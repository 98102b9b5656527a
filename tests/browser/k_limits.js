// k_limits.js BASE_URL: the upload page takes its limits (files per
// upload, bytes per file) from /api/v1/models/available, not from its own
// constants: the answer is altered here to 2 files of 1.5 MB, and the page
// must say so and refuse by those figures before anything is sent.
'use strict';
const fs = require('fs');
const path = require('path');
const L = require('./lib');

L.run('k_limits', async ({ browser, base, shot, tmp, fix }) => {
  const big = path.join(tmp, 'big.png');
  fs.writeFileSync(big, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]),
    Buffer.alloc(2 * 1024 * 1024)]));
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  let real = null;
  await page.route('**/api/v1/models/available', async (route) => {
    const resp = await route.fetch();
    const j = await resp.json();
    real = j.limits;
    j.limits = { max_files: 2, max_file_bytes: 1572864 };
    await route.fulfill({ response: resp, json: j });
  });
  await page.goto(base + '/');
  await L.modelsLoaded(page);
  if (!real || real.max_files !== 25 || real.max_file_bytes !== 10485760) {
    throw new Error(`models/available limits: ${JSON.stringify(real)}`);
  }
  const hint = await page.textContent('#limits');
  if (!hint.includes('Up to 2 JPEG, PNG or WebP photos, 1.5 MB each')) throw new Error(`limits hint: "${hint}"`);
  await L.choose(page, [big, fix('chair.png'), fix('sneaker.jpg'), fix('chair.png')], 2);
  const refused = await page.textContent('#refused');
  for (const want of ['big.png is 2.0 MB; the limit is 1.5 MB', 'chair.png: only 2 files per upload']) {
    if (!refused.includes(want)) throw new Error(`"${want}" not in "${refused}"`);
  }
  await shot(page, '1-refused');
  return 'limits from the API';
});
