// formats_light.js BASE_URL: a model over 4 MB (relief of the chair at the
// finest grid) gets a light copy: the result card's 3D preview loads
// <stem>.web.glb (meshopt geometry, decoded by model-viewer's bundled
// decoder) and draws; its Download stays the original GLB; the card lists
// the triangle count, a Formats menu with every format, an "On a phone"
// QR code; "Download all" offers a format choice that changes its link.
'use strict';
const L = require('./lib');

L.run('formats_light', async ({ browser, base, shot, fix }) => {
  const page = await L.uploadPage(browser, base);
  await L.choose(page, [fix('chair.png')], 1);
  await page.selectOption('#p-mode', 'relief');
  await page.fill('#p-resolution', '256');
  const id = await L.submit(page);
  await L.waitTiles(page, 'completed', 1, 120000);
  await page.waitForSelector('#results:not([hidden]) model-viewer');
  const st = await (await page.request.get(`${base}/api/v1/status/tasks/${id}/status`)).json();
  const f = st.files[0];
  if (!f.preview_model || !/\.web\.glb$/.test(f.preview_model.url)) throw new Error(`no light copy: ${JSON.stringify(f.preview_model)} (GLB ${f.file_size} bytes)`);
  if (!(f.preview_model.size < f.file_size)) throw new Error(`light copy ${f.preview_model.size} not below ${f.file_size}`);
  const src = await page.getAttribute('#models model-viewer', 'src');
  if (src !== f.preview_model.url) throw new Error(`viewer loads ${src}, not the light copy`);
  for (const [k, v] of [['ar', ''], ['ar-modes', 'webxr scene-viewer quick-look']]) {
    const got = await page.getAttribute('#models model-viewer', k);
    if (got !== v) throw new Error(`model-viewer ${k}="${got}"`);
  }
  const p = await L.previewPixels(page, 90000);
  await shot(page, '1-light-preview');
  if (p.lit < p.total * 0.1 || p.colours < 300) throw new Error(`light preview looks blank: ${JSON.stringify(p)}`);
  const dl = await page.getAttribute('#models a.button[download]', 'href');
  if (dl !== f.model_url) throw new Error(`Download links ${dl}, not the original ${f.model_url}`);
  const name = await page.textContent('#models .name');
  if (!name.includes(`${f.triangles.toLocaleString('en')} triangles`)) throw new Error(`card says "${name}"`);
  // The Formats menu: one link per format, each to its download URL.
  await page.click('#models .formats-menu summary');
  const links = await page.$$eval('#models .formats-menu a', (as) => as.map((a) => a.getAttribute('href')));
  const want = f.formats.map((x) => x.url);
  if (JSON.stringify(links) !== JSON.stringify(want)) throw new Error(`menu ${links} != ${want}`);
  // From the page, as a person's browser asks: page.request would reuse its
  // keep-alive connection of the status GET above, which lighttpd may be
  // closing just then (server.max-keep-alive-idle) -> ECONNRESET; Chromium
  // retries a request that meets a closed idle connection.
  for (const u of links) {
    const st = await page.evaluate(async (url) => (await fetch(url, { method: 'HEAD', cache: 'no-store' })).status, u);
    if (st !== 200) throw new Error(`HEAD ${u}: ${st}`);
  }
  await shot(page, '2-formats-menu');
  // The QR code loads when its menu opens and is an SVG.
  await page.click('#models .qr summary');
  await page.waitForFunction(() => { const i = document.querySelector('#models .qr img'); return i && i.complete && i.naturalWidth > 0; });
  await shot(page, '3-qr');
  // Download all: the format choice changes the zip's link.
  const opts = await page.$$eval('#zip-format option', (os) => os.map((o) => o.value));
  if (!['glb', 'obj', 'stl', '3mf'].every((x) => opts.includes(x))) throw new Error(`zip formats ${opts}`);
  await page.selectOption('#zip-format', 'stl');
  const zip = await page.getAttribute('#zip', 'href');
  if (!zip.endsWith(`/all.zip?format=stl`)) throw new Error(`zip link ${zip}`);
  return `light copy ${f.preview_model.size} of ${f.file_size} bytes drew ${p.lit}/${p.total} pixels, ${p.colours} colours; ${links.length} formats`;
});
