//! Two rules of every JSON request body, applied once in the body guard so
//! that what the OpenAPI document's JSON Schema admits is what the server
//! reads:
//! - the body is a JSON object (serde would otherwise read `[1, 2]` into a
//!   struct's fields by position): anything else fails when the handler's
//!   JSON extractor reads it, so it is 400 VALIDATION_FAILED in the
//!   extractor's turn (after the admin key, say), not before;
//! - a whole number written with a fraction or exponent (`2.0`, `1e3`) is the
//!   integer it spells, as in JSON Schema (`2.0` matches `"type": "integer"`);
//!   `2.5` stays a fraction and the field's extractor refuses it.

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use domain::DomainError;

/// The payload the handlers read, and its length when it is the (possibly
/// rewritten) body: see the module's rules.
pub(crate) fn payload(body: Bytes) -> (Payload, Option<usize>) {
    match normalise(body) {
        Ok(body) => {
            let length = body.len();
            (Payload::from(body), Some(length))
        }
        Err(refused) => {
            let error = PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                refused.to_string(),
            ));
            let stream = futures::stream::once(async move { Err(error) });
            (
                Payload::Stream {
                    payload: Box::pin(stream),
                },
                None,
            )
        }
    }
}

/// The largest magnitude a whole number is rewritten at (2^53, the integers
/// every JSON client holds exactly; the document's bounds are within it).
const EXACT: u64 = 9_007_199_254_740_992;

/// The body as the handlers should read it, or why it is refused.
pub(crate) fn normalise(body: Bytes) -> Result<Bytes, DomainError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => return Ok(body),
        Some(b'{') => {}
        Some(_) => return Err(DomainError::validation("the body must be a JSON object")),
    }
    Ok(whole_numbers_as_integers(&body).map_or(body, Bytes::from))
}

/// The body with every number token outside strings that spells a whole
/// number within ±2^53 with a fraction or exponent rewritten as an integer
/// token; `None` when there is none (most bodies: nothing is copied). Works
/// on the text, so digits are exact and everything else is kept byte for byte.
fn whole_numbers_as_integers(body: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let (mut i, mut copied) = (0, 0);
    let mut in_string = false;
    while i < body.len() {
        let b = body[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if b == b'-' || b.is_ascii_digit() {
            let end = body[i..]
                .iter()
                .position(|c| !(c.is_ascii_digit() || b".eE+-".contains(c)))
                .map_or(body.len(), |n| i + n);
            if let Some(integer) = whole(&body[i..end]) {
                let out = out.get_or_insert_with(|| Vec::with_capacity(body.len()));
                out.extend_from_slice(&body[copied..i]);
                out.extend_from_slice(integer.as_bytes());
                copied = end;
            }
            i = end;
            continue;
        }
        i += 1;
    }
    let mut out = out?;
    out.extend_from_slice(&body[copied..]);
    Some(out)
}

/// The integer a number token spells, if it has a fraction or exponent and
/// is whole and within ±2^53.
fn whole(token: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(token).ok()?;
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (mantissa, None),
    };
    if frac.is_none() && exponent.is_none() {
        return None; // already an integer token
    }
    let frac = frac.unwrap_or("");
    let valid = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if !valid(int) || (mantissa.contains('.') && !valid(frac)) {
        return None; // malformed: the extractor says so
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if !valid(digits) || digits.len() > 4 {
                return None;
            }
            e.parse().ok()?
        }
    };
    // value = digits × 10^shift
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    let shift = exponent - frac.len() as i64;
    let integer = if digits.is_empty() {
        "0".to_owned()
    } else if shift >= 0 {
        if digits.len() as i64 + shift > 16 {
            return None;
        }
        format!("{digits}{}", "0".repeat(shift as usize))
    } else {
        let cut = digits.len().checked_sub((-shift) as usize)?;
        let (kept, dropped) = digits.split_at(cut);
        if dropped.bytes().any(|b| b != b'0') {
            return None; // a fraction
        }
        if kept.is_empty() {
            "0".to_owned()
        } else {
            kept.to_owned()
        }
    };
    if integer.len() > 16 || integer.parse::<u64>().ok()? > EXACT {
        return None;
    }
    Some(if negative && integer != "0" {
        format!("-{integer}")
    } else {
        integer
    })
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn run(body: &str) -> Result<String, DomainError> {
        normalise(Bytes::from(body.to_owned())).map(|b| String::from_utf8(b.to_vec()).unwrap())
    }

    #[test]
    fn whole_floats_become_integers_and_fractions_stay() {
        let out: Value = serde_json::from_str(
            &run(r#"{"amount": 3548.0, "n": [1e3, 2.5, -0.0, 12.50e1]}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(out["amount"], serde_json::json!(3548));
        assert!(out["amount"].is_i64());
        assert_eq!(out["n"][0], serde_json::json!(1000));
        assert_eq!(out["n"][1], serde_json::json!(2.5));
        assert_eq!(out["n"][2], serde_json::json!(0));
        assert_eq!(out["n"][3], serde_json::json!(125));
        // Past 2^53, or a fraction: left for the extractor to refuse.
        let kept = r#"{"a": 9007199254740993.0, "b": 1e300, "c": 0.5, "d": "1.0"}"#;
        assert_eq!(run(kept).unwrap(), kept);
        let big: Value =
            serde_json::from_str(&run(r#"{"seatId": 9007199254740991.0}"#).unwrap()).unwrap();
        assert_eq!(big["seatId"], serde_json::json!(9_007_199_254_740_991_i64));
    }

    #[test]
    fn bodies_without_spelled_numbers_pass_untouched() {
        for body in [
            r#"{"amount": 10}"#,
            r#"{"title": "v1.0 tour", "startsAt": "2030-01-01T00:00:00.000Z", "price": 1}"#,
            r#"{"ok": true, "e": false}"#,
            "",
            "  ",
        ] {
            assert_eq!(run(body).unwrap(), body);
        }
    }

    #[test]
    fn only_objects_are_bodies() {
        for body in ["[null, null]", "[1]", "1", "\"x\"", "null", " true"] {
            assert!(run(body).is_err(), "{body}");
        }
    }
}
