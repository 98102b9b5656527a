// notify.js: "Notify me".  The browser's notification permission is asked
// only when the button is pressed; when the batch finishes while the tab
// is in the background (hidden, or its window not focused: the person is
// in another tab or program), one notification says so (clicking it
// brings the tab back).  Without the Notification API the button stays hidden.
export function setupNotify(button, note) {
  let wanted = false;
  if (!('Notification' in window)) return { finished() {} };
  button.hidden = false;
  const granted = () => {
    wanted = true;
    button.disabled = true;
    button.textContent = 'You will be notified';
    note.textContent = 'You will get a notification when the batch finishes while this tab is in the background.';
  };
  if (Notification.permission === 'denied') button.hidden = true;
  button.addEventListener('click', async () => {
    const p = await Notification.requestPermission();
    if (p === 'granted') granted();
    else note.textContent = 'Notifications are blocked for this site. The tab title shows the progress instead.';
  });
  return {
    // The batch finished: tell the person if they asked and are elsewhere.
    finished(title, body, tag) {
      const away = document.visibilityState === 'hidden' || !document.hasFocus();
      if (!wanted || !away || Notification.permission !== 'granted') return;
      const n = new Notification(title, { body, tag });
      n.addEventListener('click', () => { window.focus(); n.close(); });
    },
  };
}
