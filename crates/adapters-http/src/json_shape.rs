//! Two rules of every JSON request body, applied once in the body guard so
//! that what the OpenAPI document's JSON Schema admits is what the server
//! reads:
//! - the body is a JSON object (serde would otherwise read `[1, 2]` into a
//!   struct's fields by position): anything else is 400 VALIDATION_FAILED;
//! - a whole number written with a fraction or exponent (`2.0`, `1e3`) is the
//!   integer it spells, as in JSON Schema (`2.0` matches `"type": "integer"`);
//!   `2.5` stays a fraction and the field's extractor refuses it.

use actix_web::web::Bytes;
use domain::DomainError;
use serde_json::{Number, Value};

/// The largest magnitude every float spells exactly (2^53).
const EXACT: f64 = 9_007_199_254_740_992.0;

/// The body as the handlers should read it, or why it is refused.
pub(crate) fn normalise(body: Bytes) -> Result<Bytes, DomainError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => return Ok(body),
        Some(b'{') => {}
        Some(_) => return Err(DomainError::validation("the body must be a JSON object")),
    }
    if !has_spelled_number(&body) {
        return Ok(body);
    }
    // Not parseable: the extractor reports it as malformed JSON.
    let Ok(mut value) = serde_json::from_slice::<Value>(&body) else {
        return Ok(body);
    };
    if !whole_floats_to_integers(&mut value) {
        return Ok(body);
    }
    Ok(serde_json::to_vec(&value).map_or(body, Bytes::from))
}

/// Whether a number outside strings has a fraction or exponent (cheap: most
/// bodies have none, and are never parsed here).
fn has_spelled_number(body: &[u8]) -> bool {
    let (mut in_string, mut escaped, mut previous) = (false, false, b' ');
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'.' => return true,
                b'e' | b'E' if previous.is_ascii_digit() => return true,
                _ => {}
            }
        }
        previous = b;
    }
    false
}

/// Rewrites whole floats within ±2^53 as integers; true when any changed.
fn whole_floats_to_integers(value: &mut Value) -> bool {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() == 0.0 && f.abs() <= EXACT {
                *value = Value::Number(Number::from(f as i64));
                return true;
            }
            false
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, v| whole_floats_to_integers(v) || changed),
        Value::Object(members) => members
            .values_mut()
            .fold(false, |changed, v| whole_floats_to_integers(v) || changed),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: &str) -> Result<String, DomainError> {
        normalise(Bytes::from(body.to_owned())).map(|b| String::from_utf8(b.to_vec()).unwrap())
    }

    #[test]
    fn whole_floats_become_integers_and_fractions_stay() {
        let out: Value = serde_json::from_str(&run(r#"{"amount": 3548.0, "n": [1e3, 2.5]}"#).unwrap()).unwrap();
        assert_eq!(out["amount"], serde_json::json!(3548));
        assert!(out["amount"].is_i64());
        assert_eq!(out["n"][0], serde_json::json!(1000));
        assert_eq!(out["n"][1], serde_json::json!(2.5));
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
