//! An index of each user's live reservations (HELD or CONFIRMED), by
//! concert. A hold counts the user's live holds and the tickets they own for
//! the concert; through `ix_reservations_user` those counts fetched every
//! reservation the user ever had (expired, cancelled, refunded) from the
//! heap to read its status. This one holds only the rows the counts want.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A partial index: sea-query's index builder cannot say WHERE on
        // both backends, and the statement is the same on both.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_reservations_user_live ON reservations (user_id, concert_id) \
                 WHERE status IN ('HELD', 'CONFIRMED')",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ix_reservations_user_live")
            .await
            .map(|_| ())
    }
}
