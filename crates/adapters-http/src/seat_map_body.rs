//! Seat-map answers as ready bytes: a schedule's map is the same for every
//! reader until a seat changes, so it is serialised (and gzipped, when a
//! client asks) once per change, not once per request, and carries an `ETag`
//! that lets a client revalidate with `If-None-Match` for a bodiless 304.
//!
//! The bytes are keyed by the map's content, not by time: each request still
//! gets its map from the use case (itself served from the short-lived seat
//! cache), and the stored answer is reused only when its seats are exactly
//! the ones of that map. So these bytes are never staler than the map, and
//! the `ETag`, a hash of the content, is the same on every instance.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::http::header::HeaderValue;
use actix_web::web::Bytes;
use application::SeatMap;
use domain::seat::{Seat, SeatStatus};

use crate::dto::{SeatMapResponse, SeatView};

/// Schedules kept at once; past this the memory is emptied and refills on demand.
const SCHEDULES_MAX: usize = 256;

/// One schedule's answer, rendered once.
pub(crate) struct Rendered {
    schedule_id: i64,
    /// The rows and statuses it was rendered from; replaced by equal ones
    /// read later, so that the next readers match by pointer (O(1)).
    source: Mutex<Source>,
    /// A weak validator (`W/"…"`): the same for the identity and gzip bodies.
    pub etag: HeaderValue,
    /// The JSON body.
    pub json: Bytes,
    gzip: OnceLock<Bytes>,
}

/// A map's rows and statuses, as the use case shares them.
struct Source {
    rows: Arc<[Seat]>,
    statuses: Arc<[SeatStatus]>,
}

/// Whether two row sets show the same seats (the fields of [`SeatView`]
/// other than the status, which is compared on its own).
fn same_seats(a: &[Seat], b: &[Seat]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(a, b)| (a.id, a.seat_number, a.price) == (b.id, b.seat_number, b.price))
}

impl Rendered {
    fn render(map: &SeatMap) -> Result<Self, serde_json::Error> {
        let response = SeatMapResponse {
            schedule_id: map.schedule_id.0,
            seats: map.shown().map(SeatView::from).collect(),
        };
        let json = Bytes::from(serde_json::to_vec(&response)?);
        let mut hasher = DefaultHasher::new();
        map.schedule_id.0.hash(&mut hasher);
        for (seat, status) in map.shown() {
            (
                seat.id.0,
                seat.seat_number,
                seat.price.value(),
                status.as_str(),
            )
                .hash(&mut hasher);
        }
        let etag = HeaderValue::from_str(&format!("W/\"{:016x}\"", hasher.finish()))
            .unwrap_or_else(|_| HeaderValue::from_static("W/\"0\""));
        Ok(Self {
            schedule_id: map.schedule_id.0,
            source: Mutex::new(Source {
                rows: map.seats.clone(),
                statuses: map.statuses.clone(),
            }),
            etag,
            json,
            gzip: OnceLock::new(),
        })
    }

    /// Whether this answer shows exactly `map`: the same rows and statuses,
    /// by pointer while the use case hands out the same ones (no seat is
    /// looked at), else by value, once per new row set or status list.
    fn shows(&self, map: &SeatMap) -> bool {
        if self.schedule_id != map.schedule_id.0 {
            return false;
        }
        let mut source = self.source.lock().unwrap_or_else(|e| e.into_inner());
        if Arc::ptr_eq(&source.rows, &map.seats) && Arc::ptr_eq(&source.statuses, &map.statuses) {
            return true;
        }
        let same = source.statuses == map.statuses && same_seats(&source.rows, &map.seats);
        if same {
            *source = Source {
                rows: map.seats.clone(),
                statuses: map.statuses.clone(),
            };
        }
        same
    }

    /// The JSON body gzipped, compressed on first use.
    pub fn gzip(&self) -> &Bytes {
        self.gzip.get_or_init(|| {
            let mut encoder = flate2::write::GzEncoder::new(
                Vec::with_capacity(self.json.len() / 4),
                flate2::Compression::default(),
            );
            // Writing to a Vec cannot fail.
            let _ = encoder.write_all(&self.json);
            Bytes::from(encoder.finish().unwrap_or_default())
        })
    }

    /// Whether an `If-None-Match` value names this answer (weak comparison).
    pub fn matches(&self, if_none_match: &HeaderValue) -> bool {
        let Ok(listed) = if_none_match.to_str() else {
            return false;
        };
        let ours = opaque(self.etag.to_str().unwrap_or_default());
        listed
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || opaque(tag) == ours)
    }
}

/// An entity tag without its weakness marker.
fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// The last rendered answer of each schedule this instance served.
#[derive(Default)]
pub struct SeatMapBodies {
    schedules: Mutex<HashMap<i64, Arc<Rendered>>>,
}

impl SeatMapBodies {
    /// The rendered answer for `map`: the stored one if it shows exactly
    /// these seats, else a new one (stored for the next reader).
    pub(crate) fn answer(&self, map: &SeatMap) -> Result<Arc<Rendered>, serde_json::Error> {
        let stored = {
            let schedules = self.schedules.lock().unwrap_or_else(|e| e.into_inner());
            schedules.get(&map.schedule_id.0).cloned()
        };
        if let Some(rendered) = stored.filter(|r| r.shows(map)) {
            return Ok(rendered);
        }
        let rendered = Arc::new(Rendered::render(map)?);
        let mut schedules = self.schedules.lock().unwrap_or_else(|e| e.into_inner());
        if schedules.len() >= SCHEDULES_MAX {
            schedules.clear();
        }
        schedules.insert(map.schedule_id.0, rendered.clone());
        Ok(rendered)
    }
}

/// Whether an `Accept-Encoding` value accepts gzip (by name or `*`, q > 0).
pub(crate) fn accepts_gzip(accept_encoding: Option<&HeaderValue>) -> bool {
    let Some(value) = accept_encoding.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{ScheduleId, SeatId, Won};

    fn map(statuses: &[SeatStatus]) -> SeatMap {
        SeatMap {
            schedule_id: ScheduleId(7),
            seats: statuses
                .iter()
                .enumerate()
                .map(|(i, &status)| Seat {
                    id: SeatId(i as i64 + 1),
                    schedule_id: ScheduleId(7),
                    seat_number: i as u32 + 1,
                    price: Won::price(1000).unwrap(),
                    status,
                    hold_expires_at: None,
                    version: 0,
                })
                .collect(),
            statuses: statuses.into(),
        }
    }

    #[test]
    fn one_rendering_per_content() {
        let bodies = SeatMapBodies::default();
        let free = map(&[SeatStatus::Available, SeatStatus::Available]);
        let first = bodies.answer(&free).unwrap();
        let again = bodies.answer(&free).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        // Equal rows read afresh (a new cache entry) reuse the answer too.
        let reread = map(&[SeatStatus::Available, SeatStatus::Available]);
        assert!(Arc::ptr_eq(&first, &bodies.answer(&reread).unwrap()));
        let held = map(&[SeatStatus::Held, SeatStatus::Available]);
        let changed = bodies.answer(&held).unwrap();
        assert!(!Arc::ptr_eq(&first, &changed));
        assert_ne!(first.etag, changed.etag);
        let body: serde_json::Value = serde_json::from_slice(&changed.json).unwrap();
        assert_eq!(body["seats"][0]["status"], "HELD");
        // The same content renders the same validator, on any instance.
        let elsewhere = SeatMapBodies::default().answer(&held).unwrap();
        assert_eq!(elsewhere.etag, changed.etag);
    }

    #[test]
    fn gzip_body_inflates_to_the_json() {
        use std::io::Read;
        let rendered = SeatMapBodies::default()
            .answer(&map(&[SeatStatus::Sold; 50]))
            .unwrap();
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(&rendered.gzip()[..])
            .read_to_end(&mut inflated)
            .unwrap();
        assert_eq!(inflated, rendered.json.to_vec());
        assert!(rendered.gzip().len() < rendered.json.len());
    }

    #[test]
    fn if_none_match_and_accept_encoding() {
        let rendered = SeatMapBodies::default()
            .answer(&map(&[SeatStatus::Available]))
            .unwrap();
        let etag = rendered.etag.to_str().unwrap().to_owned();
        let strong = etag.trim_start_matches("W/").to_owned();
        for value in [
            etag.as_str(),
            strong.as_str(),
            "*",
            &format!("\"x\", {etag}"),
        ] {
            assert!(
                rendered.matches(&HeaderValue::from_str(value).unwrap()),
                "{value}"
            );
        }
        assert!(!rendered.matches(&HeaderValue::from_static("W/\"0\"")));
        let accepts = |v: &'static str| accepts_gzip(Some(&HeaderValue::from_static(v)));
        assert!(accepts("gzip"));
        assert!(accepts("br, GZIP;q=0.5"));
        assert!(accepts("*"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts_gzip(None));
    }
}
