use std::sync::Arc;

use domain::ports::{Clock, ConcertRepository, SeatRepository, WaitlistStore};
use domain::seat::{Seat, SeatStatus};
use domain::{ConcertId, DomainError, ScheduleId, UserId};

use crate::{QueueGuard, RecentAdmissions, ShownStatuses};

/// A schedule's seats with their status at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct SeatMap {
    pub schedule_id: ScheduleId,
    /// The rows as stored, by seat number: shared with the seat cache, not
    /// copied per read.
    pub seats: Arc<[Seat]>,
    /// Each seat's status as shown now, in the order of `seats`: the same
    /// `Arc` for every read while the rows and their statuses are unchanged,
    /// so a reader can recognise a map it has seen without comparing seats.
    pub statuses: Arc<[SeatStatus]>,
}

impl SeatMap {
    /// Each seat with the status it shows.
    pub fn shown(&self) -> impl Iterator<Item = (&Seat, SeatStatus)> {
        self.seats.iter().zip(self.statuses.iter().copied())
    }
}

/// The seat map, for users the queue has admitted.
pub struct ViewSeatMap {
    pub concerts: Arc<dyn ConcertRepository>,
    pub seats: Arc<dyn SeatRepository>,
    pub guard: Arc<QueueGuard>,
    /// Admissions confirmed within the seat-map cache's TTL: the map may lag
    /// the store that long anyway, and a hot read then asks no store at all.
    pub admitted: RecentAdmissions,
    pub clock: Arc<dyn Clock>,
    /// A lapsed hold stays HELD while the schedule's waiting list waits for it.
    pub waitlist: Arc<dyn WaitlistStore>,
    /// The statuses last derived per schedule: a read of unchanged rows
    /// before a hold lapses is O(1) in the number of seats.
    pub shown: ShownStatuses,
}

impl ViewSeatMap {
    pub async fn execute(
        &self,
        user_id: UserId,
        queue_token: Option<&str>,
        concert_id: ConcertId,
        schedule_id: ScheduleId,
    ) -> Result<SeatMap, DomainError> {
        let schedule = self.concerts.find_schedule(schedule_id).await?;
        if schedule.is_none_or(|s| s.concert_id != concert_id) {
            return Err(DomainError::not_found(format!(
                "schedule {schedule_id} of concert {concert_id}"
            )));
        }
        self.guard
            .check_recent(&self.admitted, user_id, queue_token, concert_id)
            .await?;
        let now = self.clock.now();
        let seats = self.seats.seats_of(schedule_id).await?;
        if let Some(statuses) = self.shown.get(schedule_id, &seats, now) {
            return Ok(SeatMap {
                schedule_id,
                seats,
                statuses,
            });
        }
        let lapsed = |seat: &Seat| {
            seat.status == SeatStatus::Held && seat.status_at(now) != SeatStatus::Held
        };
        let any_lapsed = seats.iter().any(lapsed);
        // Asked only when a hold has lapsed: the list then keeps the seat.
        let listed = any_lapsed && self.waitlist.has_waiting(schedule_id).await?;
        let statuses: Arc<[SeatStatus]> = seats
            .iter()
            .map(|seat| {
                if listed && lapsed(seat) {
                    SeatStatus::Held
                } else {
                    seat.status_at(now)
                }
            })
            .collect();
        // With a lapsed hold the answer also depends on the waiting list,
        // which may change at any moment: such a map is not kept.
        if !any_lapsed {
            self.shown
                .keep(schedule_id, seats.clone(), statuses.clone(), now);
        }
        Ok(SeatMap {
            schedule_id,
            seats,
            statuses,
        })
    }
}

/// The use case on these ports, with a queue that finds every token ACTIVE
/// (user 1's, for concert 1) and no admission memo.
#[cfg(test)]
fn admitted_reader(
    concerts: impl ConcertRepository + 'static,
    seats: impl SeatRepository + 'static,
    waitlist: impl WaitlistStore + 'static,
    clock: Arc<dyn Clock>,
) -> ViewSeatMap {
    use domain::queue::{QueueStatus, QueueTicket};
    let mut queue = domain::ports::MockQueueStore::new();
    queue.expect_find().returning(|token, _| {
        Ok(Some(QueueTicket::stub(
            token,
            UserId(1),
            ConcertId(1),
            QueueStatus::Active,
        )))
    });
    ViewSeatMap {
        concerts: Arc::new(concerts),
        seats: Arc::new(seats),
        guard: Arc::new(QueueGuard {
            queue: Arc::new(queue),
            clock: clock.clone(),
        }),
        admitted: RecentAdmissions::new(std::time::Duration::ZERO),
        clock,
        waitlist: Arc::new(waitlist),
        shown: ShownStatuses::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use domain::concert::Schedule;
    use domain::ports::{MockClock, MockConcertRepository, MockSeatRepository, MockWaitlistStore};
    use domain::Won;

    #[tokio::test]
    async fn lapsed_holds_show_available_and_other_concerts_schedules_are_not_found() {
        let now = Utc::now();
        let mut concerts = MockConcertRepository::new();
        concerts.expect_find_schedule().returning(move |id| {
            Ok(Some(Schedule {
                id,
                concert_id: ConcertId(1),
                starts_at: now + Duration::hours(1),
                price: Won::new(10).unwrap(),
                seat_count: 2,
            }))
        });
        let mut seats = MockSeatRepository::new();
        seats.expect_seats_of().returning(move |schedule_id| {
            let seat = |n, status, until| Seat::stub(n, schedule_id, status, until);
            Ok(vec![
                seat(1, SeatStatus::Held, Some(now - Duration::seconds(1))),
                seat(2, SeatStatus::Held, Some(now + Duration::seconds(60))),
            ]
            .into())
        });
        let mut waitlist = MockWaitlistStore::new();
        waitlist
            .expect_has_waiting()
            .returning(|schedule_id| Ok(schedule_id == ScheduleId(6)));
        let mut clock = MockClock::new();
        clock.expect_now().returning(move || now);
        let clock: Arc<dyn Clock> = Arc::new(clock);
        let uc = super::admitted_reader(concerts, seats, waitlist, clock);
        let map = uc
            .execute(UserId(1), Some("t"), ConcertId(1), ScheduleId(5))
            .await
            .unwrap();
        assert_eq!(&map.statuses[..], [SeatStatus::Available, SeatStatus::Held]);
        // While the schedule's waiting list waits, the lapsed hold stays HELD.
        let map = uc
            .execute(UserId(1), Some("t"), ConcertId(1), ScheduleId(6))
            .await
            .unwrap();
        assert_eq!(&map.statuses[..], [SeatStatus::Held, SeatStatus::Held]);
        let err = uc
            .execute(UserId(1), Some("t"), ConcertId(2), ScheduleId(5))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::NotFound(_)));
    }
}

#[cfg(test)]
mod reuse_tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Mutex;

    use super::*;
    use chrono::{DateTime, Duration, Utc};
    use domain::concert::Schedule;
    use domain::ports::{MockClock, MockConcertRepository, MockSeatRepository, MockWaitlistStore};
    use domain::Won;

    /// Reads of schedule 1, whose seat port hands out the same cached rows
    /// (one `Arc`) every time; `waiting` is the waiting list's answer.
    fn use_case(
        rows: Arc<[Seat]>,
        now: Arc<Mutex<DateTime<Utc>>>,
        waiting: Arc<AtomicBool>,
        asked: Arc<AtomicUsize>,
    ) -> ViewSeatMap {
        let mut concerts = MockConcertRepository::new();
        concerts.expect_find_schedule().returning(|id| {
            Ok(Some(Schedule {
                id,
                concert_id: ConcertId(1),
                starts_at: Utc::now() + Duration::days(1),
                price: Won::new(10).unwrap(),
                seat_count: 3,
            }))
        });
        let mut seats = MockSeatRepository::new();
        seats.expect_seats_of().returning(move |_| Ok(rows.clone()));
        let mut waitlist = MockWaitlistStore::new();
        waitlist.expect_has_waiting().returning(move |_| {
            asked.fetch_add(1, Ordering::SeqCst);
            Ok(waiting.load(Ordering::SeqCst))
        });
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(move || *now.lock().expect("clock"));
        let clock: Arc<dyn Clock> = Arc::new(clock);
        super::admitted_reader(concerts, seats, waitlist, clock)
    }

    fn rows(start: DateTime<Utc>) -> Arc<[Seat]> {
        let seat = |n, status, until| Seat::stub(n, ScheduleId(1), status, until);
        vec![
            seat(1, SeatStatus::Sold, None),
            seat(2, SeatStatus::Held, Some(start + Duration::seconds(5))),
            seat(3, SeatStatus::Available, None),
        ]
        .into()
    }

    async fn read(uc: &ViewSeatMap) -> SeatMap {
        uc.execute(UserId(1), Some("t"), ConcertId(1), ScheduleId(1))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn unchanged_rows_reuse_their_statuses_until_a_hold_lapses() {
        use SeatStatus::{Available, Held, Sold};
        let start = Utc::now();
        let now = Arc::new(Mutex::new(start));
        let uc = use_case(rows(start), now.clone(), Arc::default(), Arc::default());
        let first = read(&uc).await;
        assert_eq!(&first.statuses[..], [Sold, Held, Available]);
        *now.lock().expect("clock") += Duration::milliseconds(4_999);
        let again = read(&uc).await;
        assert!(
            Arc::ptr_eq(&first.statuses, &again.statuses),
            "the same rows before a lapse: the statuses derived once"
        );
        // Seat 2's hold lapses: the same rows now show it AVAILABLE.
        *now.lock().expect("clock") += Duration::milliseconds(1);
        let lapsed = read(&uc).await;
        assert_eq!(&lapsed.statuses[..], [Sold, Available, Available]);
    }

    #[tokio::test]
    async fn a_lapsed_hold_asks_the_waiting_list_on_every_read() {
        use SeatStatus::{Available, Held, Sold};
        let start = Utc::now();
        let now = Arc::new(Mutex::new(start + Duration::seconds(6)));
        let waiting = Arc::new(AtomicBool::new(true));
        let asked = Arc::new(AtomicUsize::new(0));
        let uc = use_case(rows(start), now, waiting.clone(), asked.clone());
        assert_eq!(&read(&uc).await.statuses[..], [Sold, Held, Available]);
        // The list empties while the rows stay the same: the seat is free.
        waiting.store(false, Ordering::SeqCst);
        assert_eq!(&read(&uc).await.statuses[..], [Sold, Available, Available]);
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }
}
