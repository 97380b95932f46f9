//! Every request body passes here before any extractor: it is read within a
//! deadline (a client trickling its body gets 408, not a socket held open),
//! within the size limit, and a JSON string carrying U+0000 is refused in
//! this one place for every endpoint (PostgreSQL cannot store it in text).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::{self, BytesMut};
use actix_web::{Error, HttpMessage};
use domain::DomainError;
use futures::StreamExt;

use crate::routes::MAX_JSON_BYTES;
use crate::{ApiError, AppState, HttpLimits};

/// Buffers the body (if any), checks it, and hands it on unchanged.
pub async fn body_guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    // No body, or one the extractor refuses by its declared length alone.
    let passes_untouched = match declared {
        Some(len) => len == 0 || len > MAX_JSON_BYTES as u64,
        None => !chunked,
    };
    if passes_untouched {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let limit = req.app_data::<web::Data<AppState>>().map_or_else(
        || HttpLimits::default().body_timeout,
        |s| s.timeouts.body_timeout,
    );
    let mut payload = req.take_payload();
    let read = async {
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::Http(StatusCode::BAD_REQUEST, format!("unreadable body: {e}"))
            })?;
            if body.len() + chunk.len() > MAX_JSON_BYTES {
                return Err(ApiError::PayloadTooLarge(format!(
                    "JSON bodies are limited to {MAX_JSON_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    let body = match tokio::time::timeout(limit, read).await {
        Ok(body) => body?,
        Err(_) => {
            return Err(ApiError::Http(
                StatusCode::REQUEST_TIMEOUT,
                format!("the body did not arrive within {} ms", limit.as_millis()),
            )
            .into())
        }
    };
    if carries_nul(&body) {
        return Err(
            ApiError::from(DomainError::validation("strings must not contain U+0000")).into(),
        );
    }
    let (payload, length) = crate::json_shape::payload(body);
    if let (Some(_), Some(length)) = (declared, length) {
        req.headers_mut()
            .insert(header::CONTENT_LENGTH, header::HeaderValue::from(length));
    }
    req.set_payload(payload);
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// True when the body is JSON with U+0000 in a string or a member name. Only
/// bodies with the escape in them are parsed: most are never parsed twice.
fn carries_nul(body: &[u8]) -> bool {
    const ESCAPE: &[u8] = b"\\u0000";
    if !body.windows(ESCAPE.len()).any(|w| w == ESCAPE) {
        return false;
    }
    serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| has_nul(&v))
}

fn has_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(members) => members.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_anywhere_in_a_json_string_and_only_there() {
        assert!(carries_nul(br#"{"loginId":"ab\u0000cd"}"#));
        assert!(carries_nul(br#"{"a":[1,{"b":"\u0000"}]}"#));
        assert!(carries_nul(br#"{"\u0000":1}"#));
        // An escaped backslash followed by "u0000" is six ordinary characters.
        assert!(!carries_nul(br#"{"a":"\\u0000"}"#));
        assert!(!carries_nul(br#"{"a":"plain"}"#));
        // Not JSON: left to the extractor to call malformed.
        assert!(!carries_nul(br#"{"a":"\u0000"#));
    }
}
