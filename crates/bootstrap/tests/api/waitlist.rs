//! The waiting list of a sold-out schedule: freed seats move along it.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    answer, assert_code, e2e, e2e_queue, eventually, spawn_app_with, Backend, TestApp, TestUser,
    ADMIN_KEY,
};
use crate::orders::{pay_many, refund};

e2e_queue!(a_freed_seat_walks_down_the_list);
e2e!(
    offers_skip_users_at_the_ticket_limit,
    a_lapsed_hold_stays_held_while_the_list_waits
);

async fn join(
    app: &TestApp,
    user: &TestUser,
    concert_id: i64,
    schedule_id: i64,
) -> (StatusCode, Value) {
    answer(
        app.post(&format!(
            "/api/v1/concerts/{concert_id}/schedules/{schedule_id}/waitlist"
        ))
        .bearer_auth(&user.token),
    )
    .await
}

async fn entries(app: &TestApp, user: &TestUser, query: &str) -> Value {
    let (status, body) = answer(
        app.get(&format!("/api/v1/waitlist{query}"))
            .bearer_auth(&user.token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn entry(app: &TestApp, user: &TestUser) -> Value {
    entries(app, user, "").await["entries"][0].clone()
}

async fn cancel(app: &TestApp, user: &TestUser, reservation_id: i64) -> (StatusCode, Value) {
    answer(
        app.delete(&format!("/api/v1/reservations/{reservation_id}"))
            .bearer_auth(&user.token),
    )
    .await
}

/// A concert two days away; returns its id and schedule ids.
async fn concert(app: &TestApp, seats: &[i64], max_tickets: i64) -> (i64, Vec<i64>) {
    let starts = chrono::Utc::now() + chrono::Duration::days(2);
    let schedules: Vec<Value> = seats
        .iter()
        .map(|n| json!({"startsAt": starts, "seatCount": n, "price": 10_000}))
        .collect();
    let (status, body) = answer(
        app.post("/api/v1/admin/concerts")
            .header("X-Admin-Key", ADMIN_KEY)
            .json(&json!({"title": "Sold out", "venue": "Hall", "schedules": schedules, "maxTicketsPerUser": max_tickets})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ids = body["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scheduleId"].as_i64().unwrap())
        .collect();
    (body["concertId"].as_i64().unwrap(), ids)
}

async fn hold_one(
    app: &TestApp,
    user: &TestUser,
    concert_id: i64,
    schedule_id: i64,
    n: i64,
) -> i64 {
    let token = app.admitted(user, concert_id).await;
    let seat = app.seat_id(user, &token, concert_id, schedule_id, n).await;
    let (status, held) = app.hold(user, &token, schedule_id, seat).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    held["reservationId"].as_i64().unwrap()
}

async fn a_freed_seat_walks_down_the_list(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.reservation.hold_ttl_secs = 3).await;
    let (concert_id, schedules) = concert(&app, &[1], 4).await;
    let schedule = schedules[0];
    let users = app.users("fan", 5).await;
    let (holder, first, second, third, late) =
        (&users[0], &users[1], &users[2], &users[3], &users[4]);
    for u in &users[1..4] {
        app.charge(u, json!(10_000), None).await;
    }
    // Before the sell-out the list refuses: hold the seat instead.
    let (status, body) = join(&app, first, concert_id, schedule).await;
    assert_code(status, &body, StatusCode::CONFLICT, "SEATS_AVAILABLE");
    let held = hold_one(&app, holder, concert_id, schedule, 1).await;

    let (status, a) = join(&app, first, concert_id, schedule).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(
        (a["status"].as_str(), a["position"].as_i64()),
        (Some("WAITING"), Some(1))
    );
    assert!(a["reservationId"].is_null() && a["offerExpiresAt"].is_null());
    let (status, again) = join(&app, first, concert_id, schedule).await;
    assert_eq!(
        (status, again["entryId"].clone()),
        (StatusCode::OK, a["entryId"].clone())
    );
    assert_eq!(
        join(&app, second, concert_id, schedule).await.1["position"],
        2
    );
    assert_eq!(
        join(&app, third, concert_id, schedule).await.1["position"],
        3
    );
    let (status, body) = join(&app, first, concert_id, 999_999).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");

    // A cancel hands the seat to the first entry in the same step.
    assert_eq!(cancel(&app, holder, held).await.0, StatusCode::OK);
    let offer = entry(&app, first).await;
    assert_eq!(offer["status"], "OFFERED", "{offer}");
    assert!(offer["position"].is_null() && offer["offerExpiresAt"].is_string());
    assert_eq!(entry(&app, second).await["position"], 1);
    let offered = offer["reservationId"].as_i64().unwrap();
    assert_eq!(app.reservation(first, offered).await.1["status"], "HELD");
    let schedules_view = app
        .get_json(&format!("/api/v1/concerts/{concert_id}/schedules"))
        .await;
    assert_eq!(schedules_view["schedules"][0]["availableSeats"], 0);
    // An offer is paid without a queue token, and only on its own.
    let (status, paid) = pay_many(&app, first, None, &[offered], None).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(entry(&app, first).await["status"], "FULFILLED");

    // A refund hands it on; the next offer lapses unpaid and the sweeper moves it on.
    let (status, body) = refund(&app, first, paid["paymentId"].as_i64().unwrap(), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(entry(&app, second).await["status"], "OFFERED");
    eventually("the unpaid offer lapses and moves on", || async {
        entry(&app, second).await["status"] == "LAPSED"
            && entry(&app, third).await["status"] == "OFFERED"
    })
    .await;
    // An offered entry cannot be left; a cancelled offer ends it (LAPSED).
    let third_entry = entry(&app, third).await;
    let id = third_entry["entryId"].as_i64().unwrap();
    let (status, body) = answer(
        app.delete(&format!("/api/v1/waitlist/{id}"))
            .bearer_auth(&third.token),
    )
    .await;
    assert_code(status, &body, StatusCode::CONFLICT, "WAITLIST_ENTRY_CLOSED");
    let late_entry = {
        // Join while the seat is offered, then leave.
        let (status, e) = join(&app, late, concert_id, schedule).await;
        assert_eq!(status, StatusCode::CREATED, "{e}");
        e["entryId"].as_i64().unwrap()
    };
    let (status, left) = answer(
        app.delete(&format!("/api/v1/waitlist/{late_entry}"))
            .bearer_auth(&late.token),
    )
    .await;
    assert_eq!(
        (status, left["status"].as_str()),
        (StatusCode::OK, Some("LEFT"))
    );
    let (status, body) = answer(
        app.delete(&format!("/api/v1/waitlist/{late_entry}"))
            .bearer_auth(&first.token),
    )
    .await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(
        cancel(&app, third, third_entry["reservationId"].as_i64().unwrap())
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(entry(&app, third).await["status"], "LAPSED");
    // Nobody waits any more: the seat is simply free.
    let schedules_view = app
        .get_json(&format!("/api/v1/concerts/{concert_id}/schedules"))
        .await;
    assert_eq!(schedules_view["schedules"][0]["availableSeats"], 1);
    // Paging of the caller's entries, newest first.
    hold_one(&app, holder, concert_id, schedule, 1).await;
    let (_, next) = join(&app, late, concert_id, schedule).await;
    assert_eq!(next["status"], "WAITING");
    let page = entries(&app, late, "?limit=1").await;
    assert_eq!(page["entries"][0]["entryId"], next["entryId"]);
    let cursor = page["nextCursor"].as_str().unwrap().to_owned();
    let rest = entries(&app, late, &format!("?limit=1&after={cursor}")).await;
    assert_eq!(rest["entries"][0]["entryId"], late_entry);
    assert!(rest["nextCursor"].is_null());
    let (status, body) = answer(app.get("/api/v1/waitlist?limit=0").bearer_auth(&late.token)).await;
    assert_code(status, &body, StatusCode::BAD_REQUEST, "VALIDATION_FAILED");
}

async fn offers_skip_users_at_the_ticket_limit(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let (concert_id, schedules) = concert(&app, &[1, 1], 1).await;
    let users = app.users("limit", 3).await;
    let (holder, full, next) = (&users[0], &users[1], &users[2]);
    let held = hold_one(&app, holder, concert_id, schedules[0], 1).await;
    assert_eq!(
        join(&app, full, concert_id, schedules[0]).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        join(&app, next, concert_id, schedules[0]).await.0,
        StatusCode::CREATED
    );
    // `full` now owns the concert's one ticket (a hold on the other schedule).
    hold_one(&app, full, concert_id, schedules[1], 1).await;
    let (status, body) = join(&app, holder, concert_id, schedules[1]).await;
    assert_code(status, &body, StatusCode::CONFLICT, "TICKET_LIMIT_EXCEEDED");
    assert_eq!(cancel(&app, holder, held).await.0, StatusCode::OK);
    assert_eq!(entry(&app, full).await["status"], "WAITING");
    assert_eq!(entry(&app, next).await["status"], "OFFERED");
    // The offer is `next`'s one ticket; a repeat join still answers with the entry.
    let (status, again) = join(&app, next, concert_id, schedules[0]).await;
    assert_eq!(
        (status, again["status"].as_str()),
        (StatusCode::OK, Some("OFFERED")),
        "{again}"
    );
}

async fn a_lapsed_hold_stays_held_while_the_list_waits(backend: Backend) {
    // The sweeper runs at start-up and then not for a minute: the lapse is found at use.
    let app = spawn_app_with(backend, |s| {
        s.reservation.hold_ttl_secs = 1;
        s.reservation.sweep_interval_ms = 60_000;
    })
    .await;
    let (concert_id, schedules) = concert(&app, &[1], 4).await;
    let users = app.users("lapse", 3).await;
    let (holder, waiting, sniper) = (&users[0], &users[1], &users[2]);
    hold_one(&app, holder, concert_id, schedules[0], 1).await;
    assert_eq!(
        join(&app, waiting, concert_id, schedules[0]).await.0,
        StatusCode::CREATED
    );
    let token = app.admitted(sniper, concert_id).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (_, map) = app.seats(sniper, &token, concert_id, schedules[0]).await;
    assert_eq!(map["seats"][0]["status"], "HELD", "{map}");
    let view = app
        .get_json(&format!("/api/v1/concerts/{concert_id}/schedules"))
        .await;
    assert_eq!(view["schedules"][0]["availableSeats"], 0);
    let seat = map["seats"][0]["seatId"].as_i64().unwrap();
    let (status, body) = app.hold(sniper, &token, schedules[0], seat).await;
    assert_code(status, &body, StatusCode::CONFLICT, "SEAT_UNAVAILABLE");
    // Found at use, the lapsed hold went to the list there and then.
    assert_eq!(entry(&app, waiting).await["status"], "OFFERED");
    let (_, map) = app.seats(sniper, &token, concert_id, schedules[0]).await;
    assert_eq!(map["seats"][0]["status"], "HELD", "{map}");
}
