//! Races, for real: many concurrent requests, and two instances on one database.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::json;

use crate::helpers::{
    e2e, e2e_on, e2e_postgres, spawn_app, spawn_app_with, Backend, TestApp, TestUser,
};
use crate::queue::{assert_fair, snapshot};

e2e!(
    a_hundred_contenders_for_one_seat_make_one_winner,
    many_users_over_a_few_seats_never_double_hold,
    one_users_racing_holds_respect_the_limit,
    fifty_concurrent_charges_sum_exactly,
    twenty_concurrent_payments_of_one_reservation_pay_once,
);
e2e_postgres!(two_instances_split_every_race);
e2e_on!([postgres, postgres_redis] two_instances_admitting_keep_the_cap_and_fifo);

/// Every user admitted to the concert; returns their queue tokens.
async fn admit_all(app: &TestApp, users: &[TestUser], concert_id: i64) -> Vec<String> {
    join_all(users.iter().map(|u| app.admitted(u, concert_id))).await
}

async fn max_live_holds_per_seat(db: &DatabaseConnection) -> i64 {
    let row = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            "SELECT COALESCE(MAX(n), 0) AS n FROM (SELECT seat_id, COUNT(*) AS n FROM reservations \
             WHERE status IN ('HELD', 'CONFIRMED') GROUP BY seat_id) t",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

/// `app_for(i)` serves request `i`: one instance, or several in turn.
async fn race_one_seat(
    apps: &[&TestApp],
    users: &[TestUser],
    tokens: &[String],
    schedule_id: i64,
    seat_id: i64,
) {
    let results = join_all(
        users
            .iter()
            .zip(tokens)
            .enumerate()
            .map(|(i, (user, token))| apps[i % apps.len()].hold(user, token, schedule_id, seat_id)),
    )
    .await;
    let won = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let lost = results
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "SEAT_UNAVAILABLE")
        .count();
    assert_eq!((won, lost), (1, users.len() - 1), "{results:?}");
}

async fn a_hundred_contenders_for_one_seat_make_one_winner(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedules) = app.concert(&[(3600, 10, 1000)]).await;
    let users = app.users("contender", 100).await;
    let tokens = admit_all(&app, &users, concert_id).await;
    for number in 1..=3 {
        let seat = app
            .seat_id(&users[0], &tokens[0], concert_id, schedules[0], number)
            .await;
        race_one_seat(&[&app], &users, &tokens, schedules[0], seat).await;
    }
    assert_eq!(max_live_holds_per_seat(&app.db().await).await, 1);
}

async fn many_users_over_a_few_seats_never_double_hold(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedules) = app.concert(&[(3600, 5, 1000)]).await;
    let users = app.users("crowd", 60).await;
    let tokens = admit_all(&app, &users, concert_id).await;
    let seats: Vec<i64> =
        join_all((1..=5).map(|n| app.seat_id(&users[0], &tokens[0], concert_id, schedules[0], n)))
            .await;
    let results = join_all(
        users
            .iter()
            .zip(&tokens)
            .enumerate()
            .map(|(i, (u, t))| app.hold(u, t, schedules[0], seats[i % 5])),
    )
    .await;
    let won = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(won, 5, "one winner per seat");
    assert!(results
        .iter()
        .all(|(s, b)| *s == StatusCode::CREATED || b["code"] == "SEAT_UNAVAILABLE"));
    assert_eq!(max_live_holds_per_seat(&app.db().await).await, 1);
}

async fn one_users_racing_holds_respect_the_limit(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.reservation.max_holds_per_user = 2).await;
    let (concert_id, schedules) = app.concert(&[(3600, 10, 1000)]).await;
    let user = app.user("greedy").await;
    let token = app.admitted(&user, concert_id).await;
    let seats: Vec<i64> =
        join_all((1..=10).map(|n| app.seat_id(&user, &token, concert_id, schedules[0], n))).await;
    let results = join_all(
        seats
            .iter()
            .map(|&seat| app.hold(&user, &token, schedules[0], seat)),
    )
    .await;
    let won = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let limited = results
        .iter()
        .filter(|(_, b)| b["code"] == "HOLD_LIMIT_EXCEEDED")
        .count();
    assert_eq!((won, limited), (2, 8), "{results:?}");
}

async fn charge_race(apps: &[&TestApp], user: &TestUser, n: usize, amount: i64) {
    let results =
        join_all((0..n).map(|i| apps[i % apps.len()].charge(user, json!(amount), None))).await;
    assert!(
        results.iter().all(|(s, _)| *s == StatusCode::OK),
        "{results:?}"
    );
    assert_eq!(apps[0].balance(user).await, n as i64 * amount);
    let history = apps[0].history(user).await;
    assert_eq!(history.len(), n);
    // Every entry's balanceAfter is the running sum: no charge lost or counted twice.
    let mut after: Vec<i64> = history
        .iter()
        .map(|e| e["balanceAfter"].as_i64().unwrap())
        .collect();
    after.sort();
    assert_eq!(
        after,
        (1..=n as i64).map(|k| k * amount).collect::<Vec<_>>()
    );
}

async fn fifty_concurrent_charges_sum_exactly(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.user("rich").await;
    charge_race(&[&app], &user, 50, 1_000).await;
}

async fn payment_race(apps: &[&TestApp], n: usize) {
    let app = apps[0];
    let (concert_id, schedules) = app.concert(&[(3600, 2, 25_000)]).await;
    let user = app.user("double-clicker").await;
    let token = app.admitted(&user, concert_id).await;
    app.charge(&user, json!(100_000), None).await;
    let seat = app
        .seat_id(&user, &token, concert_id, schedules[0], 1)
        .await;
    let (_, held) = app.hold(&user, &token, schedules[0], seat).await;
    let id = held["reservationId"].as_i64().unwrap();
    let results = join_all((0..n).map(|i| apps[i % apps.len()].pay(&user, &token, id, None))).await;
    let paid = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(paid, 1, "{results:?}");
    // The others lost to the winner: the reservation was paid, or the token already spent.
    assert!(
        results.iter().all(|(s, b)| *s == StatusCode::CREATED
            || b["code"] == "RESERVATION_NOT_PAYABLE"
            || b["code"] == "QUEUE_TOKEN_INVALID"),
        "{results:?}"
    );
    assert_eq!(app.balance(&user).await, 75_000);
    let payments = app
        .history(&user)
        .await
        .iter()
        .filter(|e| e["type"] == "PAYMENT")
        .count();
    assert_eq!(payments, 1);
}

async fn twenty_concurrent_payments_of_one_reservation_pay_once(backend: Backend) {
    let app = spawn_app(backend).await;
    payment_race(&[&app], 20).await;
}

async fn two_instances_split_every_race(backend: Backend) {
    let first = spawn_app(backend).await;
    let second = first.sibling().await;
    let apps = [&first, &second];
    // A login on one instance is honoured by the other: they share the secret.
    let (concert_id, schedules) = first.concert(&[(3600, 3, 1000)]).await;
    let users = first.users("split", 40).await;
    let tokens = join_all(
        users
            .iter()
            .enumerate()
            .map(|(i, u)| apps[i % 2].admitted(u, concert_id)),
    )
    .await;
    let seat = second
        .seat_id(&users[1], &tokens[1], concert_id, schedules[0], 1)
        .await;
    race_one_seat(&apps, &users, &tokens, schedules[0], seat).await;
    assert_eq!(max_live_holds_per_seat(&first.db().await).await, 1);
    charge_race(&apps, &users[2], 40, 250).await;
    payment_race(&apps, 20).await;
}

async fn two_instances_admitting_keep_the_cap_and_fifo(backend: Backend) {
    const CAP: u32 = 5;
    let first = spawn_app_with(backend, |s| {
        s.queue.max_active_per_concert = CAP;
        s.queue.active_ttl_secs = 1;
        s.queue.admit_interval_ms = 20;
    })
    .await;
    let second = first.sibling().await;
    let (concert_id, _) = first.concert(&[(3600, 5, 1000)]).await;
    let users = first.users("line", 40).await;
    let apps = [&first, &second];
    let all_joined = AtomicBool::new(false);
    let joins = async {
        let joined = join_all(
            users
                .iter()
                .enumerate()
                .map(|(i, u)| apps[i % 2].join_queue(u, concert_id)),
        )
        .await;
        all_joined.store(true, Ordering::SeqCst);
        joined
    };
    let sampler = async {
        let mut samples = 0;
        for _ in 0..1000 {
            let joined = all_joined.load(Ordering::SeqCst);
            let snap = snapshot(&first, concert_id).await;
            assert_fair(&snap, CAP as usize);
            samples += 1;
            if joined && snap.iter().all(|(_, s, _)| s != "WAITING") {
                return samples;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the line did not drain");
    };
    let (joined, samples) = tokio::join!(joins, sampler);
    assert!(joined.iter().all(|(s, _)| *s == StatusCode::CREATED));
    assert!(samples > 20, "sampled often: {samples}");
}
