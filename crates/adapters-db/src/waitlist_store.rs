//! Waiting lists: join, list, leave. Hand-overs live in `waitlist_handover`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::WaitlistStore;
use domain::waitlist::{NewEntry, WaitlistEntry, WaitlistStatus};
use domain::{
    ConcertId, DomainError, ReservationId, ScheduleId, StoreError, UserId, WaitlistEntryId,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::concert_repository::takeable_at;
use crate::entity::{seat, waitlist_entry};
use crate::error::{db_err, is_unique_violation};
use crate::reservation_store::owned_tickets;
use crate::time::{from_ms, to_ms};

/// Waiting-list entries in the database.
pub struct DbWaitlistStore {
    pub db: DatabaseConnection,
}

/// The entry as clients see it: a WAITING entry's position is counted now.
async fn view(
    db: &impl ConnectionTrait,
    m: waitlist_entry::Model,
) -> Result<WaitlistEntry, DomainError> {
    let status: WaitlistStatus = m.status.parse()?;
    let position = if status == WaitlistStatus::Waiting {
        let ahead = waitlist_entry::Entity::find()
            .filter(waitlist_entry::Column::ScheduleId.eq(m.schedule_id))
            .filter(waitlist_entry::Column::Status.eq("WAITING"))
            .filter(waitlist_entry::Column::Id.lt(m.id))
            .count(db)
            .await
            .map_err(db_err)?;
        Some(ahead as u32 + 1)
    } else {
        None
    };
    Ok(WaitlistEntry {
        id: WaitlistEntryId(m.id),
        user_id: UserId(m.user_id),
        concert_id: ConcertId(m.concert_id),
        schedule_id: ScheduleId(m.schedule_id),
        status,
        position,
        reservation_id: m.reservation_id.map(ReservationId),
        offer_expires_at: m.offer_expires_at_ms.map(from_ms),
        created_at: from_ms(m.created_at_ms),
    })
}

async fn live_entry(
    db: &impl ConnectionTrait,
    user_id: UserId,
    schedule_id: ScheduleId,
) -> Result<Option<waitlist_entry::Model>, DomainError> {
    waitlist_entry::Entity::find()
        .filter(waitlist_entry::Column::UserId.eq(user_id.0))
        .filter(waitlist_entry::Column::ScheduleId.eq(schedule_id.0))
        .filter(waitlist_entry::Column::Status.is_in(["WAITING", "OFFERED"]))
        .one(db)
        .await
        .map_err(db_err)
}

#[async_trait]
impl WaitlistStore for DbWaitlistStore {
    async fn join(&self, entry: &NewEntry) -> Result<(WaitlistEntry, bool), DomainError> {
        if let Some(live) = live_entry(&self.db, entry.user_id, entry.schedule_id).await? {
            return Ok((view(&self.db, live).await?, false));
        }
        let inserted = waitlist_entry::ActiveModel {
            user_id: Set(entry.user_id.0),
            concert_id: Set(entry.concert_id.0),
            schedule_id: Set(entry.schedule_id.0),
            status: Set("WAITING".into()),
            reservation_id: Set(None),
            offer_expires_at_ms: Set(None),
            created_at_ms: Set(to_ms(entry.now)),
            ..Default::default()
        }
        .insert(&self.db)
        .await;
        match inserted {
            Ok(created) => Ok((view(&self.db, created).await?, true)),
            // A racing join of the same user won: answer with its entry.
            Err(e) if is_unique_violation(&e) => {
                let live = live_entry(&self.db, entry.user_id, entry.schedule_id)
                    .await?
                    .ok_or(DomainError::Store(StoreError::Conflict))?;
                Ok((view(&self.db, live).await?, false))
            }
            Err(e) => Err(db_err(e)),
        }
    }

    async fn live_entry(
        &self,
        user_id: UserId,
        schedule_id: ScheduleId,
    ) -> Result<Option<WaitlistEntry>, DomainError> {
        match live_entry(&self.db, user_id, schedule_id).await? {
            Some(m) => Ok(Some(view(&self.db, m).await?)),
            None => Ok(None),
        }
    }

    async fn find(&self, id: WaitlistEntryId) -> Result<Option<WaitlistEntry>, DomainError> {
        match waitlist_entry::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
        {
            Some(m) => Ok(Some(view(&self.db, m).await?)),
            None => Ok(None),
        }
    }

    async fn list_of(
        &self,
        user_id: UserId,
        limit: u32,
        before: Option<WaitlistEntryId>,
    ) -> Result<Vec<WaitlistEntry>, DomainError> {
        let mut query =
            waitlist_entry::Entity::find().filter(waitlist_entry::Column::UserId.eq(user_id.0));
        if let Some(before) = before {
            query = query.filter(waitlist_entry::Column::Id.lt(before.0));
        }
        let rows = query
            .order_by_desc(waitlist_entry::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let mut entries = Vec::with_capacity(rows.len());
        for m in rows {
            entries.push(view(&self.db, m).await?);
        }
        Ok(entries)
    }

    async fn leave(&self, id: WaitlistEntryId) -> Result<WaitlistEntry, DomainError> {
        let left = waitlist_entry::Entity::update_many()
            .col_expr(waitlist_entry::Column::Status, Expr::value("LEFT"))
            .filter(waitlist_entry::Column::Id.eq(id.0))
            .filter(waitlist_entry::Column::Status.eq("WAITING"))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        let entry = self
            .find(id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("waiting-list entry {id}")))?;
        if left.rows_affected == 0 {
            // An offer (or another leave) got there first.
            entry.ensure_leavable()?;
        }
        Ok(entry)
    }

    async fn has_waiting(&self, schedule_id: ScheduleId) -> Result<bool, DomainError> {
        let n = waitlist_entry::Entity::find()
            .filter(waitlist_entry::Column::ScheduleId.eq(schedule_id.0))
            .filter(waitlist_entry::Column::Status.eq("WAITING"))
            .limit(1)
            .count(&self.db)
            .await
            .map_err(db_err)?;
        Ok(n > 0)
    }

    async fn available_seats(
        &self,
        schedule_id: ScheduleId,
        now: DateTime<Utc>,
    ) -> Result<u32, DomainError> {
        let n = seat::Entity::find()
            .filter(seat::Column::ScheduleId.eq(schedule_id.0))
            .filter(takeable_at(to_ms(now)))
            .count(&self.db)
            .await
            .map_err(db_err)?;
        Ok(n as u32)
    }

    async fn owned_tickets(
        &self,
        user_id: UserId,
        concert_id: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<u64, DomainError> {
        owned_tickets(&self.db, user_id, concert_id, now).await
    }
}
