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
    /// When the line starts moving; the pre-queue window ends here.
    pub sale_opens_at: DateTime<Utc>,
    /// Seats one user may own (live holds + paid) over all schedules.
    pub max_tickets_per_user: u32,
}

impl Concert {
    /// The concert's sale terms.
    pub fn sale(&self) -> SaleTerms {
        SaleTerms {
            sale_opens_at: self.sale_opens_at,
            max_tickets_per_user: self.max_tickets_per_user,
        }
    }
}

/// How a join at some moment enters the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinPhase {
    /// Before the opening: the pre-queue, whose order is drawn at the opening.
    PreQueue,
    /// From the opening on: the back of the line.
    Open,
}

/// When a concert's sale opens and how many seats one user may own of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleTerms {
    /// When the sale opens; before it, only the pre-queue accepts joiners.
    pub sale_opens_at: DateTime<Utc>,
    /// Seats one user may own (live holds + paid) over all schedules.
    pub max_tickets_per_user: u32,
}

impl SaleTerms {
    /// The bounds of `maxTicketsPerUser`.
    pub const TICKET_LIMIT_RANGE: std::ops::RangeInclusive<i64> = 1..=50;

    /// Checks the optional create members: an absent opening means "open now",
    /// an absent limit means the configured default.
    pub fn parse(
        sale_opens_at: Option<DateTime<Utc>>,
        max_tickets_per_user: Option<i64>,
        default_max_tickets: u32,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        let max = max_tickets_per_user.unwrap_or(i64::from(default_max_tickets));
        if !Self::TICKET_LIMIT_RANGE.contains(&max) {
            return Err(DomainError::validation(
                "maxTicketsPerUser must be an integer from 1 to 50",
            ));
        }
        Ok(Self {
            sale_opens_at: sale_opens_at.unwrap_or(now),
            max_tickets_per_user: max as u32,
        })
    }

    /// Sale open at once, with the given limit (the demo catalogue, tests).
    pub fn open_now(max_tickets_per_user: u32, now: DateTime<Utc>) -> Self {
        Self {
            sale_opens_at: now,
            max_tickets_per_user,
        }
    }

    /// Refuses one more seat to a user who already owns `owned` of the concert.
    pub fn ensure_ticket_room(&self, owned: u64) -> Result<(), DomainError> {
        if owned >= u64::from(self.max_tickets_per_user) {
            return Err(DomainError::TicketLimitExceeded {
                limit: self.max_tickets_per_user,
            });
        }
        Ok(())
    }

    /// Whether joining the line at `now` gives a PREQUEUE token or an ordinary
    /// one; before the pre-queue window opens, [`DomainError::SaleNotOpen`].
    pub fn join_phase(
        &self,
        now: DateTime<Utc>,
        prequeue_window: chrono::Duration,
    ) -> Result<JoinPhase, DomainError> {
        if self.is_open(now) {
            Ok(JoinPhase::Open)
        } else if now >= self.sale_opens_at - prequeue_window {
            Ok(JoinPhase::PreQueue)
        } else {
            Err(DomainError::SaleNotOpen)
        }
    }

    /// Whether the sale has opened at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.sale_opens_at <= now
    }
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
    /// Opening time and ticket limit, already validated.
    pub sale: SaleTerms,
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
    /// How far ahead a schedule may start: further is a typo, not a plan.
    pub const MAX_YEARS_AHEAD: i64 = 10;

    /// Every schedule starts after `now` and at most [`Self::MAX_YEARS_AHEAD`]
    /// years later (365-day years).
    pub fn ensure_upcoming(&self, now: DateTime<Utc>) -> Result<(), DomainError> {
        let latest = now + chrono::Duration::days(365 * Self::MAX_YEARS_AHEAD);
        if self
            .schedules
            .iter()
            .all(|s| s.starts_at > now && s.starts_at <= latest)
        {
            Ok(())
        } else {
            Err(DomainError::validation(format!(
                "startsAt must be in the future and at most {} years ahead",
                Self::MAX_YEARS_AHEAD
            )))
        }
    }

    /// Checks the catalogue rules of the contract and builds a valid concert.
    pub fn parse(
        title: &str,
        venue: &str,
        schedules: &[(DateTime<Utc>, i64, i64)],
        sale: SaleTerms,
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
            sale,
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

    fn terms() -> SaleTerms {
        SaleTerms::open_now(4, at())
    }

    #[test]
    fn sale_terms_defaults_and_bounds() {
        let now = at();
        let t = SaleTerms::parse(None, None, 4, now).unwrap();
        assert_eq!((t.sale_opens_at, t.max_tickets_per_user), (now, 4));
        assert!(t.is_open(now));
        let later = now + chrono::Duration::hours(1);
        let t = SaleTerms::parse(Some(later), Some(50), 4, now).unwrap();
        assert_eq!((t.sale_opens_at, t.max_tickets_per_user), (later, 50));
        assert!(!t.is_open(now));
        assert!(SaleTerms::parse(None, Some(1), 4, now).is_ok());
        assert!(SaleTerms::parse(None, Some(0), 4, now).is_err());
        assert!(SaleTerms::parse(None, Some(51), 4, now).is_err());
        assert!(SaleTerms::parse(None, None, 0, now).is_err());
    }

    #[test]
    fn joining_before_during_and_after_the_prequeue_window() {
        let opens = at();
        let t = SaleTerms::parse(Some(opens), None, 4, opens - chrono::Duration::days(1)).unwrap();
        let window = chrono::Duration::seconds(3600);
        let secs = chrono::Duration::seconds;
        assert_eq!(
            t.join_phase(opens - secs(3601), window),
            Err(DomainError::SaleNotOpen)
        );
        assert_eq!(
            t.join_phase(opens - secs(3600), window),
            Ok(JoinPhase::PreQueue)
        );
        assert_eq!(
            t.join_phase(opens - secs(1), window),
            Ok(JoinPhase::PreQueue)
        );
        assert_eq!(t.join_phase(opens, window), Ok(JoinPhase::Open));
        assert_eq!(t.join_phase(opens + secs(5), window), Ok(JoinPhase::Open));
    }

    #[test]
    fn ticket_limit_counts_what_is_owned() {
        let t = SaleTerms::open_now(2, at());
        assert!(t.ensure_ticket_room(0).is_ok());
        assert!(t.ensure_ticket_room(1).is_ok());
        assert_eq!(
            t.ensure_ticket_room(2),
            Err(DomainError::TicketLimitExceeded { limit: 2 })
        );
    }

    #[test]
    fn accepts_contract_bounds() {
        let c = NewConcert::parse(
            "T",
            &"v".repeat(200),
            &[(at(), 1, 1), (at(), 2000, 10_000_000)],
            terms(),
        )
        .unwrap();
        assert_eq!(c.schedules.len(), 2);
    }

    #[test]
    fn rejects_out_of_range() {
        assert!(NewConcert::parse("", "v", &[(at(), 1, 1)], terms()).is_err());
        assert!(NewConcert::parse(&"t".repeat(201), "v", &[(at(), 1, 1)], terms()).is_err());
        assert!(NewConcert::parse("t", "v", &[], terms()).is_err());
        assert!(NewConcert::parse("t", "v", &vec![(at(), 1, 1); 51], terms()).is_err());
        assert!(NewConcert::parse("t", "v", &[(at(), 0, 1)], terms()).is_err());
        assert!(NewConcert::parse("t", "v", &[(at(), 2001, 1)], terms()).is_err());
        assert!(NewConcert::parse("t", "v", &[(at(), 1, 0)], terms()).is_err());
        assert!(NewConcert::parse("t", "v", &[(at(), 1, 10_000_001)], terms()).is_err());
    }

    #[test]
    fn schedules_start_in_the_future_within_ten_years() {
        let now = at();
        let concert = |offset: chrono::Duration| {
            NewConcert::parse("t", "v", &[(now + offset, 1, 1)], terms()).unwrap()
        };
        assert!(concert(chrono::Duration::seconds(1))
            .ensure_upcoming(now)
            .is_ok());
        assert!(concert(chrono::Duration::days(3650))
            .ensure_upcoming(now)
            .is_ok());
        assert!(concert(chrono::Duration::days(3651))
            .ensure_upcoming(now)
            .is_err());
        assert!(concert(chrono::Duration::zero())
            .ensure_upcoming(now)
            .is_err());
        assert!(concert(chrono::Duration::days(-1))
            .ensure_upcoming(now)
            .is_err());
    }

    #[test]
    fn schedule_closes_at_start() {
        let s = Schedule {
            id: ScheduleId(1),
            concert_id: ConcertId(1),
            starts_at: at(),
            price: Won::new(1).unwrap(),
            seat_count: 1,
        };
        assert!(!s.is_closed(at() - chrono::Duration::seconds(1)));
        assert!(s.is_closed(at()));
    }
}
