#!/usr/bin/env node
// render.js: look at GLBs from the front, at 45 degrees and from the side.
//   node tests/tools/render.js OUTDIR a.glb [b.glb ...]
// Writes OUTDIR/<name>.png per GLB: three model-viewer views side by side
// (orbit 0, 45 and 90 degrees, camera level with the model) on a grey
// floor colour, so the silhouette, the walls and the back can be judged.
// Uses Debian's chromium through playwright-core, like tests/browser/lib.js,
// and a throwaway HTTP server on 127.0.0.1 (no network otherwise).
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

const ROOT = path.join(__dirname, '..', '..');
const ARGS = ['--headless=new', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic'];
const VIEWS = ['0deg 85deg auto', '45deg 75deg auto', '90deg 85deg auto'];

function page(src) {
  const mv = VIEWS.map((o, i) => `<model-viewer id="v${i}" src="${src}" camera-orbit="${o}"
    interaction-prompt="none" shadow-intensity="1" exposure="1" style="width:360px;height:360px;
    display:inline-block;background:#d8d8d8"><div slot="progress-bar"></div></model-viewer>`).join('');
  return `<!doctype html><html><body style="margin:0;background:#fff">
<script type="module" src="/vendor/model-viewer.min.js"></script>${mv}
<script type="module">
  let n = 0;
  for (const v of document.querySelectorAll('model-viewer')) {
    v.addEventListener('load', () => { if (++n === 3) document.title = 'loaded'; });
    v.addEventListener('error', e => { document.title = 'error'; });
  }
</script></body></html>`;
}

function serve(files) {
  return http.createServer((req, res) => {
    const u = decodeURIComponent(req.url.split('?')[0]);
    if (u === '/vendor/model-viewer.min.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      return res.end(fs.readFileSync(path.join(ROOT, 'www', 'vendor', 'model-viewer.min.js')));
    }
    const m = /^\/page\/(\d+)$/.exec(u);
    if (m) {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      return res.end(page(`/glb/${m[1]}.glb`));
    }
    const g = /^\/glb\/(\d+)\.glb$/.exec(u);
    if (g && files[+g[1]]) {
      res.writeHead(200, { 'Content-Type': 'model/gltf-binary' });
      return res.end(fs.readFileSync(files[+g[1]]));
    }
    res.writeHead(404);
    res.end();
  });
}

async function main() {
  const [out, ...files] = process.argv.slice(2);
  if (!out || files.length === 0) {
    console.error('usage: node render.js OUTDIR a.glb [b.glb ...]');
    process.exit(2);
  }
  fs.mkdirSync(out, { recursive: true });
  const srv = serve(files);
  await new Promise(r => srv.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${srv.address().port}`;
  const { chromium } = require(path.join(ROOT, 'node_modules', 'playwright-core'));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  let rc = 0;
  try {
    for (let i = 0; i < files.length; i++) {
      const p = await browser.newPage({ viewport: { width: 1080, height: 360 } });
      await p.goto(`${base}/page/${i}`);
      await p.waitForFunction(() => document.title === 'loaded' || document.title === 'error',
        null, { timeout: 60000 });
      if (await p.title() !== 'loaded') {
        console.log(`${files[i]}: did not load`);
        rc = 1;
      }
      await p.evaluate(() => new Promise(r => { let k = 0; const f = () => (++k < 10 ? requestAnimationFrame(f) : r()); f(); }));
      const dst = path.join(out, path.basename(files[i]).replace(/\.glb$/, '') + '.png');
      await p.screenshot({ path: dst });
      console.log(dst);
      await p.close();
    }
  } finally {
    await browser.close();
    srv.close();
  }
  process.exit(rc);
}
main().catch(e => { console.error(e); process.exit(1); });
