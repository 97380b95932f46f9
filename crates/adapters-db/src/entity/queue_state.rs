//! The `queue_states` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "queue_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub concert_id: i64,
    pub issued_seq: i64,
    pub admitted_seq: i64,
    pub rate_anchor_at_ms: i64,
    pub rate_anchor_seq: i64,
    pub rate_milli_per_sec: i64,
    pub version: i64,
    /// PREQUEUE tokens not yet drawn into the line.
    pub prequeued: i64,
    /// When the pre-queue was drawn; NULL until then (and for a line that never had one).
    pub opened_at_ms: Option<i64>,
    pub paused: bool,
    /// The admin's cap; NULL keeps the configured one.
    pub max_active: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
