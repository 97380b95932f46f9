//! Orders (issue 14): a payment covers several reservations (`payment_items`),
//! payments can be refunded (`payments.refunded_at_ms`, reservation status
//! `REFUNDED`), the balance CHECK keeps only `balance >= 0` (the charge cap is
//! the domain's, so that a refund is never refused for it), and the waiting
//! list (`waitlist_entries`, `reservations.origin` = `OFFER` for its holds).
//!
//! SQLite cannot alter a CHECK, so there the `reservations` and `balances`
//! tables are rebuilt (the documented 12-step procedure: new table, copy,
//! drop, rename, re-create the indexes that were on the old one), inside one
//! transaction with foreign keys off, checked before the commit.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

const RESERVATION_STATUSES: &str = "('HELD', 'CONFIRMED', 'EXPIRED', 'CANCELLED', 'REFUNDED')";

/// New tables and indexes: the same SQL on both databases (BIGINT keys;
/// `BIGSERIAL` / `INTEGER PRIMARY KEY` differ, hence the two id spellings).
fn new_schema(id: &str) -> Vec<String> {
    vec![
        // Which reservations a payment covers, in request order. The unique
        // reservation_id makes a reservation paid at most once.
        "CREATE TABLE payment_items (\
            payment_id BIGINT NOT NULL REFERENCES payments (id) ON DELETE RESTRICT, \
            position INTEGER NOT NULL, \
            reservation_id BIGINT NOT NULL UNIQUE REFERENCES reservations (id) ON DELETE RESTRICT, \
            PRIMARY KEY (payment_id, position))"
            .to_owned(),
        "INSERT INTO payment_items (payment_id, position, reservation_id) \
            SELECT id, 0, reservation_id FROM payments"
            .to_owned(),
        "ALTER TABLE payments ADD COLUMN refunded_at_ms BIGINT NULL".to_owned(),
        format!(
            "CREATE TABLE waitlist_entries (\
            id {id}, \
            user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE RESTRICT, \
            concert_id BIGINT NOT NULL, \
            schedule_id BIGINT NOT NULL REFERENCES schedules (id) ON DELETE RESTRICT, \
            status VARCHAR(16) NOT NULL CHECK (status IN ('WAITING', 'OFFERED', 'FULFILLED', 'LAPSED', 'LEFT')), \
            reservation_id BIGINT NULL UNIQUE REFERENCES reservations (id) ON DELETE RESTRICT, \
            offer_expires_at_ms BIGINT NULL, \
            created_at_ms BIGINT NOT NULL, \
            CHECK (status <> 'WAITING' OR reservation_id IS NULL))"
        ),
        // One live entry per user and schedule.
        "CREATE UNIQUE INDEX ux_waitlist_live ON waitlist_entries (user_id, schedule_id) \
            WHERE status IN ('WAITING', 'OFFERED')"
            .to_owned(),
        // The head of a schedule's list.
        "CREATE INDEX ix_waitlist_waiting ON waitlist_entries (schedule_id, id) WHERE status = 'WAITING'"
            .to_owned(),
        "CREATE INDEX ix_waitlist_user ON waitlist_entries (user_id, id)".to_owned(),
        "CREATE INDEX ix_payments_user ON payments (user_id, id)".to_owned(),
    ]
}

async fn exec(db: &SchemaManagerConnection<'_>, sql: &str) -> Result<(), DbErr> {
    db.execute_unprepared(sql).await.map(|_| ())
}

async fn postgres_up(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    // Column CHECKs made by the first migration carry PostgreSQL's default names.
    for sql in [
        "ALTER TABLE reservations DROP CONSTRAINT IF EXISTS reservations_status_check",
        &format!(
            "ALTER TABLE reservations ADD CONSTRAINT ck_reservations_status CHECK (status IN {RESERVATION_STATUSES})"
        ),
        "ALTER TABLE reservations ADD COLUMN origin VARCHAR(16) NOT NULL DEFAULT 'HOLD' \
            CONSTRAINT ck_reservations_origin CHECK (origin IN ('HOLD', 'OFFER'))",
        "ALTER TABLE balances DROP CONSTRAINT IF EXISTS balances_balance_check",
        "ALTER TABLE balances ADD CONSTRAINT ck_balances_balance CHECK (balance >= 0)",
    ] {
        exec(db, sql).await?;
    }
    for sql in new_schema("BIGSERIAL PRIMARY KEY") {
        exec(db, &sql).await?;
    }
    Ok(())
}

/// The `CREATE INDEX` / `CREATE TRIGGER` statements on `table`, to replay after a rebuild
/// (whichever migration made them).
async fn sqlite_dependents(
    db: &SchemaManagerConnection<'_>,
    table: &str,
) -> Result<Vec<String>, DbErr> {
    let rows = db
        .query_all(Statement::from_sql_and_values(
            DatabaseBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL",
            [table.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| row.try_get::<String>("", "sql"))
        .collect()
}

/// Rebuilds `table` as `create` (which names it `<table>_new`), copying `columns`.
async fn sqlite_rebuild(
    db: &SchemaManagerConnection<'_>,
    table: &str,
    create: &str,
    columns: &str,
) -> Result<(), DbErr> {
    let dependents = sqlite_dependents(db, table).await?;
    exec(db, create).await?;
    exec(
        db,
        &format!("INSERT INTO {table}_new ({columns}) SELECT {columns} FROM {table}"),
    )
    .await?;
    exec(db, &format!("DROP TABLE {table}")).await?;
    exec(db, &format!("ALTER TABLE {table}_new RENAME TO {table}")).await?;
    for sql in dependents {
        exec(db, &sql).await?;
    }
    Ok(())
}

async fn sqlite_up(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    sqlite_rebuild(
        db,
        "reservations",
        &format!(
            "CREATE TABLE reservations_new (\
            id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, \
            user_id BIGINT NOT NULL, \
            concert_id BIGINT NOT NULL, \
            schedule_id BIGINT NOT NULL, \
            seat_id BIGINT NOT NULL, \
            seat_number INTEGER NOT NULL, \
            seat_version BIGINT NOT NULL, \
            price BIGINT NOT NULL, \
            status VARCHAR(16) NOT NULL CHECK (status IN {RESERVATION_STATUSES}), \
            expires_at_ms BIGINT NOT NULL, \
            created_at_ms BIGINT NOT NULL, \
            origin VARCHAR(16) NOT NULL DEFAULT 'HOLD' CHECK (origin IN ('HOLD', 'OFFER')), \
            FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT, \
            FOREIGN KEY (seat_id) REFERENCES seats (id) ON DELETE RESTRICT)"
        ),
        "id, user_id, concert_id, schedule_id, seat_id, seat_number, seat_version, price, status, expires_at_ms, created_at_ms",
    )
    .await?;
    sqlite_rebuild(
        db,
        "balances",
        "CREATE TABLE balances_new (\
            user_id BIGINT NOT NULL PRIMARY KEY, \
            balance BIGINT NOT NULL CHECK (balance >= 0), \
            version BIGINT NOT NULL DEFAULT 0, \
            FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT)",
        "user_id, balance, version",
    )
    .await?;
    for sql in new_schema("INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT") {
        exec(db, &sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DatabaseBackend::Sqlite {
            // The migrator runs this in a transaction on PostgreSQL.
            return postgres_up(db).await;
        }
        // Foreign keys can only be switched off outside a transaction; the
        // migration pool has one connection, so these statements share it.
        exec(db, "PRAGMA foreign_keys = OFF").await?;
        exec(db, "BEGIN IMMEDIATE").await?;
        let result = async {
            sqlite_up(db).await?;
            let broken = db
                .query_all(Statement::from_string(
                    DatabaseBackend::Sqlite,
                    "PRAGMA foreign_key_check",
                ))
                .await?;
            if broken.is_empty() {
                Ok(())
            } else {
                Err(DbErr::Migration(format!(
                    "{} foreign key violations after the rebuild",
                    broken.len()
                )))
            }
        }
        .await;
        match result {
            Ok(()) => exec(db, "COMMIT").await?,
            Err(_) => exec(db, "ROLLBACK").await?,
        }
        exec(db, "PRAGMA foreign_keys = ON").await?;
        result
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "orders: refunded payments and offers cannot be represented in the older schema".into(),
        ))
    }
}
