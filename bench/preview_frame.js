// bench/preview_frame.js DIR GLB...: time to first frame of each GLB in
// headless Chromium (Debian's chromium through playwright-core, as the
// browser tests drive it).  DIR is served by a small static server of
// this script, with www/vendor/model-viewer.min.js and js/meshopt-ready.js
// as the results page has them; each GLB is loaded in a fresh page with
// the HTTP cache off, from model-viewer's creation to the first frame
// after its 'load' event.  Prints one line per GLB: name, bytes, ms (median of 3).
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const L = require('../tests/browser/lib');

const ROOT = path.join(__dirname, '..');
const [dir, ...glbs] = process.argv.slice(2);
const TYPES = { '.js': 'text/javascript', '.glb': 'model/gltf-binary', '.html': 'text/html' };
const files = {
  '/model-viewer.min.js': path.join(ROOT, 'www', 'vendor', 'model-viewer.min.js'),
  '/meshopt-ready.js': path.join(ROOT, 'www', 'js', 'meshopt-ready.js'),
};
for (const g of glbs) files[`/${path.basename(g)}`] = path.resolve(dir, g);
const PAGE = `<!doctype html><meta charset=utf-8><body style="margin:0">
<script type=module src="/model-viewer.min.js"></script>
<script type=module>
customElements.whenDefined('model-viewer').then((MV) => { MV.meshoptDecoderLocation = '/meshopt-ready.js'; window.ready = true; });
window.frame = (src) => new Promise((resolve, reject) => {
  const t0 = performance.now();
  const mv = document.createElement('model-viewer');
  mv.style.width = '800px'; mv.style.height = '600px';
  mv.addEventListener('load', () => requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0))), { once: true });
  mv.addEventListener('error', (e) => reject(new Error('model-viewer error ' + (e.detail && e.detail.type))), { once: true });
  mv.src = src;
  document.body.append(mv);
});
</script>`;

const server = http.createServer((req, res) => {
  const f = files[req.url];
  if (req.url === '/') { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(PAGE); return; }
  if (!f) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'Content-Type': TYPES[path.extname(f)] || 'application/octet-stream', 'Cache-Control': 'no-store' });
  fs.createReadStream(f).pipe(res);
});

(async () => {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await L.launch();
  for (const g of glbs) {
    const ms = [];
    for (let i = 0; i < 3; i++) {
      const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
      await page.goto(base + '/');
      await page.waitForFunction(() => window.ready === true);
      ms.push(await page.evaluate((s) => window.frame(s), `/${path.basename(g)}`));
      await page.close();
    }
    ms.sort((a, b) => a - b);
    console.log(`${path.basename(g)}\t${fs.statSync(path.resolve(dir, g)).size}\t${Math.round(ms[1])} ms\t(runs ${ms.map(Math.round).join(', ')})`);
  }
  await browser.close();
  server.close();
})().catch((e) => { console.error(`FAIL: ${e.message}`); process.exit(1); });
