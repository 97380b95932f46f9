//! The buyer page (`/`) and the organiser page (`/admin`), embedded in the
//! binary with their scripts and stylesheet: no build step, no CDN.
//!
//! Assets live under `/assets/{build}/…`, where `build` hashes every embedded
//! file: they are cached for good (`immutable`), and a new binary changes the
//! path. ES modules import each other relatively, so they inherit the hash.
//! The two HTML pages carry the hash and are revalidated on every load (ETag).

use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{middleware, web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../web/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

const ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("buyer.js", JS),
    asset!("buyer-account.js", JS),
    asset!("buyer-sale.js", JS),
    asset!("admin.js", JS),
];

const BUYER_HTML: &str = include_str!("../web/index.html");
const ADMIN_HTML: &str = include_str!("../web/admin.html");

/// Scripts and styles from this origin only; nothing inline, no frames.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// Immutable: the path changes whenever any asset does.
const ASSET_CACHE: &str = "public, max-age=31536000, immutable";

/// Pages: may be cached, but revalidated on every use (cheap with the ETag).
const PAGE_CACHE: &str = "no-cache";

struct Built {
    id: String,
    buyer: Page,
    admin: Page,
}

struct Page {
    html: String,
    etag: String,
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut hasher = Sha256::new();
        for asset in ASSETS {
            hasher.update(asset.name.as_bytes());
            hasher.update(asset.body);
        }
        let id = hex(&hasher.finalize()[..8]);
        let page = |template: &str| {
            let html = template.replace("{{build}}", &id);
            // Weak: the bytes differ once gzip has been applied.
            let etag = format!("W/\"{}\"", hex(&Sha256::digest(html.as_bytes())[..12]));
            Page { html, etag }
        };
        Built {
            buyer: page(BUYER_HTML),
            admin: page(ADMIN_HTML),
            id,
        }
    })
}

/// Registers the pages and their assets, gzip-compressed on request.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/")
            .wrap(middleware::Compress::default())
            .route(web::get().to(buyer_page)),
    )
    .service(
        web::resource("/admin")
            .wrap(middleware::Compress::default())
            .route(web::get().to(admin_page)),
    )
    .service(
        web::resource("/assets/{build}/{name}")
            .wrap(middleware::Compress::default())
            .route(web::get().to(asset)),
    );
}

async fn buyer_page(req: HttpRequest) -> HttpResponse {
    page(&req, &built().buyer)
}

async fn admin_page(req: HttpRequest) -> HttpResponse {
    page(&req, &built().admin)
}

fn page(req: &HttpRequest, page: &'static Page) -> HttpResponse {
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == page.etag));
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, PAGE_CACHE))
        .insert_header((header::ETAG, page.etag.as_str()))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"));
    if fresh {
        response.finish()
    } else {
        response
            .content_type("text/html; charset=utf-8")
            .body(page.html.as_str())
    }
}

async fn asset(path: web::Path<(String, String)>) -> HttpResponse {
    let (build, name) = path.into_inner();
    let found = ASSETS.iter().find(|a| a.name == name);
    match found {
        Some(asset) if build == built().id => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, ASSET_CACHE))
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(asset.body),
        // An old build's asset, or none at all: the page must be reloaded.
        _ => HttpResponse::NotFound()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("text/plain; charset=utf-8")
            .body("no such asset in this build; reload the page"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_name_this_build_and_nothing_inline() {
        let built = built();
        for page in [&built.buyer, &built.admin] {
            assert!(page.html.contains(&format!("/assets/{}/", built.id)));
            assert!(!page.html.contains("{{build}}"));
            assert!(!page.html.contains("<script>"), "inline script");
            assert!(!page.html.contains("style="), "inline style");
        }
    }

    #[test]
    fn scripts_never_parse_html_nor_keep_tokens_in_local_storage() {
        for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            let text = std::str::from_utf8(asset.body).expect("utf-8");
            for banned in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "localStorage",
                "eval(",
            ] {
                assert!(!text.contains(banned), "{} uses {banned}", asset.name);
            }
        }
    }
}
