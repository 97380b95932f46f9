use std::collections::HashMap;
use std::sync::RwLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::concert::{Concert, CreatedConcert, NewConcert, Schedule, ScheduleAvailability};
use domain::ports::ConcertRepository;
use domain::{ConcertId, DomainError, Page, PageRequest, ScheduleId, StoreError, Won};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use crate::entity::{concert, queue_state, schedule, seat};
use crate::error::db_err;
use crate::time::{from_ms, to_ms};

/// The catalogue in the database. Schedules and concerts never change once
/// created, so each instance keeps the ones it has read: every hold and
/// seat-map read looks one up, every join and hold its concert.
pub struct DbConcertRepository {
    db: DatabaseConnection,
    schedules: RwLock<HashMap<i64, Schedule>>,
    concerts: RwLock<HashMap<i64, Concert>>,
}

impl DbConcertRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            schedules: RwLock::new(HashMap::new()),
            concerts: RwLock::new(HashMap::new()),
        }
    }
}

impl From<concert::Model> for Concert {
    fn from(m: concert::Model) -> Self {
        Concert {
            id: ConcertId(m.id),
            title: m.title,
            venue: m.venue,
            sale_opens_at: from_ms(m.sale_opens_at_ms),
            max_tickets_per_user: m.max_tickets_per_user.max(1) as u32,
        }
    }
}

impl TryFrom<schedule::Model> for Schedule {
    type Error = StoreError;

    fn try_from(m: schedule::Model) -> Result<Self, StoreError> {
        Ok(Schedule {
            id: ScheduleId(m.id),
            concert_id: ConcertId(m.concert_id),
            starts_at: from_ms(m.starts_at_ms),
            price: Won::new(m.price)?,
            seat_count: m.seat_count as u32,
        })
    }
}

/// Seats that can be taken at `now_ms`: free, or held past expiry while the
/// schedule's waiting list is empty (else the lapsed seat is the list's).
pub(crate) fn takeable_at(now_ms: i64) -> Condition {
    Condition::any()
        .add(seat::Column::Status.eq("AVAILABLE"))
        .add(
            Condition::all()
                .add(seat::Column::Status.eq("HELD"))
                .add(seat::Column::HoldExpiresAtMs.lte(now_ms))
                .add(Expr::cust(
                    "NOT EXISTS (SELECT 1 FROM waitlist_entries w \
                     WHERE w.schedule_id = seats.schedule_id AND w.status = 'WAITING')",
                )),
        )
}

#[async_trait]
impl ConcertRepository for DbConcertRepository {
    async fn create(&self, new: &NewConcert) -> Result<CreatedConcert, DomainError> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let concert = concert::ActiveModel {
            title: Set(new.title.clone()),
            venue: Set(new.venue.clone()),
            sale_opens_at_ms: Set(to_ms(new.sale.sale_opens_at)),
            max_tickets_per_user: Set(new.sale.max_tickets_per_user as i32),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        queue_state::ActiveModel {
            concert_id: Set(concert.id),
            issued_seq: Set(0),
            admitted_seq: Set(0),
            rate_anchor_at_ms: Set(0),
            rate_anchor_seq: Set(0),
            rate_milli_per_sec: Set(0),
            version: Set(0),
            prequeued: Set(0),
            opened_at_ms: Set(None),
            paused: Set(false),
            max_active: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        let mut schedules = Vec::with_capacity(new.schedules.len());
        for s in &new.schedules {
            let created = schedule::ActiveModel {
                concert_id: Set(concert.id),
                starts_at_ms: Set(to_ms(s.starts_at)),
                price: Set(s.price.value()),
                seat_count: Set(s.seat_count as i32),
                ..Default::default()
            }
            .insert(&txn)
            .await
            .map_err(db_err)?;
            let seats = (1..=s.seat_count as i32).map(|number| seat::ActiveModel {
                schedule_id: Set(created.id),
                seat_number: Set(number),
                price: Set(s.price.value()),
                status: Set("AVAILABLE".into()),
                hold_expires_at_ms: Set(None),
                version: Set(0),
                ..Default::default()
            });
            seat::Entity::insert_many(seats)
                .exec(&txn)
                .await
                .map_err(db_err)?;
            schedules.push(created.try_into()?);
        }
        txn.commit().await.map_err(db_err)?;
        Ok(CreatedConcert {
            concert: concert.into(),
            schedules,
        })
    }

    async fn list(&self, page: PageRequest) -> Result<Page<Concert>, DomainError> {
        let mut query = concert::Entity::find();
        if let Some(after) = page.after() {
            query = query.filter(concert::Column::Id.gt(after));
        }
        let rows = query
            .order_by_asc(concert::Column::Id)
            .limit(page.fetch())
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(Page::from_rows(rows, page, |m| m.id).map(Into::into))
    }

    async fn exists(&self, id: ConcertId) -> Result<bool, DomainError> {
        let found = concert::Entity::find_by_id(id.0)
            .count(&self.db)
            .await
            .map_err(db_err)?;
        Ok(found > 0)
    }

    async fn find(&self, id: ConcertId) -> Result<Option<Concert>, DomainError> {
        if let Some(found) = self
            .concerts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id.0)
        {
            return Ok(Some(found.clone()));
        }
        let found: Option<Concert> = concert::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(Into::into);
        if let Some(concert) = &found {
            let mut cache = self.concerts.write().unwrap_or_else(|e| e.into_inner());
            cache.insert(id.0, concert.clone());
        }
        Ok(found)
    }

    async fn is_empty(&self) -> Result<bool, DomainError> {
        Ok(concert::Entity::find()
            .count(&self.db)
            .await
            .map_err(db_err)?
            == 0)
    }

    async fn upcoming_schedules(
        &self,
        id: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ScheduleAvailability>, DomainError> {
        let now_ms = to_ms(now);
        let schedules = schedule::Entity::find()
            .filter(schedule::Column::ConcertId.eq(id.0))
            .filter(schedule::Column::StartsAtMs.gt(now_ms))
            .order_by_asc(schedule::Column::StartsAtMs)
            .order_by_asc(schedule::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let ids: Vec<i64> = schedules.iter().map(|s| s.id).collect();
        let free: HashMap<i64, i64> = seat::Entity::find()
            .select_only()
            .column(seat::Column::ScheduleId)
            .column_as(seat::Column::Id.count(), "free")
            .filter(seat::Column::ScheduleId.is_in(ids))
            .filter(takeable_at(now_ms))
            .group_by(seat::Column::ScheduleId)
            .into_tuple::<(i64, i64)>()
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .collect();
        schedules
            .into_iter()
            .map(|s| {
                Ok(ScheduleAvailability {
                    available_seats: free.get(&s.id).copied().unwrap_or(0) as u32,
                    schedule: s.try_into()?,
                })
            })
            .collect()
    }

    async fn find_schedule(&self, id: ScheduleId) -> Result<Option<Schedule>, DomainError> {
        if let Some(found) = self
            .schedules
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id.0)
        {
            return Ok(Some(found.clone()));
        }
        let found = schedule::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(Schedule::try_from)
            .transpose()?;
        if let Some(schedule) = &found {
            let mut cache = self.schedules.write().unwrap_or_else(|e| e.into_inner());
            cache.insert(id.0, schedule.clone());
        }
        Ok(found)
    }
}
