// The signed-in buyer: who they are (ids only; the access token stays in its
// HttpOnly cookie), balance and charging, reservations, payments and refunds,
// and waiting-list entries with their offers.

import { get, post, del } from './api.js';
import {
  $, el, fill, busy, countdown, formatTime, formatWon, idempotencyKey, showError, showInfo,
} from './dom.js';

/** Who is signed in on this tab: ids only, kept for the tab's life. */
export const me = { userId: null, loginId: null };

export function loadSession() {
  try {
    Object.assign(me, JSON.parse(sessionStorage.getItem('me') ?? '{}'));
  } catch {
    me.userId = null;
  }
  return me.userId !== null && me.userId !== undefined;
}

export function saveSession(userId, loginId) {
  me.userId = userId;
  me.loginId = loginId;
  sessionStorage.setItem('me', JSON.stringify(me));
}

export function setBalance(balance) {
  $('balance').textContent = formatWon(balance);
}

const points = () => `/api/v1/users/${encodeURIComponent(me.userId)}/points`;

export async function refreshBalance() {
  const body = await get(points());
  setBalance(body.balance);
}

// Payments made from this tab: the list of a user's payments is not in the
// API, so their ids are remembered here (they are not secrets).
const paymentsKey = () => `payments:${me.userId}`;

function knownPayments() {
  try {
    const list = JSON.parse(sessionStorage.getItem(paymentsKey()) ?? '[]');
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

/** Remembers a payment (from its 201 body) so that it can be refunded later. */
export function rememberPayment(payment) {
  const ids = payment.reservationIds ?? (payment.reservationId ? [payment.reservationId] : []);
  const entry = { ...payment, reservationIds: ids, status: payment.status ?? 'PAID' };
  const list = knownPayments().filter((p) => p.paymentId !== entry.paymentId);
  list.unshift(entry);
  sessionStorage.setItem(paymentsKey(), JSON.stringify(list.slice(0, 50)));
}

let reservations = [];
let waitlist = [];

/** Reservation ids that are waiting-list offers (paid without a queue token). */
export function offeredReservationIds() {
  return new Set(waitlist.filter((e) => e.status === 'OFFERED').map((e) => e.reservationId));
}

export function myReservations() {
  return reservations;
}

/** Refreshes every part of the account; a part that fails says so and the rest still shows. */
export async function refreshAccount() {
  const parts = await Promise.allSettled([refreshBalance(), refreshReservations(), refreshWaitlist()]);
  await renderPayments();
  const failed = parts.find((p) => p.status === 'rejected');
  if (failed) throw failed.reason;
}

export async function refreshReservations() {
  const body = await get('/api/v1/reservations?limit=100');
  reservations = body.reservations ?? [];
  renderReservations();
}

function renderReservations() {
  const items = reservations.map((r) => {
    const held = r.status === 'HELD';
    return el('li', { class: 'item', 'data-reservation': r.reservationId, 'data-status': r.status },
      el('span', { text: `Seat ${r.seatNumber} · performance #${r.scheduleId} · ${formatWon(r.price)}` }),
      el('span', { class: `badge ${r.status.toLowerCase()}`, text: r.status }),
      held ? el('span', {}, 'expires in ', countdown(r.expiresAt, 'expired')) : null,
      held ? el('button', {
        type: 'button', class: 'secondary', text: 'Cancel',
        on: { click: (e) => busy(e.currentTarget, () => cancel(r.reservationId)) },
      }) : null);
  });
  fill($('reservation-list'), items.length ? items : [el('li', { class: 'empty', text: 'No reservations yet.' })]);
}

async function cancel(reservationId) {
  await del(`/api/v1/reservations/${encodeURIComponent(reservationId)}`);
  showInfo('Reservation cancelled; the seat is free again.');
  await refreshAccount();
}

async function renderPayments() {
  const list = knownPayments();
  // A payment's status may have changed elsewhere: ask for it (best effort).
  await Promise.allSettled(list.map(async (p) => {
    const fresh = await get(`/api/v1/payments/${encodeURIComponent(p.paymentId)}`);
    Object.assign(p, fresh);
  }));
  sessionStorage.setItem(paymentsKey(), JSON.stringify(list));
  const items = list.map((p) => el('li', { class: 'item', 'data-payment': p.paymentId, 'data-status': p.status },
    el('span', { text: `Payment #${p.paymentId} · ${formatWon(p.amount)} · ${p.reservationIds.length} seat(s) · ${formatTime(p.paidAt)}` }),
    el('span', { class: `badge ${String(p.status).toLowerCase()}`, text: p.status }),
    p.status === 'PAID' ? el('button', {
      type: 'button', class: 'secondary', text: 'Refund',
      on: { click: (e) => busy(e.currentTarget, () => refund(p.paymentId)) },
    }) : null));
  fill($('payment-list'), items.length ? items : [el('li', { class: 'empty', text: 'No payments from this tab yet.' })]);
}

async function refund(paymentId) {
  const body = await post(`/api/v1/payments/${encodeURIComponent(paymentId)}/refund`, undefined, {
    headers: { 'Idempotency-Key': idempotencyKey() },
  });
  if (typeof body.balance === 'number') setBalance(body.balance);
  rememberPayment(body);
  showInfo(`Refunded ${formatWon(body.amount)}.`);
  await refreshAccount();
}

export async function charge(amount) {
  const body = await post(`${points()}/charge`, { amount }, {
    headers: { 'Idempotency-Key': idempotencyKey() },
  });
  setBalance(body.balance);
  showInfo(`Charged ${formatWon(amount)}.`);
}

/** Pays with one payment; returns the 201 body. No queue token for an offer. */
export async function pay(reservationIds, queueToken) {
  const headers = { 'Idempotency-Key': idempotencyKey() };
  if (queueToken) headers['X-Queue-Token'] = queueToken;
  const body = await post('/api/v1/payments', { reservationIds }, { headers });
  setBalance(body.balance);
  rememberPayment(body);
  return body;
}

let waitlistTimer = null;

export async function refreshWaitlist() {
  clearTimeout(waitlistTimer);
  const before = new Map(waitlist.map((e) => [e.entryId, e.status]));
  const body = await get('/api/v1/waitlist?limit=50');
  waitlist = body.entries ?? [];
  const offers = waitlist.filter((e) => e.status === 'OFFERED' && before.get(e.entryId) === 'WAITING');
  if (offers.length > 0) {
    showInfo(`A seat of performance #${offers[0].scheduleId} is offered to you: pay before the offer ends.`);
    // The offer is a hold made for this buyer: show its seat and price.
    await refreshReservations().catch(() => {});
  }
  renderWaitlist();
  // An offer can arrive at any time while an entry waits.
  if (waitlist.some((e) => e.status === 'WAITING' || e.status === 'OFFERED')) {
    waitlistTimer = setTimeout(() => refreshWaitlist().catch(showError), 3000);
  }
}

function renderWaitlist() {
  const items = waitlist.map((entry) => {
    const offered = entry.status === 'OFFERED';
    const reservation = reservations.find((r) => r.reservationId === entry.reservationId);
    return el('li', { class: 'item', 'data-entry': entry.entryId, 'data-status': entry.status },
      el('span', { text: `Performance #${entry.scheduleId}` }),
      el('span', { class: `badge ${entry.status.toLowerCase()}`, text: entry.status }),
      entry.status === 'WAITING' ? el('span', { text: `number ${entry.position} in line` }) : null,
      offered ? el('span', {},
        reservation ? `Seat ${reservation.seatNumber}, ${formatWon(reservation.price)} · ` : '',
        'offer ends in ', countdown(entry.offerExpiresAt, 'ended')) : null,
      offered ? el('button', {
        type: 'button', text: 'Pay for this seat',
        on: { click: (e) => busy(e.currentTarget, () => payOffer(entry)) },
      }) : null,
      entry.status === 'WAITING' ? el('button', {
        type: 'button', class: 'secondary', text: 'Leave',
        on: { click: (e) => busy(e.currentTarget, () => leave(entry.entryId)) },
      }) : null);
  });
  fill($('waitlist-list'), items.length ? items : [el('li', { class: 'empty', text: 'You are on no waiting list.' })]);
}

async function payOffer(entry) {
  const body = await pay([entry.reservationId], null);
  showInfo(`Paid ${formatWon(body.amount)}: the seat is yours.`);
  await refreshAccount();
}

async function leave(entryId) {
  await del(`/api/v1/waitlist/${encodeURIComponent(entryId)}`);
  showInfo('You left the waiting list.');
  await refreshWaitlist();
}

export async function joinWaitlist(concertId, scheduleId) {
  const entry = await post(`/api/v1/concerts/${encodeURIComponent(concertId)}/schedules/${encodeURIComponent(scheduleId)}/waitlist`);
  showInfo(entry.status === 'WAITING'
    ? `You are number ${entry.position} on the waiting list.`
    : `Your waiting-list entry is ${entry.status}.`);
  await refreshWaitlist();
}
