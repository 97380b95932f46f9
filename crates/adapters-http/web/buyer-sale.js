// One concert's sale for the buyer: the queue (position, ETA, the pre-queue
// countdown), then the seat map, holds with their countdowns, and one payment.

import { get, post, del } from './api.js';
import {
  $, el, fill, busy, countdown, formatTime, formatWait, formatWon, showError, showInfo,
} from './dom.js';
import { me, myReservations, offeredReservationIds, pay, refreshAccount, refreshReservations } from './buyer-account.js';

const DEFAULT_LIMIT = 4;
const SEAT_REFRESH_MS = 3000;

const sale = {
  concert: null,
  token: null,
  status: null,
  expiresAt: null,
  schedules: [],
  scheduleId: null,
  seats: [],
  buttons: new Map(),
  holds: new Map(),
  sold: new Set(),
  timer: null,
  generation: 0,
};

/** Stops every poll of the current sale (another concert, another user). */
export function leaveSale() {
  clearTimeout(sale.timer);
  Object.assign(sale, { concert: null, token: null, status: null, schedules: [], scheduleId: null, seats: [] });
  sale.buttons.clear();
  sale.holds.clear();
  sale.sold.clear();
  $('sale').hidden = true;
}

/** Joins (or rejoins: the server gives back a live token) a concert's queue. */
export async function joinQueue(concert) {
  if (sale.concert?.concertId !== concert.concertId) leaveSale();
  sale.concert = concert;
  $('sale').hidden = false;
  $('sale-title').textContent = concert.title;
  const token = await post(`/api/v1/concerts/${encodeURIComponent(concert.concertId)}/queue/tokens`);
  onToken(token);
  $('sale').scrollIntoView({ block: 'start' });
}

function schedulePoll(ms) {
  clearTimeout(sale.timer);
  sale.timer = setTimeout(() => pollToken().catch((err) => {
    showError(err);
    schedulePoll(2000);
  }), ms);
}

async function pollToken() {
  if (!sale.token) return;
  try {
    onToken(await get('/api/v1/queue/tokens/current', { headers: { 'X-Queue-Token': sale.token } }));
  } catch (err) {
    if (err.code === 'QUEUE_TOKEN_INVALID') {
      ended('Your queue pass is no longer valid. Join the queue again.');
      return;
    }
    throw err;
  }
}

function onToken(token) {
  sale.token = token.token;
  sale.status = token.status;
  sale.expiresAt = token.expiresAt;
  $('queue-status').textContent = token.status;
  $('queue-status').dataset.status = token.status;
  // The server says when to ask again; never faster than 4 times a second.
  const next = Math.max(250, Number.isFinite(token.pollAfterMs) ? token.pollAfterMs : 1000);
  const detail = $('queue-detail');
  switch (token.status) {
    case 'PREQUEUE':
      fill(detail, 'The sale opens in ', countdown(token.saleOpensAt, 'a moment'),
        ` (${formatTime(token.saleOpensAt)}). At the opening everyone in the pre-queue gets a place drawn at random: joining early gives no advantage.`);
      schedulePoll(next);
      break;
    case 'WAITING':
      fill(detail, el('span', { id: 'queue-position', text: `Number ${token.position} in line` }),
        ` · wait ${formatWait(token.estimatedWaitSeconds)}. This page follows the line for you.`);
      schedulePoll(next);
      break;
    case 'ACTIVE':
      fill(detail, "You're in. Your pass ends in ", countdown(token.expiresAt, 'now'), '.');
      enterSeats().catch(showError);
      break;
    default:
      ended('Your queue pass has ended. Join the queue again to buy more.');
  }
}

function ended(text) {
  clearTimeout(sale.timer);
  sale.status = 'EXPIRED';
  $('queue-status').textContent = 'EXPIRED';
  $('queue-status').dataset.status = 'EXPIRED';
  fill($('queue-detail'), text, ' ', el('button', {
    type: 'button', class: 'secondary', text: 'Join again',
    on: { click: (e) => busy(e.currentTarget, () => joinQueue(sale.concert)) },
  }));
  renderSeats();
}

async function enterSeats() {
  $('seat-panel').hidden = false;
  if (sale.schedules.length === 0) {
    const body = await get(`/api/v1/concerts/${encodeURIComponent(sale.concert.concertId)}/schedules`);
    sale.schedules = body.schedules ?? [];
    fill($('schedule-tabs'), sale.schedules.map((s) => el('button', {
      type: 'button', class: 'tab', 'data-schedule': s.scheduleId,
      text: `${formatTime(s.startsAt)} · ${formatWon(s.price)}`,
      on: { click: (e) => busy(e.currentTarget, () => chooseSchedule(s.scheduleId)) },
    })));
    if (sale.schedules.length === 0) {
      fill($('seat-grid'), el('p', { text: 'No upcoming performance of this concert.' }));
      return;
    }
  }
  await adoptExistingHolds();
  await chooseSchedule(sale.scheduleId ?? sale.schedules[0].scheduleId);
}

// Holds made earlier (another visit of this page) are still the buyer's.
async function adoptExistingHolds() {
  await refreshReservations().catch(() => {});
  const ours = new Set(sale.schedules.map((s) => s.scheduleId));
  const offers = offeredReservationIds();
  for (const r of myReservations()) {
    if (r.status === 'HELD' && ours.has(r.scheduleId) && !offers.has(r.reservationId)) {
      sale.holds.set(r.reservationId, r);
    }
  }
}

async function chooseSchedule(scheduleId) {
  if (sale.scheduleId !== scheduleId) {
    sale.scheduleId = scheduleId;
    sale.buttons.clear();
    fill($('seat-grid'));
  }
  for (const tab of $('schedule-tabs').children) {
    tab.setAttribute('aria-pressed', String(Number(tab.dataset.schedule) === scheduleId));
  }
  await loadSeats();
}

async function loadSeats() {
  clearTimeout(sale.timer);
  if (sale.status !== 'ACTIVE') return;
  // Only the latest load schedules the next one, so refreshes never pile up.
  const generation = ++sale.generation;
  try {
    const body = await get(
      `/api/v1/concerts/${encodeURIComponent(sale.concert.concertId)}/schedules/${encodeURIComponent(sale.scheduleId)}/seats`,
      { headers: { 'X-Queue-Token': sale.token } },
    );
    sale.seats = body.seats ?? [];
  } catch (err) {
    if (String(err.code).startsWith('QUEUE_TOKEN')) {
      await pollToken().catch(showError);
      return;
    }
    throw err;
  }
  if (generation !== sale.generation) return;
  renderSeats();
  sale.timer = setTimeout(() => loadSeats().catch(showError), SEAT_REFRESH_MS);
}

function limit() {
  return sale.concert?.maxTicketsPerUser ?? DEFAULT_LIMIT;
}

function confirmedHere() {
  const ours = new Set(sale.schedules.map((s) => s.scheduleId));
  return myReservations().filter((r) => r.status === 'CONFIRMED' && ours.has(r.scheduleId)).length;
}

function seatStatus(seat) {
  if (sale.sold.has(seat.seatId)) return 'SOLD';
  for (const hold of sale.holds.values()) if (hold.seatId === seat.seatId) return 'MINE';
  return seat.status;
}

const WORDS = { AVAILABLE: 'free', MINE: 'held by you', HELD: 'held', SOLD: 'sold' };

function renderSeats() {
  const now = Date.now();
  for (const [id, hold] of sale.holds) if (Date.parse(hold.expiresAt) <= now) sale.holds.delete(id);
  const open = sale.status === 'ACTIVE';
  const grid = $('seat-grid');
  for (const seat of sale.seats) {
    let button = sale.buttons.get(seat.seatId);
    if (!button) {
      button = el('button', { type: 'button', class: 'seat', 'data-seat': seat.seatNumber, text: seat.seatNumber });
      button.addEventListener('click', () => busy(null, () => toggle(seat.seatId)));
      sale.buttons.set(seat.seatId, button);
      grid.append(button);
    }
    const status = seatStatus(seat);
    button.dataset.status = status;
    button.className = `seat ${status.toLowerCase()}`;
    button.setAttribute('aria-label', `Seat ${seat.seatNumber}, ${formatWon(seat.price)}, ${WORDS[status] ?? status}`);
    button.setAttribute('aria-pressed', String(status === 'MINE'));
    button.disabled = !open || (status !== 'AVAILABLE' && status !== 'MINE');
  }
  const left = limit() - confirmedHere() - sale.holds.size;
  $('limit-note').textContent = `Up to ${limit()} tickets per person: ${Math.max(0, left)} more for you.`;
  renderHolds(open);
}

function renderHolds(open) {
  const holds = [...sale.holds.values()];
  fill($('hold-list'), holds.length ? holds.map((h) => el('li', { class: 'item', 'data-hold': h.seatNumber },
    el('span', { text: `Seat ${h.seatNumber} · ${formatWon(h.price)}` }),
    el('span', {}, 'held for ', countdown(h.expiresAt, 'expired')),
    el('button', {
      type: 'button', class: 'secondary', text: 'Release', disabled: !open,
      on: { click: (e) => busy(e.currentTarget, () => release(h)) },
    }))) : [el('li', { class: 'empty', text: 'Click free seats on the map to hold them.' })]);
  const total = holds.reduce((sum, h) => sum + h.price, 0);
  const button = $('pay-holds');
  button.hidden = holds.length === 0;
  button.disabled = !open;
  button.textContent = `Pay ${formatWon(total)} for ${holds.length} seat${holds.length === 1 ? '' : 's'}`;
}

async function toggle(seatId) {
  const mine = [...sale.holds.values()].find((h) => h.seatId === seatId);
  if (mine) {
    await release(mine);
    return;
  }
  if (confirmedHere() + sale.holds.size >= limit()) {
    throw new Error(`You can have at most ${limit()} tickets for this concert.`);
  }
  const hold = await post('/api/v1/reservations', { scheduleId: sale.scheduleId, seatId }, {
    headers: { 'X-Queue-Token': sale.token },
  });
  sale.holds.set(hold.reservationId, hold);
  renderSeats();
  refreshReservations().catch(showError);
  await loadSeats();
}

async function release(hold) {
  await del(`/api/v1/reservations/${encodeURIComponent(hold.reservationId)}`);
  sale.holds.delete(hold.reservationId);
  renderSeats();
  refreshReservations().catch(showError);
  await loadSeats();
}

async function payHolds() {
  const holds = [...sale.holds.values()];
  if (holds.length === 0) return;
  const body = await pay(holds.map((h) => h.reservationId), sale.token);
  for (const h of holds) sale.sold.add(h.seatId);
  sale.holds.clear();
  showInfo(`Paid ${formatWon(body.amount)} for ${holds.length} seat${holds.length === 1 ? '' : 's'}. Enjoy the show!`);
  // The payment ended the queue pass: the map stays as it was, with these seats sold.
  ended('Paid: the seats are yours. Your queue pass ended with the payment; join again to buy more.');
  await refreshAccount().finally(renderSeats);
}

$('pay-holds').addEventListener('click', (e) => busy(e.currentTarget, payHolds));
