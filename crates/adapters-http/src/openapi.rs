use std::sync::OnceLock;

use actix_web::App;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, RefOr, Response};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::dto::{ErrorCode, Problem};
use crate::routes::endpoints;

/// The document served at `/api-docs/openapi.json`: [`ApiDoc`]'s front matter
/// plus the operation of every handler in the route list, each error answer
/// with the problem body. Built once, from the same list the server routes.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let (_, mut document) = App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .configure(endpoints)
            .split_for_parts();
        ErrorsAreProblems.modify(&mut document);
        document
    })
}

/// What of the document no handler declares: its description of the
/// contract's choices, the security scheme and the problem schema. The paths
/// are added from the route list by [`document`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Concert reservation service",
        description = "Sign up, queue for a concert, hold a seat and pay with points.\n\n\
Choices where the contract is silent:\n\
- Every error is application/problem+json with a `code`. A non-integer id in a path is 404 NOT_FOUND; an unknown route is 404 NOT_FOUND; a JSON body over 16 KiB is 413 PAYLOAD_TOO_LARGE; a body that is not `application/json` is 400 VALIDATION_FAILED.\n\
- 429 TOO_MANY_ATTEMPTS carries `Retry-After` (seconds). A successful login clears the failure count.\n\
- An unknown login id is verified against a dummy Argon2id hash of the same parameters, so it costs what a wrong password does. A password that breaks the sign-up rules is refused without hashing, for known and unknown ids alike.\n\
- Per-client-IP limits (sign-up, login, queue join; off unless configured, counted per instance) answer 429 TOO_MANY_REQUESTS with `Retry-After` (seconds) before anything else is checked; the client IP comes from `X-Forwarded-For` only when the peer is a configured trusted proxy.\n\
- The seat map and seat holds answer 404 for a schedule or seat that does not exist before looking at the queue token.\n\
- Idempotency-Key: requests are the same when method, path and JSON body (keys sorted) are; 2xx and 4xx answers are kept and replayed, a 5xx releases the key so a retry runs again; a claim left in flight for 60 s by a crashed request may be taken over.\n\
- Point history `amount` is signed: PAYMENT entries are negative, so the balance is the sum of the amounts.\n\
- Timestamps have millisecond precision.\n\
- Any endpoint whose store (the database, or Redis for the queue) does not answer replies 503 SERVICE_UNAVAILABLE within a few seconds.\n\
- With several holds racing for one seat, exactly one wins; the others get 409 SEAT_UNAVAILABLE at once (no server-side retry).\n\
- Payments: a body with both or neither of `reservationId` and `reservationIds` is 400 VALIDATION_FAILED. For several ids the checks run in this order: the list itself (400), every reservation the caller's (404), one concert and no mixing of offers with holds (400), the queue token (403, not for offers), any expired (409 RESERVATION_EXPIRED), any paid, cancelled or refunded (409 RESERVATION_NOT_PAYABLE), the balance (409 INSUFFICIENT_BALANCE).\n\
- Waiting list: joining needs no queue token. A joiner who already has a live (WAITING or OFFERED) entry for the schedule gets it back with 200. `nextCursor` is an opaque string; a malformed `limit` or `after` is 400 VALIDATION_FAILED. An offered hold also shows in the caller's reservations; paying it takes `reservationIds`/`reservationId` like any hold, but never together with ordinary holds.\n\
- Refunds: a refund's Idempotency-Key request is identified by method and path (the body is ignored). A refunded payment's reservations read REFUNDED; a refunded reservation is never payable again.\n\
- On-sale: `saleOpensAt` may lie in the past (the sale is then open at once, with no pre-queue). A WAITING token issued after the opening but before the pre-queue is drawn counts the pre-queue in its `position`. `pollAfterMs` for WAITING is 250 + 5 per place ahead, capped at 30000; for PREQUEUE the time left to the opening, within 250-30000. The admin queue PATCH checks the key, then the concert (404), then the body's ranges (400); an empty body changes nothing. The sales view's `queue` block is read from the queue's store (Redis when the queue lives there) right after the seats' snapshot.\n\
- Responses are compressed (gzip, deflate, br or zstd as built) when the request's `Accept-Encoding` allows it. CORS is off unless origins are configured (`APP__CORS__ALLOWED_ORIGINS`); then those origins may call with the headers this API reads, and `Retry-After` and `X-Request-Id` are exposed.\n\
- /metrics names start with `concert_` and carry units (`_seconds`, `_total`): concert_http_requests_total, concert_http_request_duration_seconds, concert_reservations_total, concert_payments_total, concert_queue_admitted_total (counters of this instance's work: sum them across instances), concert_queue_waiting_tokens{concert_id} (a global value every instance reports alike: take the max, not the sum), concert_db_pool_connections{state} and concert_build_info{version}.\n\
- Lists are paged by keyset on the id (concerts ascending, the rest newest first): `limit` 1–500 (default 100; not an integer or out of range: 400 VALIDATION_FAILED), `after` a `nextCursor` exactly as received (opaque; anything else: 400 VALIDATION_FAILED). A page may be shorter than `limit` only when it is the last one; `nextCursor` is null on the last page. A cursor stays valid forever; items added after the first page was read appear only at the end of an ascending list and never in a newest-first list already being read. Other query parameters are ignored.\n\
- Limits are stated as JSON Schema on each field and parameter. Integers are JSON Schema integers: a whole number written with a fraction or exponent (`1.0`, `1e3`) is that integer, `1.5` is 400 VALIDATION_FAILED. A request body must be a JSON object (an array is 400). Errors the HTTP parser meets before any route (a malformed request head: 400; a head too large: 431; a request line over 8 KiB: 414; a head not received within 5 s: 408) are problem+json too. Ids in paths are documented as 1 to 2^53-1; anything else names nothing (404).\n\
- A schedule's `startsAt` must be in the future and at most 10 years (of 365 days) ahead: else 400 VALIDATION_FAILED.\n\
- A string containing U+0000 anywhere in a JSON body is 400 VALIDATION_FAILED on every endpoint, before authentication.\n\
- A token whose user does not exist (a database reset with a shared secret) is 401 UNAUTHENTICATED; an instance may trust a user it confirmed within the last 10 seconds.\n\
- A wrong method on a known path is 405 METHOD_NOT_ALLOWED with `Allow`. A request body not received within 5 s is 408 REQUEST_TIMEOUT. A request not answered within 30 s (a frozen database link), one stuck more than 5 s on a database lock, or one waiting more than 3 s for a database connection, is 503 SERVICE_UNAVAILABLE; so is, at once, a request beyond the instance's limit of requests in flight (`APP__SERVER__MAX_REQUESTS_IN_FLIGHT`, 1024 by default; the health probes and /metrics are never refused), and a queue join or token poll beyond half of that limit, so that admitted buyers keep room in a rush (a refused poll keeps its place in line). Every 503 carries `Retry-After`.\n\
- Idempotency-Key: a charge or payment keeps its answer in the same transaction as the money it moves, so after a crash a retry with the key returns the committed answer; if a request's claim was taken over (after 60 s) the slower run is rolled back with 409 IDEMPOTENCY_KEY_IN_FLIGHT and moves no money.",
        version = "1.0.0"
    ),
    // The paths and the schemas they name come from the route list
    // (`routes::endpoints`); only what no handler names is listed here.
    components(schemas(Problem, ErrorCode)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

/// The contract answers every error as `application/problem+json` with a
/// [`Problem`] body, so a handler declares an error answer by its status and
/// description alone (`(status = 404, description = "NOT_FOUND")`) and the
/// body is filled in here, once.
struct ErrorsAreProblems;

impl Modify for ErrorsAreProblems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let operations = openapi.paths.paths.values_mut().flat_map(|item| {
            [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ]
            .into_iter()
            .flatten()
        });
        for operation in operations {
            for (status, response) in operation.responses.responses.iter_mut() {
                let is_error = status.starts_with('4') || status.starts_with('5');
                if let (true, RefOr::T(response)) = (is_error, response) {
                    with_problem_body(response);
                }
            }
        }
    }
}

/// Gives an error answer the problem body unless the handler declared its own.
fn with_problem_body(response: &mut Response) {
    if response.content.is_empty() {
        response.content.insert(
            "application/problem+json".to_owned(),
            Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                "Problem",
            )))),
        );
    }
}

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

#[cfg(test)]
mod snapshot {
    use super::document;

    /// The reviewed copy of the document, kept in the repository.
    const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

    /// Every endpoint, schema and limit the server documents is in
    /// `docs/openapi.json`, so a change to the contract shows in review as a
    /// diff of that file. `UPDATE_OPENAPI=1 cargo test -p adapters-http` rewrites it.
    #[test]
    fn the_document_matches_the_reviewed_snapshot() {
        let current = document()
            .to_pretty_json()
            .expect("the OpenAPI document serialises");
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(SNAPSHOT, format!("{current}\n")).expect("write docs/openapi.json");
            return;
        }
        let reviewed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
        assert!(
            reviewed.trim_end() == current,
            "docs/openapi.json differs from the document the server serves; \
             review the change and run `UPDATE_OPENAPI=1 cargo test -p adapters-http` to accept it"
        );
    }
}

#[cfg(test)]
mod problem_bodies {
    use serde_json::{json, Value};
    use utoipa::openapi::path::{HttpMethod, Operation, PathItem};
    use utoipa::openapi::{Content, OpenApi, Paths, Response};
    use utoipa::Modify;

    use super::ErrorsAreProblems;

    fn responses_after_modify(operation: Operation) -> Value {
        let mut openapi = OpenApi::new(
            utoipa::openapi::Info::new("t", "1"),
            Paths::builder().path("/x", PathItem::new(HttpMethod::Get, operation)),
        );
        ErrorsAreProblems.modify(&mut openapi);
        serde_json::to_value(&openapi.paths.paths["/x"].get.as_ref().unwrap().responses).unwrap()
    }

    /// An error answer declared by status and description gets the problem
    /// body; a success, or an error whose body the handler declared, is left
    /// as declared.
    #[test]
    fn only_bare_error_answers_get_the_problem_body() {
        let mut operation = Operation::new();
        operation
            .responses
            .responses
            .insert("200".into(), Response::new("ok").into());
        operation
            .responses
            .responses
            .insert("404".into(), Response::new("NOT_FOUND").into());
        let mut own = Response::new("TEXT");
        own.content.insert(
            "text/plain".into(),
            Content::new(None::<utoipa::openapi::Schema>),
        );
        operation
            .responses
            .responses
            .insert("503".into(), own.into());

        let problem = json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
        let responses = responses_after_modify(operation);
        assert_eq!(responses["200"], json!({"description": "ok"}));
        assert_eq!(
            responses["404"],
            json!({"description": "NOT_FOUND", "content": problem})
        );
        assert_eq!(
            responses["503"],
            json!({"description": "TEXT", "content": {"text/plain": {}}})
        );
    }
}
