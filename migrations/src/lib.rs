//! Database schema, for PostgreSQL and SQLite alike.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_initial;
mod m20261129_100001_concert_sale_terms;
mod m20261129_100002_prequeue_and_controls;
mod m20261129_200001_orders;
mod m20261130_100001_user_version;
mod m20261130_200001_live_reservations_index;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_initial::Migration),
            Box::new(m20261129_100001_concert_sale_terms::Migration),
            Box::new(m20261129_100002_prequeue_and_controls::Migration),
            Box::new(m20261129_200001_orders::Migration),
            Box::new(m20261130_100001_user_version::Migration),
            Box::new(m20261130_200001_live_reservations_index::Migration),
        ]
    }
}
