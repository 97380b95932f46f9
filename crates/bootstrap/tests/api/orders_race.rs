//! Refunds, payments, cancels, offers and the sweeper racing on one schedule
//! over two instances sharing one PostgreSQL: no deadlock, and the books balance.

use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{json, Value};

use crate::helpers::{answer, e2e_postgres, spawn_app_with, Backend, TestApp, TestUser};
use crate::orders::{pay_many, refund};

e2e_postgres!(refunds_payments_cancels_and_the_sweeper_race_over_two_instances);

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Every answer is one the contract allows: never a 5xx.
fn no_server_error(what: &str, (status, body): &(StatusCode, Value)) {
    assert!(!status.is_server_error(), "{what}: {status} {body}");
}

/// Buyer `i`'s script: pay then refund, pay, cancel, or let the hold lapse.
async fn buyer(app: &TestApp, user: &TestUser, token: &str, reservation: i64, i: usize) {
    match i % 4 {
        0 | 1 => {
            let paid = app.pay(user, token, reservation, None).await;
            no_server_error("pay", &paid);
            if i.is_multiple_of(4) && paid.0 == StatusCode::CREATED {
                let id = paid.1["paymentId"].as_i64().unwrap();
                no_server_error("refund", &refund(app, user, id, None).await);
            }
        }
        2 => {
            let cancelled = answer(
                app.delete(&format!("/api/v1/reservations/{reservation}"))
                    .bearer_auth(&user.token),
            )
            .await;
            no_server_error("cancel", &cancelled);
        }
        _ => {}
    }
}

/// Waiter `j`'s script: watch the entry; pay an offer (and refund it when
/// `j` is even), except the last waiter, who lets its offer lapse.
async fn waiter(app: &TestApp, user: &TestUser, j: usize, last: bool) {
    for _ in 0..150 {
        let (status, list) = answer(app.get("/api/v1/waitlist").bearer_auth(&user.token)).await;
        no_server_error("list", &(status, list.clone()));
        let entry = &list["entries"][0];
        match entry["status"].as_str() {
            Some("OFFERED") if !last => {
                let id = entry["reservationId"].as_i64().unwrap();
                let paid = pay_many(app, user, None, &[id], None).await;
                no_server_error("pay offer", &paid);
                if j.is_multiple_of(2) && paid.0 == StatusCode::CREATED {
                    let payment = paid.1["paymentId"].as_i64().unwrap();
                    no_server_error("refund offer", &refund(app, user, payment, None).await);
                }
                return;
            }
            Some("FULFILLED" | "LAPSED" | "LEFT") => return,
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn refunds_payments_cancels_and_the_sweeper_race_over_two_instances(backend: Backend) {
    const SEATS: usize = 8;
    const WAITERS: usize = 4;
    let first = spawn_app_with(backend, |s| s.reservation.hold_ttl_secs = 2).await;
    let second = first.sibling().await;
    let apps = [&first, &second];
    let (concert_id, schedules) = first.concert(&[(2 * 86_400, SEATS as i64, 10_000)]).await;
    let buyers = first.users("racer", SEATS).await;
    let waiters = first.users("waiter", WAITERS).await;
    for u in buyers.iter().chain(&waiters) {
        first.charge(u, json!(50_000), None).await;
    }
    let tokens = join_all(buyers.iter().map(|u| first.admitted(u, concert_id))).await;
    let seats = join_all(
        (1..=SEATS as i64)
            .map(|n| first.seat_id(&buyers[0], &tokens[0], concert_id, schedules[0], n)),
    )
    .await;
    let holds = join_all(
        buyers
            .iter()
            .zip(&tokens)
            .zip(&seats)
            .enumerate()
            .map(|(i, ((u, t), s))| apps[i % 2].hold(u, t, schedules[0], *s)),
    )
    .await;
    let reservations: Vec<i64> = holds
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::CREATED, "{body}");
            body["reservationId"].as_i64().unwrap()
        })
        .collect();
    for (j, w) in waiters.iter().enumerate() {
        let (status, body) = answer(
            apps[j % 2]
                .post(&format!(
                    "/api/v1/concerts/{concert_id}/schedules/{}/waitlist",
                    schedules[0]
                ))
                .bearer_auth(&w.token),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    // One schedule: buyers and waiters on alternating instances, the sweepers of both running.
    let buyers_done = join_all(
        buyers
            .iter()
            .enumerate()
            .map(|(i, u)| buyer(apps[i % 2], u, &tokens[i], reservations[i], i)),
    );
    let waiters_done = join_all(
        waiters
            .iter()
            .enumerate()
            .map(|(j, u)| waiter(apps[(j + 1) % 2], u, j, j == WAITERS - 1)),
    );
    futures::join!(buyers_done, waiters_done);

    let db = first.db().await;
    // Settled: every hold and offer has been paid, cancelled or swept.
    for _ in 0..200 {
        if scalar(
            &db,
            "SELECT COUNT(*) FROM reservations WHERE status = 'HELD'",
        )
        .await
            == 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM reservations WHERE status = 'HELD'"
        )
        .await,
        0,
        "everything settles without a request"
    );
    assert!(
        scalar(&db, "SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM reservations WHERE status IN ('HELD', 'CONFIRMED') GROUP BY seat_id) t").await <= 1,
        "at most one live reservation per seat"
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM seats WHERE status = 'SOLD'").await,
        scalar(&db, "SELECT COUNT(*) FROM reservations r JOIN seats s ON s.id = r.seat_id WHERE r.status = 'CONFIRMED' AND s.status = 'SOLD'").await,
        "sold seats are exactly the paid, unrefunded reservations"
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM seats WHERE status = 'SOLD'").await,
        scalar(
            &db,
            "SELECT COUNT(*) FROM reservations WHERE status = 'CONFIRMED'"
        )
        .await,
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM balances b WHERE b.balance <> (SELECT COALESCE(SUM(amount), 0) FROM point_entries p WHERE p.user_id = b.user_id)").await,
        0,
        "every balance is the sum of its history"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM payments WHERE refunded_at_ms IS NULL"
        )
        .await,
        scalar(
            &db,
            "SELECT COUNT(*) FROM reservations WHERE status = 'CONFIRMED'"
        )
        .await,
        "one unrefunded payment per sold seat here (single-seat payments)"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM waitlist_entries WHERE status = 'OFFERED'"
        )
        .await,
        0,
        "no offer outlives its hold"
    );
    // Entries agree with their offers: paid ones FULFILLED, the others LAPSED.
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM waitlist_entries w JOIN reservations r ON r.id = w.reservation_id \
                     WHERE NOT ((w.status = 'FULFILLED' AND r.status IN ('CONFIRMED', 'REFUNDED')) \
                             OR (w.status = 'LAPSED' AND r.status IN ('EXPIRED', 'CANCELLED')))").await,
        0
    );
    // Seats 0 and 2 (mod 4) were refunded or cancelled while the list waited:
    // at least one offer was made.
    assert!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM reservations WHERE origin = 'OFFER'"
        )
        .await
            >= 1
    );
}
