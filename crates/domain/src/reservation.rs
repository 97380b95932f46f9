use chrono::{DateTime, Duration, Utc};

use crate::concert::{SaleTerms, Schedule};
use crate::seat::{Seat, SeatStatus};
use crate::{ConcertId, DomainError, ReservationId, ScheduleId, SeatId, UserId, Won};

/// The life of a hold: HELD → CONFIRMED (paid), EXPIRED (unpaid in time) or
/// CANCELLED; CONFIRMED → REFUNDED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationStatus {
    /// Held until paid or expired.
    Held,
    /// Paid.
    Confirmed,
    /// Not paid in time.
    Expired,
    /// Given up by its holder.
    Cancelled,
    /// Paid, then given back: the seat is free again.
    Refunded,
}

impl ReservationStatus {
    /// The contract's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "HELD",
            Self::Confirmed => "CONFIRMED",
            Self::Expired => "EXPIRED",
            Self::Cancelled => "CANCELLED",
            Self::Refunded => "REFUNDED",
        }
    }
}

crate::error::parse_by_name!(
    ReservationStatus,
    "reservation status",
    [Held, Confirmed, Expired, Cancelled, Refunded]
);

/// A user's hold on one seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// Its id.
    pub id: ReservationId,
    /// Its holder.
    pub user_id: UserId,
    /// The concert of its schedule.
    pub concert_id: ConcertId,
    /// Its schedule.
    pub schedule_id: ScheduleId,
    /// The seat held.
    pub seat_id: SeatId,
    /// The seat's number within the schedule.
    pub seat_number: u32,
    /// The seat's version right after this hold took it; releasing or selling
    /// the seat is checked against it, so a stale hold never touches a re-held seat.
    pub seat_version: i64,
    /// The seat's price.
    pub price: Won,
    /// The stored state; see [`Reservation::status_at`] for the state at a moment.
    pub status: ReservationStatus,
    /// When the hold lapses if unpaid.
    pub expires_at: DateTime<Utc>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// A hold the waiting list offered: paid without a queue token.
    pub offer: bool,
}

impl Reservation {
    /// A HELD reservation past its expiry is EXPIRED, swept or not.
    pub fn status_at(&self, now: DateTime<Utc>) -> ReservationStatus {
        match self.status {
            ReservationStatus::Held if self.expires_at <= now => ReservationStatus::Expired,
            status => status,
        }
    }

    /// Ok if it can be cancelled at `now` (still HELD and unexpired).
    pub fn ensure_cancellable(&self, now: DateTime<Utc>) -> Result<(), DomainError> {
        match self.status_at(now) {
            ReservationStatus::Held => Ok(()),
            other => Err(DomainError::ReservationNotCancellable(other)),
        }
    }

    /// Ok if it can be paid at `now`; else why not.
    pub fn ensure_payable(&self, now: DateTime<Utc>) -> Result<(), DomainError> {
        match self.status_at(now) {
            ReservationStatus::Held => Ok(()),
            ReservationStatus::Expired => Err(DomainError::ReservationExpired),
            other => Err(DomainError::ReservationNotPayable(other)),
        }
    }
}

/// How long a hold lasts and how many one user may have at once.
#[derive(Debug, Clone, Copy)]
pub struct HoldPolicy {
    /// How long a hold lasts.
    pub hold_ttl: Duration,
    /// The most HELD seats one user may have.
    pub max_holds_per_user: u32,
}

/// Everything the store needs to take a hold atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHold {
    /// Who holds.
    pub user_id: UserId,
    /// The seat's concert.
    pub concert_id: ConcertId,
    /// The seat's schedule.
    pub schedule_id: ScheduleId,
    /// The seat.
    pub seat_id: SeatId,
    /// The seat's number.
    pub seat_number: u32,
    /// The seat's price.
    pub price: Won,
    /// The seat version the decision was made on; a different one means someone else won.
    pub seat_version: i64,
    /// The store re-checks the limit under a per-user lock, so racing holds of one user cannot pass it.
    pub max_holds_per_user: u32,
    /// The concert's terms; the store checks its ticket limit under the same
    /// per-user lock, after the hold limit.
    pub sale: SaleTerms,
    /// The time of the decision.
    pub now: DateTime<Utc>,
    /// When the hold lapses.
    pub expires_at: DateTime<Utc>,
}

impl NewHold {
    /// Why a user with `live_holds` unexpired holds who owns `owned` seats of
    /// the concert may not take this one, if a limit is why: the store's
    /// conditional write is the guard, and when it refuses, this decides the
    /// error from the counts it saw (hold limit first, then ticket limit).
    pub fn ensure_room(&self, live_holds: u64, owned: u64) -> Result<(), DomainError> {
        if live_holds >= u64::from(self.max_holds_per_user) {
            return Err(DomainError::HoldLimitExceeded {
                limit: self.max_holds_per_user,
            });
        }
        self.sale.ensure_ticket_room(owned)
    }
}

impl HoldPolicy {
    /// Decides whether `user` may hold `seat` of `schedule` now; the limits
    /// (holds per user, the concert's tickets per user) travel along for the
    /// store to check atomically, under the user's lock, in its write.
    pub fn decide(
        &self,
        user_id: UserId,
        sale: SaleTerms,
        schedule: &Schedule,
        seat: &Seat,
        now: DateTime<Utc>,
    ) -> Result<NewHold, DomainError> {
        if schedule.is_closed(now) {
            return Err(DomainError::ScheduleClosed);
        }
        if seat.status_at(now) != SeatStatus::Available {
            return Err(DomainError::SeatUnavailable {
                seat_number: seat.seat_number,
            });
        }
        Ok(NewHold {
            user_id,
            concert_id: schedule.concert_id,
            schedule_id: schedule.id,
            seat_id: seat.id,
            seat_number: seat.seat_number,
            price: seat.price,
            seat_version: seat.version,
            max_holds_per_user: self.max_holds_per_user,
            sale,
            now,
            expires_at: now + self.hold_ttl,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{now, schedule};

    fn seat(status: SeatStatus, hold_expires_in: Option<i64>) -> Seat {
        Seat {
            id: SeatId(9),
            schedule_id: ScheduleId(3),
            seat_number: 7,
            price: Won::new(50_000).unwrap(),
            status,
            hold_expires_at: hold_expires_in.map(|s| now() + Duration::seconds(s)),
            version: 4,
        }
    }

    fn terms() -> SaleTerms {
        SaleTerms::open_now(4, now())
    }

    fn policy() -> HoldPolicy {
        HoldPolicy {
            hold_ttl: Duration::seconds(300),
            max_holds_per_user: 2,
        }
    }

    #[test]
    fn free_seat_is_held_until_ttl() {
        let hold = policy()
            .decide(
                UserId(1),
                terms(),
                &schedule(3600),
                &seat(SeatStatus::Available, None),
                now(),
            )
            .unwrap();
        assert_eq!(hold.expires_at, now() + Duration::seconds(300));
        assert_eq!(hold.seat_version, 4);
        assert_eq!(hold.concert_id, ConcertId(2));
    }

    #[test]
    fn expired_hold_counts_as_free() {
        let seat = seat(SeatStatus::Held, Some(0));
        assert!(policy()
            .decide(UserId(1), terms(), &schedule(3600), &seat, now())
            .is_ok());
    }

    #[test]
    fn refusals() {
        let p = policy();
        let s = schedule(3600);
        assert_eq!(
            p.decide(
                UserId(1),
                terms(),
                &s,
                &seat(SeatStatus::Held, Some(1)),
                now()
            ),
            Err(DomainError::SeatUnavailable { seat_number: 7 })
        );
        assert_eq!(
            p.decide(UserId(1), terms(), &s, &seat(SeatStatus::Sold, None), now()),
            Err(DomainError::SeatUnavailable { seat_number: 7 })
        );
        let hold = p
            .decide(
                UserId(1),
                terms(),
                &s,
                &seat(SeatStatus::Available, None),
                now(),
            )
            .unwrap();
        assert_eq!(
            hold.ensure_room(2, 2),
            Err(DomainError::HoldLimitExceeded { limit: 2 })
        );
        assert_eq!(
            hold.ensure_room(1, 4),
            Err(DomainError::TicketLimitExceeded { limit: 4 })
        );
        assert_eq!(hold.ensure_room(1, 3), Ok(()));
        assert_eq!(
            p.decide(
                UserId(1),
                terms(),
                &schedule(0),
                &seat(SeatStatus::Available, None),
                now()
            ),
            Err(DomainError::ScheduleClosed)
        );
    }

    #[test]
    fn reservation_state_at_a_moment() {
        let mut r = Reservation {
            id: ReservationId(1),
            user_id: UserId(1),
            concert_id: ConcertId(1),
            schedule_id: ScheduleId(1),
            seat_id: SeatId(1),
            seat_number: 1,
            seat_version: 1,
            price: Won::new(1).unwrap(),
            status: ReservationStatus::Held,
            expires_at: now(),
            created_at: now(),
            offer: false,
        };
        assert_eq!(r.status_at(now()), ReservationStatus::Expired);
        assert_eq!(
            r.ensure_payable(now()),
            Err(DomainError::ReservationExpired)
        );
        assert!(r.ensure_cancellable(now()).is_err());
        assert!(r.ensure_payable(now() - Duration::seconds(1)).is_ok());
        r.status = ReservationStatus::Confirmed;
        assert_eq!(
            r.ensure_payable(now() - Duration::seconds(1)),
            Err(DomainError::ReservationNotPayable(
                ReservationStatus::Confirmed
            ))
        );
    }
}
