use std::sync::Arc;

use domain::ports::WaitlistStore;
use domain::waitlist::WaitlistEntry;
use domain::{DomainError, UserId, WaitlistEntryId};

/// The caller's waiting-list entries, and leaving one.
pub struct WaitlistEntries {
    pub waitlist: Arc<dyn WaitlistStore>,
}

/// One page of entries, newest first, and the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistPage {
    pub entries: Vec<WaitlistEntry>,
    pub next: Option<WaitlistEntryId>,
}

impl WaitlistEntries {
    /// At most `limit` entries older than `after` (an entry id from a previous page).
    pub async fn list(
        &self,
        user_id: UserId,
        limit: u32,
        after: Option<WaitlistEntryId>,
    ) -> Result<WaitlistPage, DomainError> {
        if !(1..=500).contains(&limit) {
            return Err(DomainError::validation("limit must be 1-500"));
        }
        let mut entries = self.waitlist.list_of(user_id, limit + 1, after).await?;
        let next = if entries.len() > limit as usize {
            entries.truncate(limit as usize);
            entries.last().map(|e| e.id)
        } else {
            None
        };
        Ok(WaitlistPage { entries, next })
    }

    /// WAITING → LEFT; someone else's entry is NOT_FOUND.
    #[tracing::instrument(skip(self))]
    pub async fn leave(
        &self,
        user_id: UserId,
        id: WaitlistEntryId,
    ) -> Result<WaitlistEntry, DomainError> {
        let entry = self
            .waitlist
            .find(id)
            .await?
            .filter(|e| e.user_id == user_id)
            .ok_or_else(|| DomainError::not_found(format!("waiting-list entry {id}")))?;
        entry.ensure_leavable()?;
        self.waitlist.leave(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use domain::ports::MockWaitlistStore;
    use domain::waitlist::WaitlistStatus;
    use domain::{ConcertId, ScheduleId};

    fn entry(id: i64, owner: i64, status: WaitlistStatus) -> WaitlistEntry {
        WaitlistEntry {
            id: WaitlistEntryId(id),
            user_id: UserId(owner),
            concert_id: ConcertId(1),
            schedule_id: ScheduleId(1),
            status,
            position: None,
            reservation_id: None,
            offer_expires_at: None,
            created_at: Utc::now(),
        }
    }

    #[tokio::test]
    async fn pages_ask_one_more_to_know_of_a_next() {
        let mut store = MockWaitlistStore::new();
        store
            .expect_list_of()
            .withf(|_, limit, after| *limit == 3 && *after == Some(WaitlistEntryId(9)))
            .returning(|_, _, _| {
                Ok((1..=3)
                    .rev()
                    .map(|i| entry(i, 1, WaitlistStatus::Waiting))
                    .collect())
            });
        let uc = WaitlistEntries {
            waitlist: Arc::new(store),
        };
        let page = uc
            .list(UserId(1), 2, Some(WaitlistEntryId(9)))
            .await
            .unwrap();
        assert_eq!(page.entries.len(), 2);
        assert_eq!(page.next, Some(WaitlistEntryId(2)));
        assert!(uc.list(UserId(1), 0, None).await.is_err());
        assert!(uc.list(UserId(1), 501, None).await.is_err());
    }

    #[tokio::test]
    async fn only_ones_own_waiting_entry_is_left() {
        let mut store = MockWaitlistStore::new();
        store.expect_find().returning(|id| {
            Ok(Some(if id == WaitlistEntryId(1) {
                entry(1, 1, WaitlistStatus::Offered)
            } else {
                entry(2, 2, WaitlistStatus::Waiting)
            }))
        });
        let uc = WaitlistEntries {
            waitlist: Arc::new(store),
        };
        assert_eq!(
            uc.leave(UserId(1), WaitlistEntryId(1)).await,
            Err(DomainError::WaitlistEntryClosed(WaitlistStatus::Offered))
        );
        assert!(matches!(
            uc.leave(UserId(1), WaitlistEntryId(2)).await,
            Err(DomainError::NotFound(_))
        ));
    }
}
