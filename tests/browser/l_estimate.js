// l_estimate.js BASE_URL: the upload page shows the batch's price before
// the button is pressed: "Make 2 models · about $0.60" from the model's
// price_usd, its price rules (Tripo's texture tiers) and forced parameters
// (Hunyuan v3: Geometry turns PBR off, and its surcharge), "price unknown"
// for a model without a price (never $0), "free" for the offline model.
// models/available is the shape the server sends (tests/bats/pricing.bats
// checks the server's side).
'use strict';
const L = require('./lib');

const p = (name, type, def, extra = {}) => ({ name, type, default: def, description: name, ...extra });
const MODELS = {
  default: 'tripo3d-v2.5',
  models: [
    { id: 'local', name: 'Built-in offline model', description: 'local', provider: 'local', default: false,
      output_formats: ['glb'], price_usd: 0, price_rules: [], forced: [], parameters: [] },
    { id: 'tripo3d-v2.5', name: 'Tripo3D v2.5', description: 'FAL', provider: 'fal', default: true, typical_s: 90,
      good_at: 'Textured everyday objects',
      output_formats: ['glb'], price_usd: 0.3,
      price_rules: [{ param: 'texture', value: 'no', add_usd: -0.1, factor: 1 },
        { param: 'texture', value: 'HD', add_usd: 0.1, factor: 1 }],
      forced: [{ if_param: 'texture', if_value: 'no', set_param: 'pbr', set_value: false }],
      parameters: [p('texture', 'string', 'standard', { allowed_values: ['no', 'standard', 'HD'] }),
        p('pbr', 'boolean', false)] },
    { id: 'hunyuan3d-v3', name: 'Hunyuan3D v3', description: 'FAL', provider: 'fal', default: false,
      output_formats: ['glb'], price_usd: 0.375,
      price_rules: [{ param: 'enable_pbr', value: true, add_usd: 0.15, factor: 1 }],
      forced: [{ if_param: 'generate_type', if_value: 'Geometry', set_param: 'enable_pbr', set_value: false }],
      parameters: [p('generate_type', 'string', 'Normal', { allowed_values: ['Normal', 'LowPoly', 'Geometry'] }),
        p('enable_pbr', 'boolean', false)] },
    { id: 'pixal3d', name: 'Pixal3D', description: 'FAL', provider: 'fal', default: false,
      output_formats: ['glb'], price_usd: null, price_rules: [], forced: [],
      parameters: [p('seed', 'integer', null, { minimum: 0, maximum: 100 })] },
  ],
};

L.run('l_estimate', async ({ browser, base, shot, fix }) => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  await page.route('**/api/v1/models/available', (r) => r.fulfill({ contentType: 'application/json',
    body: JSON.stringify(MODELS) }));
  await page.goto(base + '/');
  await page.waitForSelector('#p-texture', { state: 'attached' });
  // The cards: price per photo and typical time from the rows.
  const card = (id) => page.textContent(`#cards label[for="m-${id}"]`);
  const tripo = await card('tripo3d-v2.5');
  for (const want of ['Tripo3D v2.5', 'Textured everyday objects', '$0.30 per photo', 'about 2 min per model']) {
    if (!tripo.includes(want)) throw new Error(`Tripo's card says "${tripo}", no "${want}"`);
  }
  if (!(await card('pixal3d')).includes('Price not known')) throw new Error(`Pixal3D card: "${await card('pixal3d')}"`);
  if (!(await card('local')).includes('Free, runs on this server')) throw new Error(`local card: "${await card('local')}"`);
  // No settings for people in these rows: every parameter is under Advanced.
  await L.openAdvanced(page);
  const seen = [];
  const expect = async (want, what) => {
    try {
      await page.waitForFunction((w) => document.querySelector('#go').textContent === w, want, { timeout: 5000 });
    } catch (e) {
      throw new Error(`${what}: button says "${await page.textContent('#go')}", want "${want}"`);
    }
    seen.push(want);
  };
  await expect('Make 3D models', 'no photos yet');
  await L.choose(page, [fix('chair.png'), fix('sneaker.jpg')], 2);
  await expect('Make 2 models · about $0.60', 'two photos, standard texture');
  await shot(page, '1-estimate');
  await page.selectOption('#p-texture', 'HD');
  await expect('Make 2 models · about $0.80', 'HD texture');
  await page.selectOption('#p-texture', 'no');
  await page.selectOption('#p-pbr', 'true');
  await expect('Make 2 models · about $0.40', 'no texture (PBR forced off)');
  await L.pickModel(page, 'hunyuan3d-v3');
  await page.selectOption('#p-enable_pbr', 'true');
  await expect('Make 2 models · about $1.05', 'Hunyuan v3 with PBR');
  await page.selectOption('#p-generate_type', 'Geometry');
  await expect('Make 2 models · about $0.75', 'Hunyuan v3 geometry only: PBR forced off');
  await L.pickModel(page, 'pixal3d');
  await expect('Make 2 models · price unknown', 'a model without a price');
  await shot(page, '2-unknown');
  await L.pickModel(page, 'local');
  await expect('Make 2 models · free, on this server', 'the offline model');
  await page.click('button[aria-label="Remove chair.png"]');
  await expect('Make 1 model · free, on this server', 'one photo left');
  return seen.join(' | ');
});
