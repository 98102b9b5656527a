// m_look.js BASE_URL (daemon stopped by browser.bats until startDaemon()):
// every state of both pages (upload: empty, photos chosen with a refusal
// and Advanced open; processing: waiting, results, the model dialog) at
// 1280 and 390 px wide, light and dark, saved as
// tests/screenshots/pages/<state>-<width>-<scheme>.png; axe-core (read
// from node_modules and injected, never fetched) finds no serious or
// critical violation in any of them; and the tiles do not move while
// they update (cumulative layout shift of the processing page < 0.1).
'use strict';
const fs = require('fs');
const path = require('path');
const L = require('./lib');

const AXE = path.join(L.ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const OUT = path.join(L.SHOTS, 'pages');
const SIZES = [[1280, 900], [390, 844]];

// Serious and critical axe violations of the page as it is, as text.
async function axe(page) {
  if (!fs.existsSync(AXE)) throw new Error(`${AXE} is missing: run tools/deps (npm ci)`);
  if (!(await page.evaluate(() => !!window.axe))) await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

const P = (name, type, def, description, extra = {}) => ({ name, type, default: def, description, ...extra });
const FAL_ROWS = [
  { id: 'tripo3d-v2.5', name: 'Tripo3D v2.5', description: 'High-quality textured meshes from one image (FAL)',
    good_at: 'Textured everyday objects with clean shapes; a good first choice', typical_s: 90, provider: 'fal',
    default: false, output_formats: ['glb'], price_usd: 0.3, forced: [],
    price_rules: [{ param: 'texture', value: 'no', add_usd: -0.1, factor: 1 }, { param: 'texture', value: 'HD', add_usd: 0.1, factor: 1 }],
    settings: [{ param: 'texture', label: 'Texture', choice_labels: ['None', 'Standard', 'High detail (HD)'] },
      { param: 'face_limit', label: 'Polygon budget' }],
    parameters: [P('face_limit', 'integer', null, 'How many triangles the model may have', { minimum: 500, maximum: 500000 }),
      P('texture', 'string', 'standard', 'The texture painted from the photo', { allowed_values: ['no', 'standard', 'HD'] }),
      P('pbr', 'boolean', false, 'Physically based materials (forces a texture)'),
      P('seed', 'integer', null, 'Geometry seed', { minimum: 0, maximum: 2147483647 })] },
  { id: 'triposr', name: 'TripoSR', description: 'Very fast single-image reconstruction (FAL)',
    good_at: 'A rough shape in seconds, for a quick look', typical_s: 10, provider: 'fal', default: false,
    output_formats: ['glb'], price_usd: 0.07, forced: [], price_rules: [],
    settings: [{ param: 'mc_resolution', label: 'Shape detail' }],
    parameters: [P('mc_resolution', 'integer', 256, 'Marching cubes resolution', { minimum: 32, maximum: 1024 })] },
  { id: 'pixal3d', name: 'Pixal3D', description: "Tencent ARC's pixel-aligned shapes (FAL)",
    good_at: "Shapes that keep the photo's fine detail", typical_s: 90, provider: 'fal', default: false,
    output_formats: ['glb'], price_usd: null, forced: [], price_rules: [], settings: [],
    parameters: [P('seed', 'integer', null, 'Random seed', { minimum: 0, maximum: 2147483647 })] },
];

const frames = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

L.run('m_look', async ({ browser, base, fix, tmp }) => {
  fs.mkdirSync(OUT, { recursive: true });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.addInitScript(() => {
    window.__cls = 0;
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
    }).observe({ type: 'layout-shift', buffered: true });
  });
  const page = await ctx.newPage();
  const problems = [];
  let shots = 0;
  // Every size and scheme of one state; axe in both schemes at 1280 px.
  const state = async (name, full = true) => {
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [w, h] of SIZES) {
        await page.setViewportSize({ width: w, height: h });
        await frames(page);
        if (w === 1280) for (const v of await axe(page)) problems.push(`${name} ${scheme}: ${v}`);
        await page.screenshot({ path: path.join(OUT, `${name}-${w}-${scheme}.png`), fullPage: full });
        shots++;
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 900 });
  };
  await page.goto(base + '/');
  await L.modelsLoaded(page);
  await state('upload-empty');
  const bad = path.join(tmp, 'notes.png');
  fs.writeFileSync(bad, 'this is text, not a picture\n');
  await L.choose(page, [fix('chair.png'), bad, fix('sneaker.jpg')], 2);
  await page.waitForFunction(() => [...document.querySelectorAll('#picked img')].every((i) => i.complete));
  await L.coarse(page);
  await L.openAdvanced(page);
  await state('upload-chosen');
  await L.submit(page);
  await L.waitTiles(page, 'queued', 2, 15000);
  await state('processing-waiting');
  await frames(page);
  const cls0 = await page.evaluate(() => window.__cls);
  L.startDaemon();
  await L.waitTiles(page, 'completed', 2);
  await page.waitForSelector('#results:not([hidden]) button.open');
  const cls = await page.evaluate(() => window.__cls) - cls0;
  if (cls >= 0.1) problems.push(`the processing page moved while tiles updated (layout shift ${cls.toFixed(3)})`);
  await state('results');
  await page.click('#models button.open');
  await page.waitForSelector('#viewer[open]');
  await page.waitForFunction(() => document.querySelector('#viewer-mv').loaded, null, { timeout: 60000 });
  await state('dialog', false);
  // The model cards as they look with a FAL key (rows shaped like the
  // table's: good_at, typical_s, price, settings for people).
  await page.route('**/api/v1/models/available', async (route) => {
    const resp = await route.fetch();
    const j = await resp.json();
    j.models.push(...FAL_ROWS);
    await route.fulfill({ response: resp, json: j });
  });
  await page.goto(base + '/');
  await L.modelsLoaded(page, 'tripo3d-v2.5');
  await L.pickModel(page, 'tripo3d-v2.5');
  await L.choose(page, [fix('chair.png'), fix('sneaker.jpg')], 2);
  await state('upload-cards');
  await ctx.close();
  if (problems.length) throw new Error(`\n  ${problems.join('\n  ')}`);
  return `${shots} screenshots in tests/screenshots/pages/, no serious axe violation, layout shift ${cls.toFixed(3)}`;
});
