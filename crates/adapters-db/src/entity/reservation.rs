//! The `reservations` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reservations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub concert_id: i64,
    pub schedule_id: i64,
    pub seat_id: i64,
    pub seat_number: i32,
    /// The seat version this hold produced: later changes to the seat are checked against it.
    pub seat_version: i64,
    pub price: i64,
    pub status: String,
    pub expires_at_ms: i64,
    pub created_at_ms: i64,
    /// `HOLD`, or `OFFER` when the waiting list handed the seat over.
    pub origin: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
