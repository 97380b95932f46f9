use chrono::{DateTime, Utc};

use crate::{ConcertId, DomainError, ScheduleId, Won};

/// A concert in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concert {
    /// Its id.
    pub id: ConcertId,
    /// 1–200 characters.
    pub title: String,
    /// Where it takes place, 1–200 characters.
    pub venue: String,
}

/// One performance of a concert, with its seat counts at the time of reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Its id.
    pub id: ScheduleId,
    /// The concert it belongs to.
    pub concert_id: ConcertId,
    /// When the performance starts; sales close then.
    pub starts_at: DateTime<Utc>,
    /// The price of every seat.
    pub price: Won,
    /// Seats are numbered 1..=seat_count.
    pub seat_count: u32,
}

impl Schedule {
    /// Sales close when the performance starts.
    pub fn is_closed(&self, now: DateTime<Utc>) -> bool {
        self.starts_at <= now
    }
}

/// A schedule with how many of its seats can still be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleAvailability {
    /// The schedule itself.
    pub schedule: Schedule,
    /// Seats neither sold nor under a live hold.
    pub available_seats: u32,
}

/// A validated request to create a concert with its schedules and seats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConcert {
    /// 1–200 characters.
    pub title: String,
    /// 1–200 characters.
    pub venue: String,
    /// 1–50 schedules.
    pub schedules: Vec<NewSchedule>,
}

/// A validated schedule of a [`NewConcert`]; seats are numbered `1..=seat_count`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSchedule {
    /// When the performance starts.
    pub starts_at: DateTime<Utc>,
    /// 1–2000 seats.
    pub seat_count: u32,
    /// The price of every seat.
    pub price: Won,
}

/// A concert as created, with the ids the store gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedConcert {
    /// The concert as stored.
    pub concert: Concert,
    /// Its schedules as stored.
    pub schedules: Vec<Schedule>,
}

impl NewConcert {
    /// The most schedules one concert may have.
    pub const MAX_SCHEDULES: usize = 50;
    /// The most seats one schedule may have.
    pub const MAX_SEATS: i64 = 2000;

    /// Checks the catalogue rules of the contract and builds a valid concert.
    pub fn parse(
        title: &str,
        venue: &str,
        schedules: &[(DateTime<Utc>, i64, i64)],
    ) -> Result<Self, DomainError> {
        let text = |name: &str, value: &str| {
            let len = value.trim().chars().count();
            if (1..=200).contains(&len) && len == value.chars().count() {
                Ok(value.to_owned())
            } else {
                Err(DomainError::validation(format!(
                    "{name} must be 1-200 characters without surrounding spaces"
                )))
            }
        };
        let title = text("title", title)?;
        let venue = text("venue", venue)?;
        if !(1..=Self::MAX_SCHEDULES).contains(&schedules.len()) {
            return Err(DomainError::validation("schedules must hold 1-50 entries"));
        }
        let schedules = schedules
            .iter()
            .map(|&(starts_at, seat_count, price)| {
                if !(1..=Self::MAX_SEATS).contains(&seat_count) {
                    return Err(DomainError::validation("seatCount must be from 1 to 2000"));
                }
                let price = Won::price(price).map_err(|_| {
                    DomainError::validation("price must be an integer from 1 to 10000000")
                })?;
                Ok(NewSchedule {
                    starts_at,
                    seat_count: seat_count as u32,
                    price,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            title,
            venue,
            schedules,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2030-01-01T19:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn accepts_contract_bounds() {
        let c = NewConcert::parse(
            "T",
            &"v".repeat(200),
            &[(at(), 1, 1), (at(), 2000, 10_000_000)],
        )
        .unwrap();
        assert_eq!(c.schedules.len(), 2);
    }

    #[test]
    fn rejects_out_of_range() {
        assert!(NewConcert::parse("", "v", &[(at(), 1, 1)]).is_err());
        assert!(NewConcert::parse(&"t".repeat(201), "v", &[(at(), 1, 1)]).is_err());
        assert!(NewConcert::parse("t", "v", &[]).is_err());
        assert!(NewConcert::parse("t", "v", &vec![(at(), 1, 1); 51]).is_err());
        assert!(NewConcert::parse("t", "v", &[(at(), 0, 1)]).is_err());
        assert!(NewConcert::parse("t", "v", &[(at(), 2001, 1)]).is_err());
        assert!(NewConcert::parse("t", "v", &[(at(), 1, 0)]).is_err());
        assert!(NewConcert::parse("t", "v", &[(at(), 1, 10_000_001)]).is_err());
    }

    #[test]
    fn schedule_closes_at_start() {
        let s = Schedule {
            id: ScheduleId(1),
            concert_id: ConcertId(1),
            starts_at: at(),
            price: Won(1),
            seat_count: 1,
        };
        assert!(!s.is_closed(at() - chrono::Duration::seconds(1)));
        assert!(s.is_closed(at()));
    }
}
