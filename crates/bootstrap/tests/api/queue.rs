use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::Value;

use bootstrap::QueueBackend;

use crate::helpers::{
    assert_code, e2e_queue, eventually, spawn_app, spawn_app_with, Backend, TestApp,
};

e2e_queue!(
    issue_admits_at_once_when_there_is_room_and_reissue_is_idempotent,
    waiting_line_is_first_come_first_served_with_positions,
    an_expired_token_frees_its_place_for_the_next_in_line,
    queue_guard_refuses_every_bad_token,
    joining_an_unknown_concert_is_not_found,
);

/// `(seq, status, window still open)` of the concert's tokens in one atomic
/// read, by seq: every token from the database; the WAITING and ACTIVE ones
/// from Redis (expired tokens leave its sets).
pub async fn snapshot(app: &TestApp, concert_id: i64) -> Vec<(i64, String, bool)> {
    let mut rows = match app.settings.queue.backend {
        QueueBackend::Database => database_snapshot(&app.db().await, concert_id).await,
        QueueBackend::Redis => redis_snapshot(app, concert_id).await,
    };
    let now_ms = chrono::Utc::now().timestamp_millis();
    rows.sort();
    rows.into_iter()
        .map(|(seq, status, exp)| (seq, status, exp > now_ms))
        .collect()
}

async fn database_snapshot(db: &DatabaseConnection, concert_id: i64) -> Vec<(i64, String, i64)> {
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT seq, status, COALESCE(expires_at_ms, 0) AS exp FROM queue_tokens WHERE concert_id = {concert_id}"
            ),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get("", "seq").unwrap(),
                r.try_get("", "status").unwrap(),
                r.try_get("", "exp").unwrap(),
            )
        })
        .collect()
}

const REDIS_SNAPSHOT: &str = r#"
local q = ARGV[1]
local out = {}
local w = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #w, 2 do
  table.insert(out, w[i + 1]); table.insert(out, 'WAITING'); table.insert(out, '0')
end
local a = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #a, 2 do
  table.insert(out, redis.call('HGET', q .. 'token:' .. a[i], 's')); table.insert(out, 'ACTIVE'); table.insert(out, a[i + 1])
end
return out
"#;

async fn redis_snapshot(app: &TestApp, concert_id: i64) -> Vec<(i64, String, i64)> {
    // One server or a cluster: the concert's keys share one hash tag.
    let mut connection = adapters_redis::connect(&app.settings.redis.url).unwrap();
    let keys = adapters_redis::Keys::new(app.settings.redis.key_prefix.as_str());
    let flat: Vec<String> = redis::Script::new(REDIS_SNAPSHOT)
        .key(keys.waiting(concert_id))
        .key(keys.active(concert_id))
        .arg(keys.base(concert_id))
        .invoke_async(&mut connection)
        .await
        .unwrap();
    flat.chunks_exact(3)
        .map(|t| (t[0].parse().unwrap(), t[1].clone(), t[2].parse().unwrap()))
        .collect()
}

/// The cap and FIFO, checked on one snapshot: no more than `cap` live ACTIVE
/// tokens, and every WAITING token comes after every admitted one.
pub fn assert_fair(snapshot: &[(i64, String, bool)], cap: usize) {
    let active = snapshot
        .iter()
        .filter(|(_, s, live)| s == "ACTIVE" && *live)
        .count();
    assert!(active <= cap, "{active} ACTIVE > cap {cap}: {snapshot:?}");
    let first_waiting = snapshot
        .iter()
        .position(|(_, s, _)| s == "WAITING")
        .unwrap_or(snapshot.len());
    assert!(
        snapshot[first_waiting..]
            .iter()
            .all(|(_, s, _)| s == "WAITING"),
        "admitted out of order: {snapshot:?}"
    );
}

async fn issue_admits_at_once_when_there_is_room_and_reissue_is_idempotent(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, _) = app.concert(&[(3600, 5, 1000)]).await;
    let user = app.user("first").await;
    let (status, token) = app.join_queue(&user, concert_id).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(token["status"], "ACTIVE");
    assert_eq!(token["position"], 0);
    assert_eq!(token["estimatedWaitSeconds"], 0);
    assert_eq!(token["concertId"], concert_id);
    assert!(token["expiresAt"].is_string());
    assert!(
        token["token"].as_str().unwrap().len() >= 32,
        "at least 128 random bits"
    );

    let (again_status, again) = app.join_queue(&user, concert_id).await;
    assert_eq!(again_status, StatusCode::OK);
    assert_eq!(again, token);
    let (current_status, current) = app
        .current_token(&user, token["token"].as_str().unwrap())
        .await;
    assert_eq!(current_status, StatusCode::OK);
    assert_eq!(current, token);
}

async fn waiting_line_is_first_come_first_served_with_positions(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.queue.max_active_per_concert = 2;
        s.queue.active_ttl_secs = 1;
    })
    .await;
    let (concert_id, _) = app.concert(&[(3600, 5, 1000)]).await;
    let users = app.users("fifo", 8).await;
    let mut tokens = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let (status, token) = app.join_queue(user, concert_id).await;
        assert_eq!(status, StatusCode::CREATED);
        if i < 2 {
            assert_eq!(token["status"], "ACTIVE", "room for the first two");
        } else {
            assert_eq!(token["status"], "WAITING");
            assert_eq!(token["position"], (i - 1) as i64);
            assert!(token["expiresAt"].is_null());
            assert!(token["estimatedWaitSeconds"].as_u64().unwrap() >= 1);
        }
        tokens.push(token["token"].as_str().unwrap().to_owned());
    }
    // Re-issuing a waiting token keeps its place.
    let (status, again) = app.join_queue(&users[5], concert_id).await;
    assert_eq!(
        (status, again["position"].as_i64()),
        (StatusCode::OK, Some(4))
    );

    // As ACTIVE windows lapse, the line advances strictly in order, never past the cap.
    eventually("everyone admitted in turn", || async {
        let snap = snapshot(&app, concert_id).await;
        assert_fair(&snap, 2);
        snap.iter().all(|(_, s, _)| s != "WAITING")
    })
    .await;
    let (_, last) = app.current_token(&users[7], &tokens[7]).await;
    assert_ne!(last["status"], "WAITING");
    assert_eq!(last["position"], 0);
}

async fn an_expired_token_frees_its_place_for_the_next_in_line(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.queue.max_active_per_concert = 1;
        s.queue.active_ttl_secs = 1;
    })
    .await;
    let (concert_id, _) = app.concert(&[(3600, 5, 1000)]).await;
    let (first, second) = (app.user("holder").await, app.user("next").await);
    let (_, a) = app.join_queue(&first, concert_id).await;
    let (_, b) = app.join_queue(&second, concert_id).await;
    assert_eq!(
        (a["status"].as_str(), b["status"].as_str()),
        (Some("ACTIVE"), Some("WAITING"))
    );
    let (a, b) = (
        a["token"].as_str().unwrap().to_owned(),
        b["token"].as_str().unwrap().to_owned(),
    );
    eventually("the next in line is admitted", || async {
        app.current_token(&second, &b).await.1["status"] == "ACTIVE"
    })
    .await;
    let (status, expired) = app.current_token(&first, &a).await;
    assert_eq!(
        (status, expired["status"].as_str()),
        (StatusCode::OK, Some("EXPIRED"))
    );
    // An expired token is no key to anything, and its holder may queue again.
    let (seat_status, body) = app.seats(&first, &a, concert_id, 1).await;
    assert_code(
        seat_status,
        &body,
        StatusCode::FORBIDDEN,
        "QUEUE_TOKEN_INVALID",
    );
    let (status, fresh) = app.join_queue(&first, concert_id).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(fresh["token"], Value::String(a));
}

async fn queue_guard_refuses_every_bad_token(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.queue.max_active_per_concert = 1).await;
    let (concert_id, schedules) = app.concert(&[(3600, 5, 1000)]).await;
    let (other_concert, _) = app.concert(&[(3600, 5, 1000)]).await;
    let (alice, bob) = (app.user("alice").await, app.user("bobby").await);
    let alice_token = app.admitted(&alice, concert_id).await;
    let (_, waiting) = app.join_queue(&bob, concert_id).await;
    let bob_waiting = waiting["token"].as_str().unwrap().to_owned();
    let alice_other = app.admitted(&alice, other_concert).await;

    let schedule = schedules[0];
    let (status, body) = app.seats(&bob, &bob_waiting, concert_id, schedule).await;
    assert_code(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "QUEUE_TOKEN_NOT_ACTIVE",
    );
    for (user, token) in [
        (&bob, "unknown-token"),
        (&bob, alice_token.as_str()),
        (&alice, alice_other.as_str()),
        (&alice, ""),
    ] {
        let (status, body) = app.seats(user, token, concert_id, schedule).await;
        assert_code(status, &body, StatusCode::FORBIDDEN, "QUEUE_TOKEN_INVALID");
    }
    let missing = app
        .get(&format!(
            "/api/v1/concerts/{concert_id}/schedules/{schedule}/seats"
        ))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    crate::helpers::assert_problem(missing, StatusCode::FORBIDDEN, "QUEUE_TOKEN_INVALID").await;
    let (status, body) = app.seats(&alice, &alice_token, concert_id, 99_999).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");

    // Polling: someone else's or an unknown token is invalid; a waiting one reads fine.
    let (status, body) = app.current_token(&bob, &alice_token).await;
    assert_code(status, &body, StatusCode::FORBIDDEN, "QUEUE_TOKEN_INVALID");
    let (status, body) = app.current_token(&bob, "nope").await;
    assert_code(status, &body, StatusCode::FORBIDDEN, "QUEUE_TOKEN_INVALID");
    let (status, body) = app.current_token(&bob, &bob_waiting).await;
    assert_eq!(
        (status, body["status"].as_str(), body["position"].as_i64()),
        (StatusCode::OK, Some("WAITING"), Some(1))
    );
    let unauthenticated = app
        .post(&format!("/api/v1/concerts/{concert_id}/queue/tokens"))
        .send()
        .await
        .unwrap();
    crate::helpers::assert_problem(unauthenticated, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED")
        .await;
}

async fn joining_an_unknown_concert_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.user("lost").await;
    let (status, body) = app.join_queue(&user, 424_242).await;
    assert_code(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");
}
