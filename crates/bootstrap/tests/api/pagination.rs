//! Cursor pagination of the three lists: `?limit=&after=`, `nextCursor`.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{answer, assert_code, e2e, spawn_app, Backend, TestApp, TestUser};

e2e!(
    concerts_page_by_id_ascending_without_skips_or_repeats,
    reservations_page_newest_first,
    point_history_pages_newest_first_while_it_grows,
    bad_limits_and_cursors_are_validation_failures,
);

/// Reads every page of `path` (`limit` items each) as `user`; `between`
/// runs after each page, to change the list while it is being read.
async fn all_pages(
    app: &TestApp,
    user: Option<&TestUser>,
    path: &str,
    member: &str,
    limit: usize,
    mut between: impl AsyncFnMut(),
) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{path}?limit={limit}");
        if let Some(after) = &cursor {
            url.push_str(&format!("&after={after}"));
        }
        let mut request = app.get(&url);
        if let Some(user) = user {
            request = request.bearer_auth(&user.token);
        }
        let (status, body) = answer(request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body[member].as_array().unwrap().clone();
        assert!(items.len() <= limit, "{body}");
        pages.push(items);
        match body.get("nextCursor") {
            Some(Value::Null) => return pages,
            Some(Value::String(next)) => cursor = Some(next.clone()),
            other => panic!("nextCursor {other:?} in {body}"),
        }
        assert!(pages.len() < 50, "pages never end");
        between().await;
    }
}

fn ids(pages: &[Vec<Value>], key: &str) -> Vec<i64> {
    pages
        .iter()
        .flatten()
        .map(|item| item[key].as_i64().unwrap())
        .collect()
}

async fn concerts_page_by_id_ascending_without_skips_or_repeats(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut existing = Vec::new();
    for _ in 0..5 {
        existing.push(app.concert(&[(3600, 1, 100)]).await.0);
    }
    // A concert created while the list is being read comes after the others.
    let mut added = false;
    let pages = all_pages(&app, None, "/api/v1/concerts", "concerts", 2, async || {
        if !added {
            added = true;
            app.concert(&[(3600, 1, 100)]).await;
        }
    })
    .await;
    let read = ids(&pages, "concertId");
    assert_eq!(read.len(), 6, "{read:?}");
    assert_eq!(&read[..5], &existing[..], "every concert once, by id");
    assert!(read.windows(2).all(|w| w[0] < w[1]), "{read:?}");
    assert_eq!(pages[0].len(), 2);

    // No parameters: the first 100, which is all of them, and no next page.
    let whole: Value = app.get_json("/api/v1/concerts").await;
    assert_eq!(whole.get("nextCursor"), Some(&Value::Null), "{whole}");
    assert_eq!(whole["concerts"].as_array().unwrap().len(), read.len());
    // Exactly `limit` items left: the page holding them is the last.
    let (_, first) = answer(app.get(&format!("/api/v1/concerts?limit={}", read.len()))).await;
    assert_eq!(first.get("nextCursor"), Some(&Value::Null), "{first}");
}

async fn reservations_page_newest_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let (concert_id, schedules) = app.concert(&[(3600, 5, 100)]).await;
    let alice = app.user("alice").await;
    let bob = app.user("bobby").await;
    let token = app.admitted(&alice, concert_id).await;
    let mut held = Vec::new();
    for number in 1..=3 {
        let seat = app
            .seat_id(&alice, &token, concert_id, schedules[0], number)
            .await;
        let (status, body) = app.hold(&alice, &token, schedules[0], seat).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        held.push(body["reservationId"].as_i64().unwrap());
    }
    held.reverse();
    let pages = all_pages(
        &app,
        Some(&alice),
        "/api/v1/reservations",
        "reservations",
        2,
        async || {},
    )
    .await;
    assert_eq!(pages.len(), 2);
    assert_eq!(
        ids(&pages, "reservationId"),
        held,
        "newest first, once each"
    );

    let others = all_pages(
        &app,
        Some(&bob),
        "/api/v1/reservations",
        "reservations",
        2,
        async || {},
    )
    .await;
    assert_eq!(others, vec![Vec::<Value>::new()], "one empty last page");
}

async fn point_history_pages_newest_first_while_it_grows(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.user("saver").await;
    for amount in 1..=5 {
        let (status, body) = app.charge(&user, amount.into(), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let path = format!("/api/v1/users/{}/points/history", user.id);
    // Charges made while the history is read are newer than the first page:
    // later pages neither show them nor repeat what was already read.
    let pages = all_pages(&app, Some(&user), &path, "entries", 2, async || {
        app.charge(&user, 1000.into(), None).await;
    })
    .await;
    let amounts: Vec<i64> = pages
        .iter()
        .flatten()
        .map(|e| e["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, vec![5, 4, 3, 2, 1]);
    assert_eq!(pages.len(), 3);
    assert_eq!(
        app.history(&user).await.len(),
        7,
        "two charges while paging"
    );
}

async fn bad_limits_and_cursors_are_validation_failures(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.user("pager").await;
    for path in [
        "/api/v1/concerts".to_owned(),
        "/api/v1/reservations".to_owned(),
        format!("/api/v1/users/{}/points/history", user.id),
    ] {
        for query in [
            "limit=0",
            "limit=501",
            "limit=-3",
            "limit=ten",
            "after=not-a-cursor",
            "after=",
        ] {
            let (status, body) =
                answer(app.get(&format!("{path}?{query}")).bearer_auth(&user.token)).await;
            assert_code(status, &body, StatusCode::BAD_REQUEST, "VALIDATION_FAILED");
        }
        let (status, body) = answer(
            app.get(&format!("{path}?limit=500"))
                .bearer_auth(&user.token),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body.get("nextCursor"), Some(&Value::Null), "{body}");
    }
}
