//! The waiting list of a sold-out schedule: freed seats go to its first entry.

use chrono::{DateTime, Utc};

use crate::concert::{SaleTerms, Schedule};
use crate::{ConcertId, DomainError, ReservationId, ScheduleId, UserId, WaitlistEntryId};

/// WAITING → OFFERED (a seat is held for the user) → FULFILLED (paid) or
/// LAPSED (not paid in time, or cancelled); WAITING → LEFT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitlistStatus {
    /// In line for a freed seat.
    Waiting,
    /// A freed seat is held for the user.
    Offered,
    /// The offer was paid.
    Fulfilled,
    /// The offer was not paid in time, or was cancelled.
    Lapsed,
    /// The user left the list.
    Left,
}

impl WaitlistStatus {
    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "WAITING",
            Self::Offered => "OFFERED",
            Self::Fulfilled => "FULFILLED",
            Self::Lapsed => "LAPSED",
            Self::Left => "LEFT",
        }
    }
}

crate::error::parse_by_name!(
    WaitlistStatus,
    "waiting-list status",
    [Waiting, Offered, Fulfilled, Lapsed, Left]
);

/// One user's place on one schedule's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistEntry {
    /// Its id.
    pub id: WaitlistEntryId,
    /// Whose entry.
    pub user_id: UserId,
    /// The schedule's concert.
    pub concert_id: ConcertId,
    /// The sold-out schedule.
    pub schedule_id: ScheduleId,
    /// Where it stands.
    pub status: WaitlistStatus,
    /// 1 + WAITING entries of the schedule made before it; only while WAITING.
    pub position: Option<u32>,
    /// The offered hold, once OFFERED.
    pub reservation_id: Option<ReservationId>,
    /// When the offered hold lapses, once OFFERED.
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// When the user joined.
    pub created_at: DateTime<Utc>,
}

impl WaitlistEntry {
    /// Only a WAITING entry can be left.
    pub fn ensure_leavable(&self) -> Result<(), DomainError> {
        match self.status {
            WaitlistStatus::Waiting => Ok(()),
            other => Err(DomainError::WaitlistEntryClosed(other)),
        }
    }
}

/// What the join decision needs to know, read before it.
#[derive(Debug, Clone, Copy)]
pub struct JoinFacts {
    /// The concert's sale terms.
    pub sale: SaleTerms,
    /// Seats of the concert the user owns (live holds + paid).
    pub owned_tickets: u64,
    /// Seats of the schedule a hold could take now.
    pub available_seats: u32,
}

/// A request to join, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// Who joins.
    pub user_id: UserId,
    /// The schedule's concert.
    pub concert_id: ConcertId,
    /// The schedule joined.
    pub schedule_id: ScheduleId,
    /// When.
    pub now: DateTime<Utc>,
}

/// Refuses a join in the contract's order: SALE_NOT_OPEN, SCHEDULE_CLOSED,
/// TICKET_LIMIT_EXCEEDED, then SEATS_AVAILABLE (hold one instead).
pub fn decide_join(
    user_id: UserId,
    schedule: &Schedule,
    facts: JoinFacts,
    now: DateTime<Utc>,
) -> Result<NewEntry, DomainError> {
    if !facts.sale.is_open(now) {
        return Err(DomainError::SaleNotOpen);
    }
    if schedule.is_closed(now) {
        return Err(DomainError::ScheduleClosed);
    }
    facts.sale.ensure_ticket_room(facts.owned_tickets)?;
    if facts.available_seats > 0 {
        return Err(DomainError::SeatsAvailable);
    }
    Ok(NewEntry {
        user_id,
        concert_id: schedule.concert_id,
        schedule_id: schedule.id,
        now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{now, schedule};
    use chrono::Duration;

    fn facts(opens_in: i64, owned: u64, available: u32) -> JoinFacts {
        JoinFacts {
            sale: SaleTerms {
                sale_opens_at: now() + Duration::seconds(opens_in),
                max_tickets_per_user: 2,
            },
            owned_tickets: owned,
            available_seats: available,
        }
    }

    #[test]
    fn a_sold_out_open_schedule_takes_joiners() {
        let entry = decide_join(UserId(1), &schedule(60), facts(0, 1, 0), now()).unwrap();
        assert_eq!(
            (entry.schedule_id, entry.concert_id),
            (ScheduleId(3), ConcertId(2))
        );
    }

    #[test]
    fn refusals_in_the_contracts_order() {
        let cases = [
            (schedule(0), facts(1, 2, 1), DomainError::SaleNotOpen),
            (schedule(0), facts(0, 2, 1), DomainError::ScheduleClosed),
            (
                schedule(60),
                facts(0, 2, 1),
                DomainError::TicketLimitExceeded { limit: 2 },
            ),
            (schedule(60), facts(0, 1, 1), DomainError::SeatsAvailable),
        ];
        for (s, f, expected) in cases {
            assert_eq!(decide_join(UserId(1), &s, f, now()), Err(expected));
        }
    }

    #[test]
    fn only_waiting_entries_can_be_left() {
        let mut entry = WaitlistEntry {
            id: WaitlistEntryId(1),
            user_id: UserId(1),
            concert_id: ConcertId(2),
            schedule_id: ScheduleId(3),
            status: WaitlistStatus::Waiting,
            position: Some(1),
            reservation_id: None,
            offer_expires_at: None,
            created_at: now(),
        };
        assert!(entry.ensure_leavable().is_ok());
        entry.status = WaitlistStatus::Offered;
        assert_eq!(
            entry.ensure_leavable(),
            Err(DomainError::WaitlistEntryClosed(WaitlistStatus::Offered))
        );
        assert_eq!("LAPSED".parse(), Ok(WaitlistStatus::Lapsed));
        assert_eq!(
            "nope".parse::<WaitlistStatus>(),
            Err(crate::UnknownStatus {
                kind: "waiting-list status",
                value: "nope".into()
            })
        );
        assert_eq!(WaitlistStatus::Left.to_string(), "LEFT");
    }
}
