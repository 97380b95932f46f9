//! `users.version`: a counter every write that can add to a user's holds or
//! tickets bumps (a hold, an offer to them), so that a hold done as ONE
//! statement can tell whether the counts it read in its snapshot are still
//! current: its own bump is conditional on the version it read. See
//! docs/concurrency.md, "The per-user version for the limits".

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::Version)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::Version)
                    .to_owned(),
            )
            .await
    }
}
