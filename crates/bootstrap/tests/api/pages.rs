//! The web pages over plain HTTP: what the browser is told about caching,
//! compression and the scripts it may run.

use reqwest::header;
use reqwest::StatusCode;

use crate::helpers::{e2e_on, spawn_app, Backend};

e2e_on!([sqlite] pages_are_served_with_a_strict_policy, assets_are_hashed_cached_and_gzipped);

async fn pages_are_served_with_a_strict_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/", "/admin"] {
        let response = app.get(path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert!(headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(!csp.contains("unsafe-eval"), "{csp}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
        let etag = headers[header::ETAG].to_str().unwrap().to_owned();
        let html = response.text().await.unwrap();
        assert!(html.contains("<script type=\"module\" src=\"/assets/"));

        // A page the browser already has costs a 304 and no body.
        let again = app
            .get(path)
            .header(header::IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.bytes().await.unwrap().is_empty());
    }
}

async fn assets_are_hashed_cached_and_gzipped(backend: Backend) {
    let app = spawn_app(backend).await;
    let html = app.get("/").send().await.unwrap().text().await.unwrap();
    let start = html.find("/assets/").expect("an asset path");
    let build = html[start + "/assets/".len()..]
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    for name in ["buyer.js", "buyer-sale.js", "admin.js", "app.css"] {
        let response = app
            .get(&format!("/assets/{build}/{name}"))
            .header(header::ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_ENCODING], "gzip", "{name}");
        assert!(headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable"));
        let expected = if name.ends_with(".js") {
            "text/javascript"
        } else {
            "text/css"
        };
        assert!(headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with(expected));
    }
    // Another build's file, or no such file: 404, never a stale copy.
    for path in [
        "/assets/0000000000000000/buyer.js",
        &format!("/assets/{build}/nope.js"),
    ] {
        let response = app.get(path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}
