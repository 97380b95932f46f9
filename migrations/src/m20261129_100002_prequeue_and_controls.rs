//! The pre-queue and live queue control.
//!
//! `queue_tokens.status` learns `PREQUEUE`, and so does the "one live token
//! per user and concert" index. PostgreSQL swaps the CHECK in place; SQLite
//! cannot alter a CHECK, so the table is rebuilt (same columns, same rows,
//! same indexes) inside this migration's transaction. `queue_states` gains the
//! pre-queue's bookkeeping and the admin's controls as plain added columns.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum QueueStates {
    Table,
    Prequeued,
    OpenedAtMs,
    Paused,
    MaxActive,
}

const LIVE_INDEX: &str = "CREATE UNIQUE INDEX ux_queue_tokens_live ON queue_tokens (user_id, concert_id) WHERE status IN ('PREQUEUE', 'WAITING', 'ACTIVE')";

const POSTGRES: &[&str] = &[
    "ALTER TABLE queue_tokens DROP CONSTRAINT queue_tokens_status_check",
    "ALTER TABLE queue_tokens ADD CONSTRAINT queue_tokens_status_check CHECK (status IN ('PREQUEUE', 'WAITING', 'ACTIVE', 'EXPIRED'))",
    "DROP INDEX ux_queue_tokens_live",
    LIVE_INDEX,
];

/// The initial table with the new CHECK; copied over, then renamed into place.
const SQLITE: &[&str] = &[
    r#"CREATE TABLE "queue_tokens_new" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "token" varchar(64) NOT NULL UNIQUE, "user_id" bigint NOT NULL, "concert_id" bigint NOT NULL, "seq" bigint NOT NULL, "status" varchar(16) NOT NULL CHECK ("status" IN ('PREQUEUE', 'WAITING', 'ACTIVE', 'EXPIRED')), "issued_at_ms" bigint NOT NULL, "expires_at_ms" bigint NULL, FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE RESTRICT )"#,
    "INSERT INTO queue_tokens_new (id, token, user_id, concert_id, seq, status, issued_at_ms, expires_at_ms) SELECT id, token, user_id, concert_id, seq, status, issued_at_ms, expires_at_ms FROM queue_tokens",
    "DROP TABLE queue_tokens",
    "ALTER TABLE queue_tokens_new RENAME TO queue_tokens",
    r#"CREATE UNIQUE INDEX "ux_queue_tokens_concert_seq" ON "queue_tokens" ("concert_id", "seq")"#,
    LIVE_INDEX,
    "CREATE INDEX ix_queue_tokens_active ON queue_tokens (concert_id, expires_at_ms) WHERE status = 'ACTIVE'",
];

/// The sales view sums paid reservations per schedule without a scan.
const SALES_INDEX: &str = "CREATE INDEX ix_reservations_confirmed_schedule ON reservations (schedule_id) WHERE status = 'CONFIRMED'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ColumnDef::new(QueueStates::Prequeued)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(QueueStates::OpenedAtMs)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(QueueStates::Paused)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(QueueStates::MaxActive)
                .big_integer()
                .null()
                .check(Expr::col(QueueStates::MaxActive).between(1, 100_000))
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(QueueStates::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        let statements = match db.get_database_backend() {
            DatabaseBackend::Sqlite => SQLITE,
            _ => POSTGRES,
        };
        for sql in statements.iter().chain([&SALES_INDEX]) {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // PREQUEUE rows could not go back under the old CHECK: no way down.
        Err(DbErr::Migration(
            "the pre-queue migration cannot be reverted".into(),
        ))
    }
}
