// p_notify.js BASE_URL (daemon stopped by browser.bats until startDaemon()):
// "Notify me" asks for the notification permission only when pressed
// (granted to the page's origin here); the tab title carries the progress
// (0/1, then 1/1 · image2model); when the batch finishes while the tab is
// in the background (another tab in front), one notification fires.
// Headless Chromium reports every tab as visible, so the background is
// the other tab having the focus (Playwright's focus emulation is turned
// off for this tab); the page treats hidden or unfocused alike.
// Notifications are counted by a wrapper around the page's Notification
// constructor, which still creates the real one.
'use strict';
const L = require('./lib');

L.run('p_notify', async ({ browser, base, shot, fix }) => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.grantPermissions(['notifications'], { origin: base });
  await ctx.addInitScript(() => {
    const Real = window.Notification;
    if (!Real) return;
    window.__asked = 0;
    window.__notes = [];
    class Counted extends Real {
      constructor(title, opts) { super(title, opts); window.__notes.push({ title, body: opts && opts.body }); }
      static requestPermission() { window.__asked++; return Real.requestPermission(); }
      static get permission() { return Real.permission; }
    }
    window.Notification = Counted;
  });
  const page = await ctx.newPage();
  await page.goto(base + '/');
  await L.modelsLoaded(page);
  await L.choose(page, [fix('chair.png')], 1);
  await L.coarse(page);
  await L.submit(page);
  await L.waitTiles(page, 'queued', 1, 15000);
  const want = async (what, fn, arg) => {
    try { await page.waitForFunction(fn, arg, { timeout: 15000 }); } catch (e) { throw new Error(`${what} (title "${await page.title()}")`); }
  };
  await want('no 0/1 in the title', () => document.title === '0/1 · image2model');
  if (await page.evaluate(() => window.__asked) !== 0) throw new Error('the page asked for permission before "Notify me" was pressed');
  await page.click('#notify');
  await want('"Notify me" did not turn on', () => document.querySelector('#notify').textContent === 'You will be notified');
  if (await page.evaluate(() => window.__asked) !== 1) throw new Error('"Notify me" did not ask for the permission');
  await shot(page, '1-notify-on');
  // Another tab in front: this one is in the background.
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
  const other = await ctx.newPage();
  await other.goto(base + '/');
  await other.bringToFront();
  await want('the tab did not go to the background', () => document.visibilityState === 'hidden' || !document.hasFocus());
  L.startDaemon();
  await L.waitTiles(page, 'completed', 1);
  await want('no 1/1 in the title', () => document.title === '1/1 · image2model');
  await want('no notification', () => window.__notes.length === 1);
  const n = await page.evaluate(() => window.__notes[0]);
  if (!/ready/.test(n.title)) throw new Error(`notification: ${JSON.stringify(n)}`);
  await ctx.close();
  return `title 0/1 then 1/1, notification "${n.title}: ${n.body}"`;
});
