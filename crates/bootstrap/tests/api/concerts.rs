use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, e2e, spawn_app, spawn_app_with, Backend, ADMIN_KEY};

e2e!(
    admin_creates_a_concert_with_its_seats,
    admin_endpoint_refuses_without_the_key,
    admin_create_validates_every_field,
    schedules_list_only_upcoming_with_free_seats,
    unknown_concert_is_not_found,
);

async fn admin_creates_a_concert_with_its_seats(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .post("/api/v1/admin/concerts")
        .header("X-Admin-Key", ADMIN_KEY)
        .json(&json!({
            "title": "Winter Gala", "venue": "Arts Center",
            "schedules": [
                {"startsAt": "2030-01-02T19:00:00Z", "seatCount": 3, "price": 50000},
                {"startsAt": "2030-01-01T19:00:00+09:00", "seatCount": 2000, "price": 10000000}
            ]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["title"], "Winter Gala");
    assert_eq!(body["venue"], "Arts Center");
    assert_eq!(body["schedules"][0]["seatCount"], 3);
    assert_eq!(body["schedules"][1]["startsAt"], "2030-01-01T10:00:00Z");
    let concert_id = body["concertId"].as_i64().unwrap();

    let list: Value = app.get_json("/api/v1/concerts").await;
    assert_eq!(
        list["concerts"],
        json!([{"concertId": concert_id, "title": "Winter Gala", "venue": "Arts Center",
                "saleOpensAt": body["saleOpensAt"], "maxTicketsPerUser": 4}])
    );

    let schedules: Value = app
        .get_json(&format!("/api/v1/concerts/{concert_id}/schedules"))
        .await;
    let first = &schedules["schedules"][0];
    assert_eq!(first["startsAt"], "2030-01-01T10:00:00Z", "earliest first");
    assert_eq!(first["totalSeats"], 2000);
    assert_eq!(first["availableSeats"], 2000);
    assert_eq!(schedules["schedules"][1]["availableSeats"], 3);

    // Seats 1..seatCount exist, each AVAILABLE, in the seat map.
    let user = app.user("viewer").await;
    let token = app.admitted(&user, concert_id).await;
    let schedule_id = body["schedules"][0]["scheduleId"].as_i64().unwrap();
    let (status, map) = app.seats(&user, &token, concert_id, schedule_id).await;
    assert_eq!(status, StatusCode::OK);
    let numbers: Vec<i64> = map["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["seatNumber"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, vec![1, 2, 3]);
    assert!(map["seats"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "AVAILABLE" && s["price"] == 50000));
}

async fn admin_endpoint_refuses_without_the_key(backend: Backend) {
    let app = spawn_app(backend.clone()).await;
    let body = json!({"title": "t", "venue": "v", "schedules": [{"startsAt": "2030-01-01T00:00:00Z", "seatCount": 1, "price": 1}]});
    for key in [None, Some("wrong"), Some("")] {
        let mut request = app.post("/api/v1/admin/concerts").json(&body);
        if let Some(key) = key {
            request = request.header("X-Admin-Key", key);
        }
        assert_problem(
            request.send().await.unwrap(),
            StatusCode::FORBIDDEN,
            "ADMIN_KEY_INVALID",
        )
        .await;
    }
    // The key is checked before the body: a caller without it learns nothing
    // of the body's rules, whatever it sends.
    for (method, path, body) in [
        ("POST", "/api/v1/admin/concerts", "{}"),
        ("POST", "/api/v1/admin/concerts", "not json"),
        (
            "PATCH",
            "/api/v1/admin/concerts/1/queue",
            r#"{"paused":"x"}"#,
        ),
    ] {
        let response = app
            .client
            .request(method.parse().unwrap(), format!("{}{path}", app.address))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_problem(response, StatusCode::FORBIDDEN, "ADMIN_KEY_INVALID").await;
    }
    let unconfigured = spawn_app_with(backend, |s| s.admin.api_key = None).await;
    let response = unconfigured
        .post("/api/v1/admin/concerts")
        .header("X-Admin-Key", ADMIN_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::FORBIDDEN, "ADMIN_KEY_INVALID").await;
}

async fn admin_create_validates_every_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let schedule = |seats: Value, price: Value| json!({"startsAt": "2030-01-01T00:00:00Z", "seatCount": seats, "price": price});
    let ok = schedule(json!(1), json!(1));
    let cases = [
        json!({"title": "", "venue": "v", "schedules": [ok.clone()]}),
        json!({"title": "t".repeat(201), "venue": "v", "schedules": [ok.clone()]}),
        json!({"title": "t", "venue": "", "schedules": [ok.clone()]}),
        json!({"title": "t", "venue": "v", "schedules": []}),
        json!({"title": "t", "venue": "v", "schedules": vec![ok.clone(); 51]}),
        json!({"title": "t", "venue": "v", "schedules": [schedule(json!(0), json!(1))]}),
        json!({"title": "t", "venue": "v", "schedules": [schedule(json!(2001), json!(1))]}),
        json!({"title": "t", "venue": "v", "schedules": [schedule(json!(1), json!(0))]}),
        json!({"title": "t", "venue": "v", "schedules": [schedule(json!(1), json!(10_000_001))]}),
        json!({"title": "t", "venue": "v", "schedules": [schedule(json!(1), json!(1.5))]}),
        json!({"title": "t", "venue": "v", "schedules": [{"startsAt": "tomorrow", "seatCount": 1, "price": 1}]}),
        json!({"title": "t", "venue": "v"}),
    ];
    for body in cases {
        let response = app
            .post("/api/v1/admin/concerts")
            .header("X-Admin-Key", ADMIN_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_problem(response, StatusCode::BAD_REQUEST, "VALIDATION_FAILED").await;
    }
    let list: Value = app.get_json("/api/v1/concerts").await;
    assert_eq!(list["concerts"], json!([]), "nothing half-created");
}

async fn schedules_list_only_upcoming_with_free_seats(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedules) = app
        .concert(&[(-3600, 5, 1000), (7200, 5, 1000), (3600, 4, 2000)])
        .await;
    let user = app.user("fanny").await;
    let token = app.admitted(&user, concert_id).await;
    let seat = app
        .seat_id(&user, &token, concert_id, schedules[2], 1)
        .await;
    assert_eq!(
        app.hold(&user, &token, schedules[2], seat).await.0,
        StatusCode::CREATED
    );

    let body: Value = app
        .get_json(&format!("/api/v1/concerts/{concert_id}/schedules"))
        .await;
    let listed: Vec<(i64, i64)> = body["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["scheduleId"].as_i64().unwrap(),
                s["availableSeats"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, vec![(schedules[2], 3), (schedules[1], 5)]);
    assert_eq!(body["concertId"], concert_id);
}

async fn unknown_concert_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/api/v1/concerts/999/schedules",
        "/api/v1/concerts/abc/schedules",
    ] {
        assert_problem(
            app.get(path).send().await.unwrap(),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
    }
}
