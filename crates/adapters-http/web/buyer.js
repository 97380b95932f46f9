// The buyer page: signing in, the concert list, and wiring the sale and the
// account together.

import { get, post } from './api.js';
import {
  $, el, fill, busy, clearError, countdown, formatTime, formatWon, showError, showInfo,
} from './dom.js';
import { charge, joinWaitlist, loadSession, me, refreshAccount, saveSession } from './buyer-account.js';
import { joinQueue, leaveSale } from './buyer-sale.js';

let nextCursor = null;

function signedIn(yes) {
  $('auth').hidden = yes;
  $('who').hidden = !yes;
  $('account').hidden = !yes;
  if (yes) $('who-name').textContent = me.loginId;
}

async function authenticate(action) {
  const loginId = $('login-id').value.trim();
  const password = $('password').value;
  if (action === 'signup') {
    await post('/api/v1/users', { loginId, password });
    showInfo(`Welcome, ${loginId}: your account is ready.`);
  }
  // The answer also sets the HttpOnly access_token cookie the API reads.
  const token = await post('/api/v1/auth/token', { loginId, password });
  $('password').value = '';
  saveSession(token.userId, loginId);
  leaveSale();
  signedIn(true);
  await refreshAccount();
}

async function loadConcerts(more = false) {
  const query = more && nextCursor ? `?after=${encodeURIComponent(nextCursor)}` : '';
  const body = await get(`/api/v1/concerts${query}`);
  nextCursor = body.nextCursor ?? null;
  const items = (body.concerts ?? []).map(concertItem);
  if (more) $('concert-list').append(...items);
  else fill($('concert-list'), items.length ? items : [el('li', { class: 'empty', text: 'No concerts on sale.' })]);
  $('more-concerts').hidden = !nextCursor;
}

function saleOpening(concert) {
  if (!concert.saleOpensAt) return el('p', { text: 'On sale now.' });
  if (Date.parse(concert.saleOpensAt) <= Date.now()) {
    return el('p', { text: `On sale since ${formatTime(concert.saleOpensAt)}.` });
  }
  return el('p', { class: 'opens' }, `Sale opens ${formatTime(concert.saleOpensAt)}, in `,
    countdown(concert.saleOpensAt, 'a moment'), '.');
}

function concertItem(concert) {
  const schedules = el('ul', { class: 'schedules', hidden: true });
  return el('li', { class: 'concert', 'data-concert': concert.concertId },
    el('h3', { text: concert.title }),
    el('p', { class: 'venue', text: concert.venue }),
    saleOpening(concert),
    concert.maxTicketsPerUser ? el('p', { text: `Up to ${concert.maxTicketsPerUser} tickets per person.` }) : null,
    el('div', { class: 'row' },
      el('button', {
        type: 'button', class: 'join', text: 'Join the queue',
        on: { click: (e) => busy(e.currentTarget, () => requireLogin() && joinQueue(concert)) },
      }),
      el('button', {
        type: 'button', class: 'secondary', text: 'Performances', 'aria-expanded': 'false',
        on: { click: (e) => busy(e.currentTarget, () => toggleSchedules(e.currentTarget, concert, schedules)) },
      })),
    schedules);
}

function requireLogin() {
  if (me.userId === null || me.userId === undefined) {
    throw new Error('Log in (or sign up) first.');
  }
  return true;
}

async function toggleSchedules(button, concert, list) {
  const open = list.hidden;
  button.setAttribute('aria-expanded', String(open));
  list.hidden = !open;
  if (!open) return;
  const body = await get(`/api/v1/concerts/${encodeURIComponent(concert.concertId)}/schedules`);
  const rows = (body.schedules ?? []).map((s) => el('li', { class: 'item', 'data-schedule': s.scheduleId },
    el('span', { text: `${formatTime(s.startsAt)} · ${formatWon(s.price)}` }),
    el('span', { text: `${s.availableSeats} of ${s.totalSeats} seats free` }),
    s.availableSeats === 0 ? el('button', {
      type: 'button', class: 'secondary', text: 'Join the waiting list',
      on: { click: (e) => busy(e.currentTarget, () => requireLogin() && joinWaitlist(concert.concertId, s.scheduleId)) },
    }) : null));
  fill(list, rows.length ? rows : [el('li', { class: 'empty', text: 'No upcoming performance.' })]);
}

$('auth-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const action = event.submitter?.value ?? 'login';
  busy(event.submitter, () => authenticate(action));
});

$('switch-user').addEventListener('click', () => {
  leaveSale();
  signedIn(false);
  $('login-id').focus();
});

$('charge-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const amount = Number($('charge-amount').value);
  busy(event.submitter, () => charge(amount));
});

$('more-concerts').addEventListener('click', (e) => busy(e.currentTarget, () => loadConcerts(true)));

async function start() {
  clearError();
  if (loadSession()) {
    signedIn(true);
    try {
      await refreshAccount();
    } catch (err) {
      // The cookie has expired (or was never set in this browser): sign in again.
      if (err.status === 401) signedIn(false);
      else showError(err);
    }
  }
  await loadConcerts().catch(showError);
}

start();
