// DOM helpers. Server data only ever goes in as text (textContent, attributes),
// never parsed as HTML.

/** Creates an element: `props` are attributes (`class`, `data-*`, …) plus
 *  `text`, `hidden`, `disabled` and `on` (event handlers); children are nodes or strings. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'on') for (const [event, fn] of Object.entries(value)) node.addEventListener(event, fn);
    else if (key === 'hidden' || key === 'disabled') node[key] = true;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
  return node;
}

export const $ = (id) => document.getElementById(id);

/** Replaces a node's children. */
export function fill(node, ...children) {
  node.replaceChildren();
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

const notice = () => $('notice');
const info = () => $('info');
let infoTimer;

/** Shows an error in words: a problem's `detail`, or what went wrong locally. */
export function showError(err) {
  const text = err && err.message ? err.message : String(err);
  notice().textContent = text;
  notice().hidden = false;
}

export function clearError() {
  notice().hidden = true;
  notice().textContent = '';
}

/** A short confirmation that fades after a few seconds. */
export function showInfo(text) {
  info().textContent = text;
  info().hidden = false;
  clearTimeout(infoTimer);
  infoTimer = setTimeout(() => { info().hidden = true; }, 6000);
}

const won = new Intl.NumberFormat('ko-KR');
export const formatWon = (n) => `₩${won.format(n)}`;

export function formatTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** "1:05:09", "4:07" or "0:03" for a number of seconds. */
export function formatSeconds(total) {
  const s = Math.max(0, Math.floor(total));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function formatWait(seconds) {
  if (seconds === null || seconds === undefined) return 'not known yet';
  if (seconds < 60) return 'under a minute';
  return `about ${Math.round(seconds / 60)} min`;
}

/** A live countdown to `iso`: one ticker below refreshes every such span. */
export function countdown(iso, doneText = 'now') {
  const span = el('span', { class: 'countdown', 'data-deadline': iso, 'data-done': doneText });
  tick(span, Date.now());
  return span;
}

function tick(span, now) {
  const left = (Date.parse(span.dataset.deadline) - now) / 1000;
  span.textContent = left > 0 ? formatSeconds(left) : span.dataset.done;
}

setInterval(() => {
  const now = Date.now();
  for (const span of document.querySelectorAll('[data-deadline]')) tick(span, now);
}, 1000);

/** A key for the money endpoints, so that a retried click is not a second payment. */
export function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Runs `fn` with the button disabled, showing any error it throws. */
export async function busy(button, fn) {
  if (button) button.disabled = true;
  clearError();
  try {
    return await fn();
  } catch (err) {
    showError(err);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}
