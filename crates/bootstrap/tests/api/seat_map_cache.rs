//! The seat map's validators and encodings: an `ETag` that holds until a seat
//! changes, 304 on `If-None-Match`, gzip when asked.

use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY,
};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

use crate::helpers::{assert_problem, e2e, e2e_postgres, spawn_app, Backend, TestApp, TestUser};

e2e!(
    etag_holds_until_a_hold_and_revalidation_answers_304,
    gzip_only_when_asked,
    revalidation_still_needs_an_active_token,
);
e2e_postgres!(instances_agree_on_the_etag,);

fn map_request(
    app: &TestApp,
    user: &TestUser,
    token: &str,
    concert_id: i64,
    schedule_id: i64,
) -> RequestBuilder {
    app.get(&format!(
        "/api/v1/concerts/{concert_id}/schedules/{schedule_id}/seats"
    ))
    .bearer_auth(&user.token)
    .header("X-Queue-Token", token)
}

/// A 200 answer's ETag and JSON body.
async fn read(request: RequestBuilder) -> (String, Value) {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with("W/\"") && etag.ends_with('"'),
        "weak validator: {etag}"
    );
    assert_eq!(response.headers()[CACHE_CONTROL], "private, no-cache");
    (etag, response.json().await.unwrap())
}

fn status_of(map: &Value, seat_id: i64) -> &str {
    map["seats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["seatId"] == seat_id)
        .and_then(|s| s["status"].as_str())
        .unwrap()
}

async fn etag_holds_until_a_hold_and_revalidation_answers_304(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedules) = app.concert(&[(86_400, 20, 1000)]).await;
    let schedule_id = schedules[0];
    let user = app.user("etag").await;
    let token = app.admitted(&user, concert_id).await;
    let get = || map_request(&app, &user, &token, concert_id, schedule_id);

    let (first, map) = read(get()).await;
    assert_eq!(map["seats"].as_array().unwrap().len(), 20);
    let (again, same_map) = read(get()).await;
    assert_eq!(again, first, "unchanged map, unchanged ETag");
    assert_eq!(same_map, map);

    let response = get().header(IF_NONE_MATCH, &first).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(response.headers()[ETAG].to_str().unwrap(), first);
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "304 has no body"
    );

    // A hold changes the map: a new ETag at once (this instance's own write),
    // and the old one no longer revalidates.
    let seat_id = map["seats"][3]["seatId"].as_i64().unwrap();
    let (status, body) = app.hold(&user, &token, schedule_id, seat_id).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (after, held_map) = read(get().header(IF_NONE_MATCH, &first)).await;
    assert_ne!(after, first);
    assert_eq!(status_of(&held_map, seat_id), "HELD");
    let response = get().header(IF_NONE_MATCH, &after).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    // A list of validators and `*` revalidate too.
    let listed = format!("W/\"0\", {after}");
    for value in [listed.as_str(), "*"] {
        let response = get().header(IF_NONE_MATCH, value).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{value}");
    }
}

async fn gzip_only_when_asked(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedules) = app.concert(&[(86_400, 500, 1000)]).await;
    let user = app.user("gzip").await;
    let token = app.admitted(&user, concert_id).await;
    let get = || map_request(&app, &user, &token, concert_id, schedules[0]);

    let plain = get().send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    let plain_etag = plain.headers()[ETAG].clone();
    let json: Value = plain.json().await.unwrap();
    assert_eq!(json["seats"].as_array().unwrap().len(), 500);
    let plain_len = serde_json::to_vec(&json).unwrap().len();

    for _ in 0..2 {
        let zipped = get().header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
        assert_eq!(zipped.status(), StatusCode::OK);
        assert_eq!(zipped.headers()[CONTENT_ENCODING], "gzip");
        assert_eq!(zipped.headers()[VARY], "Accept-Encoding");
        assert_eq!(zipped.headers()[ETAG], plain_etag, "one validator for both");
        let bytes = zipped.bytes().await.unwrap();
        assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip stream");
        assert!(
            bytes.len() * 4 < plain_len,
            "{} of {plain_len}",
            bytes.len()
        );
    }
    let refused = get()
        .header(ACCEPT_ENCODING, "gzip;q=0")
        .send()
        .await
        .unwrap();
    assert!(refused.headers().get(CONTENT_ENCODING).is_none());
}

async fn revalidation_still_needs_an_active_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedules) = app.concert(&[(86_400, 5, 1000)]).await;
    let user = app.user("reval").await;
    let token = app.admitted(&user, concert_id).await;
    let (etag, _) = read(map_request(&app, &user, &token, concert_id, schedules[0])).await;

    let other = app.user("stranger").await;
    let response = map_request(&app, &other, &token, concert_id, schedules[0])
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::FORBIDDEN, "QUEUE_TOKEN_INVALID").await;
    let response = app
        .get(&format!(
            "/api/v1/concerts/{concert_id}/schedules/{}/seats",
            schedules[0]
        ))
        .header(IF_NONE_MATCH, &etag)
        .header("X-Queue-Token", &token)
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

async fn instances_agree_on_the_etag(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = app.sibling().await;
    let (concert_id, schedules) = app.concert(&[(86_400, 30, 1000)]).await;
    let user = app.user("twice").await;
    let token = app.admitted(&user, concert_id).await;
    let (here, _) = read(map_request(&app, &user, &token, concert_id, schedules[0])).await;
    let (there, _) = read(map_request(&other, &user, &token, concert_id, schedules[0])).await;
    assert_eq!(
        here, there,
        "the validator is the content's, not the instance's"
    );
    let response = map_request(&other, &user, &token, concert_id, schedules[0])
        .header(IF_NONE_MATCH, &here)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
}
