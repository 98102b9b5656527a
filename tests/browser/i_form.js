// i_form.js BASE_URL: the upload page with JavaScript: files dropped on
// the drop zone are listed with thumbnails, one can be removed, "Clear
// all" empties the list, face_limit-free models show their parameters
// with defaults, and a server error's `message` is shown (the upload
// answer is replaced by a 507 here) with the progress UI gone.
'use strict';
const fs = require('fs');
const L = require('./lib');

L.run('i_form', async ({ browser, base, shot, fix }) => {
  const page = await L.uploadPage(browser, base);
  // Parameters of the chosen model as labelled controls with defaults.
  // The row's settings for people first (resolution as "Detail"), the
  // rest under "Advanced", collapsed, with their API names.
  const res = await page.inputValue('#p-resolution');
  const lab = await page.textContent('label[for=p-resolution]');
  if (res !== '160' || lab !== 'Detail') throw new Error(`resolution control: "${lab}" = "${res}"`);
  const shape = await page.$$eval('#p-mode option', (os) => os.map((o) => o.textContent));
  if (!shape.includes('Automatic')) throw new Error(`shape choices: ${shape}`);
  if (await page.$eval('#advanced', (d) => d.open)) throw new Error('"Advanced" is open at first');
  if (await page.isVisible('#p-thickness')) throw new Error('an advanced setting is visible with "Advanced" collapsed');
  await L.openAdvanced(page);
  const adv = await page.textContent('label[for=p-thickness]');
  if (!adv.includes('thickness')) throw new Error(`advanced label has no API name: "${adv}"`);
  await page.fill('#p-thickness', '0.3');
  // Drop two photos on the drop zone.
  const files = ['chair.png', 'sneaker.jpg'].map((n) => ({ n, b: fs.readFileSync(fix(n)).toString('base64') }));
  const dt = await page.evaluateHandle((fs2) => {
    const d = new DataTransfer();
    for (const { n, b } of fs2) {
      const bytes = Uint8Array.from(atob(b), (c) => c.charCodeAt(0));
      d.items.add(new File([bytes], n, { type: n.endsWith('.png') ? 'image/png' : 'image/jpeg' }));
    }
    return d;
  }, files);
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
  await page.waitForFunction(() => document.querySelectorAll('#picked li').length === 2);
  const count = await page.textContent('#count');
  if (!/^2 photos, \d+ KB in all$/.test(count)) throw new Error(`count and total size: "${count}"`);
  await shot(page, '1-dropped');
  // Reorder with the keyboard's buttons: the sneaker goes first, focus stays on it.
  await page.click('button[aria-label="Move sneaker.jpg earlier"]');
  await page.waitForFunction(() => [...document.querySelectorAll('#picked .name')].map((n) => n.textContent).join() === 'sneaker.jpg,chair.png');
  const focused = await page.evaluate(() => document.activeElement.getAttribute('aria-label'));
  if (!/sneaker\.jpg/.test(focused || '')) throw new Error(`focus after moving: "${focused}"`);
  await page.click('button[aria-label="Remove chair.png"]');
  await page.waitForFunction(() => document.querySelectorAll('#picked li').length === 1);
  const left = await page.textContent('#picked');
  if (!left.includes('sneaker.jpg') || left.includes('chair.png')) throw new Error(`after remove: "${left}"`);
  await page.click('#clear');
  await page.waitForFunction(() => document.querySelectorAll('#picked li').length === 0);
  if (await page.isVisible('#clear')) throw new Error('"Clear all" still shown with nothing chosen');
  // Add again, and let the server refuse: its message is shown.
  await L.choose(page, [fix('chair.png')], 1);
  let sent1 = '';
  await page.route('**/api/v1/upload/', (r) => (sent1 = r.request().postDataBuffer().toString('latin1')) && r.fulfill({ status: 507, contentType: 'application/json',
    body: JSON.stringify({ error: true, error_code: 'INSUFFICIENT_STORAGE', status_code: 507,
      message: 'The server is out of disk space; try again later.' }) }));
  await page.click('#go');
  await page.waitForFunction(() => document.querySelector('#server-error').textContent !== '');
  const err = await page.textContent('#server-error');
  if (err !== 'The server is out of disk space; try again later.') throw new Error(`server error shown as "${err}"`);
  // The advanced value and the settings were sent with the model.
  for (const want of ['name="thickness"\r\n\r\n0.3\r\n', 'name="resolution"\r\n\r\n160\r\n', 'name="model"\r\n\r\nlocal\r\n']) {
    if (!sent1.includes(want)) throw new Error(`the upload did not send ${JSON.stringify(want)}`);
  }
  if (await page.isVisible('#sending')) throw new Error('upload progress still shown after the error');
  if (await page.isDisabled('#go')) throw new Error('submit button stays disabled after the error');
  await shot(page, '2-server-error');
  // An upload that hangs: the progress bar shows, Abort stops it.
  await page.unroute('**/api/v1/upload/');
  await page.route('**/api/v1/upload/', () => { /* never answered */ });
  await page.click('#go');
  await page.waitForSelector('#sending:not([hidden]) #sendbar');
  await shot(page, '3-sending');
  await page.click('#abort');
  await page.waitForFunction(() => document.querySelector('#server-error').textContent.startsWith('The upload was stopped.'));
  if (await page.isVisible('#sending')) throw new Error('upload progress still shown after Abort');
  if (new URL(page.url()).pathname !== '/') throw new Error(`left the page after Abort: ${page.url()}`);
  // A model with face_limit (as FAL's are): presets Low/Medium/High/Auto,
  // and the chosen one is sent.
  const p2 = await browser.newPage();
  await p2.route('**/api/v1/models/available', (r) => r.fulfill({ contentType: 'application/json',
    body: JSON.stringify({ default: 'tripo3d-v2.5', models: [{ id: 'tripo3d-v2.5', name: 'Tripo3D v2.5',
      description: 'FAL', provider: 'fal', output_formats: ['glb'], default: true,
      parameters: [{ name: 'face_limit', type: 'integer', default: null, description: 'Target faces', minimum: 1 },
        { name: 'texture', type: 'boolean', default: true, description: 'Texture' }] }] }) }));
  let body = null;
  await p2.route('**/api/v1/upload/', (r) => { body = r.request().postDataBuffer().toString('latin1'); r.abort(); });
  await p2.goto(base + '/');
  await p2.waitForSelector('#p-face_limit', { state: 'attached' });
  if (await p2.isVisible('#p-face_limit')) throw new Error('face_limit (no setting for people) is not under a collapsed "Advanced"');
  await L.openAdvanced(p2);
  const presets = await p2.$$eval('#p-face_limit option', (os) => os.map((o) => `${o.textContent}=${o.value}`));
  for (const want of ['Low (5,000)=5000', 'Medium (10,000)=10000', 'High (20,000)=20000', 'Automatic=']) {
    if (!presets.includes(want)) throw new Error(`face_limit presets: ${presets}`);
  }
  await p2.selectOption('#p-face_limit', '10000');
  await L.choose(p2, [fix('chair.png')], 1);
  await shot(p2, '4-face-limit');
  await p2.click('#go');
  await p2.waitForFunction(() => document.querySelector('#server-error').textContent !== '');
  if (!body || !/name="face_limit"\r\n\r\n10000\r\n/.test(body) || !/name="model"\r\n\r\ntripo3d-v2.5\r\n/.test(body)) {
    throw new Error('face_limit=10000 and model were not sent');
  }
  return `dropped 2, removed 1, cleared, server message "${err}", abort works, face_limit presets ${presets.length}`;
});
