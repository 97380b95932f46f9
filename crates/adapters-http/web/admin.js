// The organiser page: the admin key (this tab's session storage only), new
// concerts with their opening time, and a live sale's figures and controls.

import { get, patch, post } from './api.js';
import {
  $, el, fill, busy, clearError, formatTime, formatWon, showError, showInfo,
} from './dom.js';

const SALES_REFRESH_MS = 2000;
const KEY = 'adminKey';

let watching = null;
let timer = null;
let paused = null;

const adminKey = () => sessionStorage.getItem(KEY);
const adminHeaders = () => ({ 'X-Admin-Key': adminKey() ?? '' });

function keySet(yes) {
  $('key').hidden = yes;
  $('key-state').hidden = !yes;
  $('create').hidden = !yes;
  $('concerts').hidden = !yes;
  if (!yes) stopWatching();
}

/** "YYYY-MM-DDTHH:MM" in local time, as a datetime-local input shows it. */
function localInputValue(date) {
  return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

function isoFromInput(value, what) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`${what}: enter a date and time.`);
  return date.toISOString();
}

function scheduleRow() {
  const inAWeek = new Date(Date.now() + 7 * 86400000);
  inAWeek.setHours(20, 0, 0, 0);
  const row = el('div', { class: 'row schedule-row' },
    el('label', {}, 'Starts', el('input', { type: 'datetime-local', class: 'starts-at', required: true, value: localInputValue(inAWeek) })),
    el('label', {}, 'Seats', el('input', { type: 'number', class: 'seat-count', min: 1, max: 2000, step: 1, required: true, value: 50 })),
    el('label', {}, 'Price (won)', el('input', { type: 'number', class: 'price', min: 1, max: 10000000, step: 1, required: true, value: 50000 })),
    el('button', {
      type: 'button', class: 'secondary', text: 'Remove',
      on: { click: () => { if ($('schedule-rows').children.length > 1) row.remove(); } },
    }));
  return row;
}

async function createConcert() {
  const body = {
    title: $('title').value.trim(),
    venue: $('venue').value.trim(),
    schedules: [...$('schedule-rows').children].map((row, i) => ({
      startsAt: isoFromInput(row.querySelector('.starts-at').value, `Performance ${i + 1}`),
      seatCount: Number(row.querySelector('.seat-count').value),
      price: Number(row.querySelector('.price').value),
    })),
  };
  if ($('sale-opens').value) body.saleOpensAt = isoFromInput($('sale-opens').value, 'Sale opens');
  if ($('max-tickets').value) body.maxTicketsPerUser = Number($('max-tickets').value);
  const created = await post('/api/v1/admin/concerts', body, { headers: adminHeaders() });
  showInfo(`Created concert #${created.concertId}, ${created.title}.`);
  $('create-form').reset();
  fill($('schedule-rows'), scheduleRow());
  await loadConcerts();
  watch(created.concertId, created.title);
}

async function loadConcerts() {
  const concerts = [];
  let cursor = null;
  // Every page, up to a sane bound: an organiser's catalogue is short.
  for (let page = 0; page < 20; page += 1) {
    const query = cursor ? `?limit=500&after=${encodeURIComponent(cursor)}` : '?limit=500';
    const body = await get(`/api/v1/concerts${query}`);
    concerts.push(...(body.concerts ?? []));
    cursor = body.nextCursor ?? null;
    if (!cursor) break;
  }
  fill($('concert-list'), concerts.length ? concerts.map((c) => el('li', { class: 'item', 'data-concert': c.concertId },
    el('span', { text: `#${c.concertId} ${c.title} · ${c.venue}` }),
    el('span', { text: c.saleOpensAt ? `sale opens ${formatTime(c.saleOpensAt)}` : '' }),
    el('button', {
      type: 'button', class: 'watch', text: 'Sales',
      on: { click: () => watch(c.concertId, c.title) },
    }))) : [el('li', { class: 'empty', text: 'No concerts yet.' })]);
}

function stopWatching() {
  clearTimeout(timer);
  watching = null;
  paused = null;
  $('sales').hidden = true;
}

function watch(concertId, title) {
  stopWatching();
  watching = concertId;
  $('sales').hidden = false;
  $('sales').dataset.concert = concertId;
  $('sales-title').textContent = `Sales · #${concertId} ${title}`;
  $('max-active').value = '';
  refreshSales();
  $('sales').scrollIntoView({ block: 'start' });
}

async function refreshSales() {
  clearTimeout(timer);
  const concertId = watching;
  if (concertId === null) return;
  try {
    const sales = await get(`/api/v1/admin/concerts/${encodeURIComponent(concertId)}/sales`, { headers: adminHeaders() });
    if (concertId !== watching) return;
    renderSales(sales);
  } catch (err) {
    showError(err);
  }
  if (concertId === watching) timer = setTimeout(refreshSales, SALES_REFRESH_MS);
}

function renderQueue(queue) {
  paused = Boolean(queue.paused);
  $('queue-paused').textContent = paused ? 'PAUSED' : 'RUNNING';
  $('queue-paused').dataset.paused = String(paused);
  $('queue-prequeued').textContent = queue.prequeued;
  $('queue-waiting').textContent = queue.waiting;
  $('queue-active').textContent = queue.active;
  $('queue-max-active').textContent = queue.maxActive;
  $('toggle-pause').textContent = paused ? 'Resume the queue' : 'Pause the queue';
  // Never overwrite what the organiser is typing.
  if (document.activeElement !== $('max-active') && !$('max-active').value) $('max-active').value = queue.maxActive;
}

function renderSales(sales) {
  $('sales-opens').textContent = formatTime(sales.saleOpensAt);
  $('sales-revenue').textContent = formatWon(sales.revenue);
  renderQueue(sales.queue);
  fill($('sales-rows'), (sales.schedules ?? []).map((s) => el('tr', { 'data-schedule': s.scheduleId },
    el('th', { scope: 'row', text: `#${s.scheduleId}` }),
    el('td', { text: s.totalSeats }),
    el('td', { class: 'available', text: s.available }),
    el('td', { class: 'held', text: s.held }),
    el('td', { class: 'sold', text: s.sold }),
    el('td', { text: formatWon(s.revenue) }))));
  $('sales-updated').textContent = new Date().toLocaleTimeString();
}

async function controlQueue(change) {
  if (watching === null) return;
  const queue = await patch(`/api/v1/admin/concerts/${encodeURIComponent(watching)}/queue`, change, { headers: adminHeaders() });
  renderQueue(queue);
  showInfo(change.paused === undefined
    ? `At most ${queue.maxActive} buyers at once from now on.`
    : `Queue ${queue.paused ? 'paused: nobody is admitted until you resume' : 'resumed'}.`);
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $('admin-key').value);
  $('admin-key').value = '';
  keySet(true);
  busy(null, loadConcerts);
});

$('forget-key').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  keySet(false);
  $('admin-key').focus();
});

$('add-schedule').addEventListener('click', () => {
  if ($('schedule-rows').children.length < 50) $('schedule-rows').append(scheduleRow());
});

$('create-form').addEventListener('submit', (event) => {
  event.preventDefault();
  busy(event.submitter, createConcert);
});

$('reload-concerts').addEventListener('click', (e) => busy(e.currentTarget, loadConcerts));

$('toggle-pause').addEventListener('click', (e) => busy(e.currentTarget, () => controlQueue({ paused: !paused })));

$('max-active-form').addEventListener('submit', (event) => {
  event.preventDefault();
  busy(event.submitter, () => controlQueue({ maxActive: Number($('max-active').value) }));
});

clearError();
fill($('schedule-rows'), scheduleRow());
keySet(Boolean(adminKey()));
if (adminKey()) busy(null, loadConcerts);
