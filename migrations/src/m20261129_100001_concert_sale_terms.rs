//! A concert's sale terms: when its sale opens and how many seats one user
//! may own. Plain added columns, so SQLite needs no table rebuild; concerts
//! that existed before are open from the upgrade on, with the default limit.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Concerts {
    Table,
    SaleOpensAtMs,
    MaxTicketsPerUser,
}

/// The contract's default `reservation.max_tickets_per_user`.
const DEFAULT_MAX_TICKETS: i32 = 4;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Concerts::Table)
                    .add_column(
                        ColumnDef::new(Concerts::SaleOpensAtMs)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Concerts::Table)
                    .add_column(
                        ColumnDef::new(Concerts::MaxTicketsPerUser)
                            .integer()
                            .not_null()
                            .default(DEFAULT_MAX_TICKETS)
                            .check(Expr::col(Concerts::MaxTicketsPerUser).between(1, 50)),
                    )
                    .to_owned(),
            )
            .await?;
        // Existing concerts: their sale is open from now on (they had no
        // opening time, and their lines may already be moving).
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE concerts SET sale_opens_at_ms = {now_ms} WHERE sale_opens_at_ms = 0"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Concerts::MaxTicketsPerUser, Concerts::SaleOpensAtMs] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Concerts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
