use std::sync::Arc;

use domain::ports::{Clock, ConcertRepository, WaitlistStore};
use domain::waitlist::{decide_join, JoinFacts, WaitlistEntry};
use domain::{ConcertId, DomainError, ScheduleId, UserId};

/// Joins a sold-out schedule's waiting list (no queue token: the list is the line).
pub struct JoinWaitlist {
    pub concerts: Arc<dyn ConcertRepository>,
    pub waitlist: Arc<dyn WaitlistStore>,
    pub clock: Arc<dyn Clock>,
}

impl JoinWaitlist {
    /// The entry, and whether it is new (`false`: the caller's live entry).
    #[tracing::instrument(skip(self))]
    pub async fn execute(
        &self,
        user_id: UserId,
        concert_id: ConcertId,
        schedule_id: ScheduleId,
    ) -> Result<(WaitlistEntry, bool), DomainError> {
        let not_found =
            || DomainError::not_found(format!("schedule {schedule_id} of concert {concert_id}"));
        let schedule = self
            .concerts
            .find_schedule(schedule_id)
            .await?
            .filter(|s| s.concert_id == concert_id)
            .ok_or_else(not_found)?;
        let concert = self
            .concerts
            .find(concert_id)
            .await?
            .ok_or_else(not_found)?;
        // A repeat answers with the live entry (200), whatever the list's state:
        // an offer, for one, counts toward the very limits checked below.
        if let Some(live) = self.waitlist.live_entry(user_id, schedule_id).await? {
            return Ok((live, false));
        }
        let now = self.clock.now();
        let facts = JoinFacts {
            sale: concert.sale(),
            owned_tickets: self
                .waitlist
                .owned_tickets(user_id, concert_id, now)
                .await?,
            available_seats: self.waitlist.available_seats(schedule_id, now).await?,
        };
        let entry = decide_join(user_id, &schedule, facts, now)?;
        self.waitlist.join(&entry).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use domain::concert::{Concert, Schedule};
    use domain::ports::{MockClock, MockConcertRepository, MockWaitlistStore};
    use domain::waitlist::WaitlistStatus;
    use domain::{WaitlistEntryId, Won};

    fn use_case(available: u32, waitlist: MockWaitlistStore) -> JoinWaitlist {
        let now = Utc::now();
        let mut concerts = MockConcertRepository::new();
        concerts.expect_find_schedule().returning(move |id| {
            Ok(Some(Schedule {
                id,
                concert_id: ConcertId(2),
                starts_at: now + Duration::hours(1),
                price: Won::new(1).unwrap(),
                seat_count: 1,
            }))
        });
        concerts.expect_find().returning(move |id| {
            Ok(Some(Concert {
                id,
                title: "t".into(),
                venue: "v".into(),
                sale_opens_at: now,
                max_tickets_per_user: 4,
            }))
        });
        let mut waitlist = waitlist;
        waitlist.expect_live_entry().returning(|_, _| Ok(None));
        waitlist.expect_owned_tickets().returning(|_, _, _| Ok(0));
        waitlist
            .expect_available_seats()
            .returning(move |_, _| Ok(available));
        let mut clock = MockClock::new();
        clock.expect_now().returning(move || now);
        JoinWaitlist {
            concerts: Arc::new(concerts),
            waitlist: Arc::new(waitlist),
            clock: Arc::new(clock),
        }
    }

    #[tokio::test]
    async fn a_sold_out_schedule_is_joined_once_decided() {
        let mut waitlist = MockWaitlistStore::new();
        waitlist
            .expect_join()
            .withf(|e| e.schedule_id == ScheduleId(3) && e.user_id == UserId(1))
            .times(1)
            .returning(|e| {
                Ok((
                    WaitlistEntry {
                        id: WaitlistEntryId(9),
                        user_id: e.user_id,
                        concert_id: e.concert_id,
                        schedule_id: e.schedule_id,
                        status: WaitlistStatus::Waiting,
                        position: Some(1),
                        reservation_id: None,
                        offer_expires_at: None,
                        created_at: e.now,
                    },
                    true,
                ))
            });
        let (entry, created) = use_case(0, waitlist)
            .execute(UserId(1), ConcertId(2), ScheduleId(3))
            .await
            .unwrap();
        assert!(created);
        assert_eq!(entry.position, Some(1));
    }

    #[tokio::test]
    async fn a_free_seat_or_another_concert_never_reaches_the_store() {
        let uc = use_case(1, MockWaitlistStore::new());
        assert_eq!(
            uc.execute(UserId(1), ConcertId(2), ScheduleId(3)).await,
            Err(DomainError::SeatsAvailable)
        );
        assert!(matches!(
            uc.execute(UserId(1), ConcertId(5), ScheduleId(3)).await,
            Err(DomainError::NotFound(_))
        ));
    }
}
