//! The `payment_items` table: the reservations a payment covers.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub payment_id: i64,
    /// Request order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub reservation_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
