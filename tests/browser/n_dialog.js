// n_dialog.js BASE_URL: a finished model opens large with the keyboard:
// Enter on "View large" opens a modal dialog (viewer with the model, the
// photo beside it, its size and formats), focus moves into it, Escape
// closes it and focus goes back to the button; the title carries the
// progress ("1/1 · image2model").
'use strict';
const L = require('./lib');

L.run('n_dialog', async ({ browser, base, shot, fix }) => {
  const page = await L.uploadPage(browser, base, { viewport: { width: 1280, height: 900 } });
  await L.choose(page, [fix('sneaker.jpg')], 1);
  await L.coarse(page);
  await L.submit(page);
  await L.waitTiles(page, 'completed', 1);
  await page.waitForSelector('#results:not([hidden]) button.open');
  await page.waitForFunction(() => document.title === '1/1 · image2model');
  await page.focus('#models button.open');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#viewer[open]');
  const inside = await page.evaluate(() => document.activeElement && document.activeElement.id);
  if (inside !== 'viewer-close') throw new Error(`focus is on "${inside}" after opening, not in the dialog`);
  const d = await page.evaluate(() => ({
    modal: document.querySelector('#viewer').matches(':modal'),
    title: document.querySelector('#viewer-title').textContent,
    src: document.querySelector('#viewer-mv').getAttribute('src'),
    photo: document.querySelector('#viewer-photo').naturalWidth > 0 || !document.querySelector('#viewer-photo').complete,
    facts: document.querySelector('#viewer-facts').textContent,
    formats: [...document.querySelectorAll('#viewer-formats a')].map((a) => a.textContent),
    labelled: document.querySelector('#viewer').getAttribute('aria-labelledby'),
  }));
  if (!d.modal || d.title !== 'sneaker.glb' || !/\/api\/v1\/download\//.test(d.src || '')) throw new Error(`dialog: ${JSON.stringify(d)}`);
  if (!d.photo || !d.facts.includes('Size') || d.formats.length < 1 || d.labelled !== 'viewer-title') {
    throw new Error(`dialog content: ${JSON.stringify(d)}`);
  }
  // Tab stays inside the modal dialog.
  for (let i = 0; i < 6; i++) await page.keyboard.press('Tab');
  const still = await page.evaluate(() => document.querySelector('#viewer').contains(document.activeElement));
  if (!still) throw new Error('Tab left the open dialog');
  await shot(page, '1-dialog');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#viewer:not([open])', { state: 'attached' });
  const back = await page.evaluate(() => document.activeElement && document.activeElement.classList.contains('open'));
  if (!back) throw new Error('focus did not go back to "View large" after Escape');
  return `dialog "${d.title}" opened with Enter, formats ${d.formats.join(', ')}, closed with Escape`;
});
