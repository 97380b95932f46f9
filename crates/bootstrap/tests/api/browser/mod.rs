//! The web pages in a real browser: headless Chromium driven over WebDriver
//! against the real server. Skipped without Chromium, a failure under `CI=true`.
//! Every run refreshes the screenshots in `docs/screenshots/`.

mod webdriver;

use std::path::PathBuf;

use reqwest::StatusCode;
use std::time::Duration;

use crate::helpers::{e2e_on, missing, spawn_app, Backend, ADMIN_KEY};
use serde_json::json;
use webdriver::{Browser, Driver};

e2e_on!([sqlite] buyers_and_an_organiser_run_a_sale_in_browsers, a_waiting_buyer_sees_an_offer_and_pays_it, before_the_opening_a_buyer_waits_in_the_prequeue_with_a_countdown);

const PHONE_WIDTH: u32 = 390;
const DESKTOP_WIDTH: u32 = 1280;

fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/screenshots")
        .join(name)
}

/// Signs up (which also logs in) on the buyer page.
async fn sign_up(browser: &Browser, address: &str, login_id: &str) {
    browser.goto(&format!("{address}/")).await;
    browser.type_into("#login-id", login_id).await;
    browser.type_into("#password", "password-123").await;
    browser.click("#sign-up").await;
    browser.wait_text("#who-name", login_id).await;
}

/// Joins the concert's queue from its card in the list.
async fn join(browser: &Browser, concert_id: &str) {
    browser
        .click(&format!("[data-concert='{concert_id}'] .join"))
        .await;
}

fn seat(number: u32, status: &str) -> String {
    format!("#seat-grid [data-seat='{number}'][data-status='{status}']")
}

async fn buyers_and_an_organiser_run_a_sale_in_browsers(backend: Backend) {
    let Some(driver) = Driver::start(missing).await else {
        return;
    };
    let app = spawn_app(backend).await;
    let address = app.address.clone();

    // The organiser creates a concert on /admin and watches its sale.
    let organiser = driver.browser().await;
    organiser.goto(&format!("{address}/admin")).await;
    organiser.type_into("#admin-key", ADMIN_KEY).await;
    organiser.click("#use-key").await;
    organiser.type_into("#title", "Browser Gala").await;
    organiser.type_into("#venue", "Headless Hall").await;
    organiser.type_into(".schedule-row .seat-count", "20").await;
    organiser.click("#create-concert").await;
    organiser.wait_for("#sales[data-concert]").await;
    let concert_id = organiser
        .script(
            "return document.getElementById('sales').dataset.concert;",
            serde_json::json!([]),
        )
        .await
        .as_str()
        .expect("the new concert's id")
        .to_owned();

    // Buyer A signs up, charges points, is admitted, holds two seats and pays once.
    let a = driver.browser().await;
    sign_up(&a, &address, "browser_a").await;
    a.type_into("#charge-amount", "200000").await;
    a.click("#charge").await;
    a.wait_text("#balance", "₩200,000").await;
    join(&a, &concert_id).await;
    a.wait_text("#queue-status", "ACTIVE").await;
    a.click(&seat(1, "AVAILABLE")).await;
    a.wait_for(&seat(1, "MINE")).await;
    a.click(&seat(2, "AVAILABLE")).await;
    a.wait_for(&seat(2, "MINE")).await;
    assert_eq!(a.count("#hold-list [data-hold]").await, 2);
    a.screenshot(DESKTOP_WIDTH, &screenshot_path("buyer-holds.png"))
        .await;
    a.wait_text("#pay-holds", "Pay ₩100,000 for 2 seats").await;
    a.click("#pay-holds").await;
    a.wait_for(&seat(1, "SOLD")).await;
    a.wait_for(&seat(2, "SOLD")).await;
    a.wait_text("#balance", "₩100,000").await;
    a.wait_until("two confirmed reservations", || async {
        a.count("#reservation-list [data-status='CONFIRMED']").await == 2
    })
    .await;
    a.wait_text("#limit-note", "Up to 4 tickets per person: 2 more for you.")
        .await;
    a.screenshot(DESKTOP_WIDTH, &screenshot_path("buyer-paid.png"))
        .await;

    // Buyer B, in another browser, sees those two seats taken and the rest free.
    let b = driver.browser().await;
    sign_up(&b, &address, "browser_b").await;
    join(&b, &concert_id).await;
    b.wait_text("#queue-status", "ACTIVE").await;
    b.wait_for(&seat(1, "SOLD")).await;
    b.wait_for(&seat(2, "SOLD")).await;
    b.wait_for(&seat(3, "AVAILABLE")).await;
    assert_eq!(b.count("#seat-grid [data-status='SOLD']").await, 2);
    assert_eq!(b.count("#seat-grid [data-status='AVAILABLE']").await, 18);
    b.screenshot(PHONE_WIDTH, &screenshot_path("buyer-phone.png"))
        .await;

    // The organiser sees the sale and pauses the queue.
    organiser.wait_text("#sales-rows .sold", "2").await;
    organiser.wait_text("#queue-paused", "RUNNING").await;
    organiser.click("#toggle-pause").await;
    organiser.wait_text("#queue-paused", "PAUSED").await;

    // Buyer C joins the paused queue and stays WAITING while it is paused.
    let c = driver.browser().await;
    sign_up(&c, &address, "browser_c").await;
    join(&c, &concert_id).await;
    c.wait_text("#queue-status", "WAITING").await;
    // Many admit intervals (50 ms in tests) pass; nobody is admitted.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(c.text("#queue-status").await.as_deref(), Some("WAITING"));
    c.wait_text("#queue-position", "Number 1 in line").await;
    c.screenshot(DESKTOP_WIDTH, &screenshot_path("buyer-waiting.png"))
        .await;
    organiser.wait_text("#queue-waiting", "1").await;
    organiser
        .screenshot(DESKTOP_WIDTH, &screenshot_path("organiser-sales.png"))
        .await;

    organiser.click("#toggle-pause").await;
    organiser.wait_text("#queue-paused", "RUNNING").await;
    c.wait_text("#queue-status", "ACTIVE").await;
    c.wait_for(&seat(1, "SOLD")).await;

    // Buyer A refunds the payment: the points come back and the seats are free again.
    a.click("#payment-list [data-status='PAID'] button").await;
    a.wait_for("#payment-list [data-status='REFUNDED']").await;
    a.wait_text("#balance", "₩200,000").await;
    c.wait_for(&seat(1, "AVAILABLE")).await;
    c.wait_for(&seat(2, "AVAILABLE")).await;

    for browser in [organiser, a, b, c] {
        browser.close().await;
    }
}

async fn a_waiting_buyer_sees_an_offer_and_pays_it(backend: Backend) {
    let Some(driver) = Driver::start(missing).await else {
        return;
    };
    let app = spawn_app(backend).await;
    let (concert_id, schedules) = app.concert(&[(7 * 86_400, 1, 30_000)]).await;
    // Someone else holds the only seat: the performance is sold out.
    let holder = app.user("holder").await;
    let token = app.admitted(&holder, concert_id).await;
    let seat_id = app
        .seat_id(&holder, &token, concert_id, schedules[0], 1)
        .await;
    let (status, hold) = app.hold(&holder, &token, schedules[0], seat_id).await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");

    let w = driver.browser().await;
    sign_up(&w, &app.address, "browser_w").await;
    w.type_into("#charge-amount", "100000").await;
    w.click("#charge").await;
    w.wait_text("#balance", "₩100,000").await;
    let card = format!("[data-concert='{concert_id}']");
    w.click(&format!("{card} [aria-expanded]")).await;
    w.wait_text(
        &format!("{card} [data-schedule] span + span"),
        "0 of 1 seats free",
    )
    .await;
    w.click(&format!("{card} [data-schedule] button")).await;
    w.wait_for("#waitlist-list [data-status='WAITING']").await;

    // The hold is cancelled: the seat goes to the waiting list, and the page notices.
    let reservation_id = hold["reservationId"].as_i64().unwrap();
    let cancelled = app
        .delete(&format!("/api/v1/reservations/{reservation_id}"))
        .bearer_auth(&holder.token)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::OK);
    w.wait_for("#waitlist-list [data-status='OFFERED'] button")
        .await;
    w.screenshot(DESKTOP_WIDTH, &screenshot_path("buyer-waitlist-offer.png"))
        .await;
    w.click("#waitlist-list [data-status='OFFERED'] button")
        .await;
    w.wait_text("#balance", "₩70,000").await;
    w.wait_for("#waitlist-list [data-status='FULFILLED']").await;
    w.wait_for("#reservation-list [data-status='CONFIRMED']")
        .await;
    w.close().await;
}

async fn before_the_opening_a_buyer_waits_in_the_prequeue_with_a_countdown(backend: Backend) {
    let Some(driver) = Driver::start(missing).await else {
        return;
    };
    let app = spawn_app(backend).await;
    let now = chrono::Utc::now();
    let created = app
        .post("/api/v1/admin/concerts")
        .header("X-Admin-Key", ADMIN_KEY)
        .json(&json!({
            "title": "Midnight Opening", "venue": "Test hall",
            "saleOpensAt": now + chrono::Duration::minutes(30),
            "schedules": [{"startsAt": now + chrono::Duration::days(7), "seatCount": 5, "price": 10_000}],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let concert: serde_json::Value = created.json().await.unwrap();
    let concert_id = concert["concertId"].to_string();

    let p = driver.browser().await;
    sign_up(&p, &app.address, "browser_p").await;
    p.wait_for(&format!("[data-concert='{concert_id}'] .opens .countdown"))
        .await;
    join(&p, &concert_id).await;
    p.wait_text("#queue-status", "PREQUEUE").await;
    // A live countdown to the opening, about 30 minutes away (m:ss).
    let left = p.text("#queue-detail .countdown").await.unwrap_or_default();
    let minutes: u32 = left
        .split(':')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("a countdown, not {left:?}"));
    assert!((28..=29).contains(&minutes), "{left}");
    p.wait_until("the countdown to tick", || async {
        p.text("#queue-detail .countdown").await.as_deref() != Some(left.as_str())
    })
    .await;
    assert_eq!(p.count("#seat-panel:not([hidden])").await, 0);
    p.close().await;
}
