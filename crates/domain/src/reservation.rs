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

/// Everything the store needs to take a hold atomically. The seat itself is
/// read by the store's write, in the snapshot it commits in: a read before
/// it would cost a round trip and could only be stale by the time of the write.
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
    /// The store re-checks the limit in its write, serialised per user, so racing holds of one user cannot pass it.
    pub max_holds_per_user: u32,
    /// The concert's terms; the store checks its ticket limit in the same
    /// write, after the hold limit.
    pub sale: SaleTerms,
    /// The time of the decision.
    pub now: DateTime<Utc>,
    /// When the hold lapses.
    pub expires_at: DateTime<Utc>,
}

/// What a store saw of a hold it did not write, all in one snapshot: the
/// domain ([`NewHold::refusal`]) names the refusal from it.
#[derive(Debug, PartialEq, Eq)]
pub struct HoldSeen {
    /// The seat as stored, if a seat has that id (in any schedule).
    pub seat: Option<Seat>,
    /// The caller's admission as the store judged it
    /// ([`crate::queue::admitted`] of the token it saw), or `Ok` when it was
    /// checked before the write.
    pub admission: Result<(), DomainError>,
    /// The user's unexpired HELD reservations.
    pub live_holds: u64,
    /// The seats of the concert the user owns (live holds and paid).
    pub owned: u64,
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

    /// Why the store refused this hold, from what it saw, in the order the
    /// contract gives: an unknown seat (or one of another schedule), the
    /// queue token, a seat not free at `now`, the hold limit, the ticket
    /// limit. When none of them applies the seat changed under the write (a
    /// racing hold won it, or the waiting list has it): unavailable too.
    pub fn refusal(&self, seen: HoldSeen) -> DomainError {
        let Some(seat) = seen.seat.filter(|s| s.schedule_id == self.schedule_id) else {
            return DomainError::not_found(format!(
                "seat {} of schedule {}",
                self.seat_id, self.schedule_id
            ));
        };
        let unavailable = DomainError::SeatUnavailable {
            seat_number: seat.seat_number,
        };
        if let Err(refused) = seen.admission {
            return refused;
        }
        if seat.status_at(self.now) != SeatStatus::Available {
            return unavailable;
        }
        self.ensure_room(seen.live_holds, seen.owned)
            .err()
            .unwrap_or(unavailable)
    }
}

impl HoldPolicy {
    /// Decides whether `user` may try to hold a seat of `schedule` now; the
    /// seat and the limits (holds per user, the concert's tickets per user)
    /// are checked by the store in its write, and [`NewHold::refusal`] names
    /// a refusal from what it saw.
    pub fn decide(
        &self,
        user_id: UserId,
        sale: SaleTerms,
        schedule: &Schedule,
        seat_id: SeatId,
        now: DateTime<Utc>,
    ) -> Result<NewHold, DomainError> {
        if schedule.is_closed(now) {
            return Err(DomainError::ScheduleClosed);
        }
        Ok(NewHold {
            user_id,
            concert_id: schedule.concert_id,
            schedule_id: schedule.id,
            seat_id,
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

    fn hold() -> NewHold {
        policy()
            .decide(UserId(1), terms(), &schedule(3600), SeatId(9), now())
            .unwrap()
    }

    /// What a store saw: the seat, an admitted caller, and the two counts.
    fn seen(seat: Option<Seat>, live_holds: u64, owned: u64) -> HoldSeen {
        HoldSeen {
            seat,
            admission: Ok(()),
            live_holds,
            owned,
        }
    }

    #[test]
    fn a_hold_lasts_its_ttl() {
        let hold = hold();
        assert_eq!(hold.expires_at, now() + Duration::seconds(300));
        assert_eq!(hold.concert_id, ConcertId(2));
        assert_eq!(hold.seat_id, SeatId(9));
        assert_eq!(
            policy().decide(UserId(1), terms(), &schedule(0), SeatId(9), now()),
            Err(DomainError::ScheduleClosed)
        );
    }

    #[test]
    fn limits() {
        let hold = hold();
        assert_eq!(
            hold.ensure_room(2, 2),
            Err(DomainError::HoldLimitExceeded { limit: 2 })
        );
        assert_eq!(
            hold.ensure_room(1, 4),
            Err(DomainError::TicketLimitExceeded { limit: 4 })
        );
        assert_eq!(hold.ensure_room(1, 3), Ok(()));
    }

    #[test]
    fn a_refusal_is_named_in_the_contracts_order() {
        let hold = hold();
        let free = || Some(seat(SeatStatus::Available, None));
        let not_found = |e: DomainError| matches!(e, DomainError::NotFound(_));
        assert!(not_found(hold.refusal(seen(None, 0, 0))), "no such seat");
        let mut elsewhere = seat(SeatStatus::Available, None);
        elsewhere.schedule_id = ScheduleId(4);
        assert!(
            not_found(hold.refusal(seen(Some(elsewhere), 0, 0))),
            "a seat of another schedule"
        );
        // The seat is checked before the token, the token before the seat's state.
        let mut waiting = seen(Some(seat(SeatStatus::Sold, None)), 0, 0);
        waiting.admission = Err(DomainError::QueueTokenNotActive);
        assert_eq!(hold.refusal(waiting), DomainError::QueueTokenNotActive);
        let unavailable = DomainError::SeatUnavailable { seat_number: 7 };
        for taken in [
            seat(SeatStatus::Held, Some(1)),
            seat(SeatStatus::Sold, None),
        ] {
            assert_eq!(hold.refusal(seen(Some(taken), 2, 4)), unavailable);
        }
        assert_eq!(
            hold.refusal(seen(free(), 2, 4)),
            DomainError::HoldLimitExceeded { limit: 2 }
        );
        assert_eq!(
            hold.refusal(seen(free(), 1, 4)),
            DomainError::TicketLimitExceeded { limit: 4 }
        );
        // Free as seen, room left: the seat changed under the write. A lapsed
        // hold reads free too (the waiting list's seats are refused this way).
        assert_eq!(hold.refusal(seen(free(), 0, 0)), unavailable);
        assert_eq!(
            hold.refusal(seen(Some(seat(SeatStatus::Held, Some(0))), 0, 0)),
            unavailable
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
