// dom.js: the pages' small DOM and wording helpers; no state.
export const $ = (id) => document.getElementById(id);

// el('a', {href: x}, 'text'): an element with attributes and text.
export function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// 1536 -> "2 KB", 1572864 -> "1.5 MB".
export function size(n) {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;
}

// 1 -> "1 model", 2 -> "2 models".
export const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
