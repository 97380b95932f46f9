//! The one query extractor of every paged list (`?limit=&after=`) and the
//! opaque cursor it reads and the list bodies carry as `nextCursor`.

use std::collections::HashMap;
use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use domain::{DomainError, Page, PageRequest, MAX_PAGE_SIZE};

use crate::ApiError;

/// A cursor's version tag: a later encoding can tell old cursors apart.
const CURSOR_TAG: u8 = 1;

/// The page a list request asks for. `limit` outside 1–500, or not a number,
/// and a malformed `after` are 400 VALIDATION_FAILED.
pub struct PageQuery(pub PageRequest);

impl PageQuery {
    fn parse(query: &str) -> Result<PageRequest, DomainError> {
        let params = web::Query::<HashMap<String, String>>::from_query(query)
            .map_err(|e| DomainError::validation(format!("malformed query string: {e}")))?;
        let limit = params
            .get("limit")
            .map(|raw| {
                raw.parse::<u32>().map_err(|_| {
                    DomainError::validation(format!(
                        "limit must be an integer between 1 and {MAX_PAGE_SIZE}"
                    ))
                })
            })
            .transpose()?;
        let after = params.get("after").map(|raw| decode(raw)).transpose()?;
        PageRequest::new(limit, after)
    }
}

impl FromRequest for PageQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            Self::parse(req.query_string())
                .map(Self)
                .map_err(ApiError::from),
        )
    }
}

/// How the OpenAPI document describes the query [`PageQuery`] reads.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // never built: it only documents the query string
pub struct PageParams {
    /// Items per page, 1–500; default 100.
    #[param(minimum = 1, maximum = 500, default = 100)]
    limit: Option<u32>,
    /// The `nextCursor` of the previous page; absent for the first page.
    #[param(pattern = "^01[0-9a-fA-F]{16}$")]
    after: Option<String>,
}

/// The `nextCursor` of a page: null on the last one.
pub fn next_cursor<T>(page: &Page<T>) -> Option<String> {
    page.next_after.map(encode)
}

/// Opaque to clients, so the keyset behind it may change without breaking them.
fn encode(after: i64) -> String {
    let mut bytes = vec![CURSOR_TAG];
    bytes.extend_from_slice(&after.to_be_bytes());
    hex::encode(bytes)
}

fn decode(cursor: &str) -> Result<i64, DomainError> {
    let malformed =
        || DomainError::validation("after: malformed cursor; use a nextCursor as given");
    let bytes = hex::decode(cursor).map_err(|_| malformed())?;
    match bytes.split_first() {
        Some((&CURSOR_TAG, id)) => id
            .try_into()
            .map(i64::from_be_bytes)
            .map_err(|_| malformed()),
        _ => Err(malformed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        for id in [1, 42, i64::MAX] {
            assert_eq!(decode(&encode(id)), Ok(id));
        }
        for bad in ["", "zz", "0100", "02000000000000002a", "abc"] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limit_and_after_from_the_query_string() {
        let page = PageQuery::parse(&format!("limit=2&after={}", encode(9))).unwrap();
        assert_eq!((page.limit(), page.after()), (2, Some(9)));
        assert_eq!(PageQuery::parse("").unwrap().limit(), 100);
        for bad in [
            "limit=0",
            "limit=501",
            "limit=-1",
            "limit=two",
            "after=nope",
        ] {
            assert!(
                matches!(PageQuery::parse(bad), Err(DomainError::Validation(_))),
                "{bad}"
            );
        }
    }
}
