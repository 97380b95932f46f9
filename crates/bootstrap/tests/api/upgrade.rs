//! The orders migration on a database made by the first schema, with data in it.

use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::helpers::{e2e, fresh_database_url, Backend};

e2e!(the_orders_migration_upgrades_a_live_database);

async fn exec(db: &DatabaseConnection, sql: &str) -> Result<(), sea_orm::DbErr> {
    db.execute_unprepared(sql).await.map(|_| ())
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn the_orders_migration_upgrades_a_live_database(backend: Backend) {
    let url = fresh_database_url(&backend.db).await;
    let db = adapters_db::connect(&url, 1).await.unwrap();
    migration::Migrator::up(&db, Some(1)).await.unwrap();
    for sql in [
        "INSERT INTO users (id, login_id, password_hash, created_at_ms) VALUES (1, 'old', 'x', 0)",
        "INSERT INTO concerts (id, title, venue) VALUES (1, 't', 'v')",
        "INSERT INTO schedules (id, concert_id, starts_at_ms, price, seat_count) VALUES (1, 1, 4102444800000, 10, 2)",
        "INSERT INTO seats (id, schedule_id, seat_number, status, price, hold_expires_at_ms, version) VALUES (1, 1, 1, 'SOLD', 10, NULL, 2), (2, 1, 2, 'AVAILABLE', 10, NULL, 0)",
        "INSERT INTO reservations (id, user_id, concert_id, schedule_id, seat_id, seat_number, seat_version, price, status, expires_at_ms, created_at_ms) VALUES (7, 1, 1, 1, 1, 1, 1, 10, 'CONFIRMED', 0, 0)",
        "INSERT INTO balances (user_id, balance, version) VALUES (1, 90, 2)",
        "INSERT INTO payments (id, reservation_id, user_id, amount, balance_after, paid_at_ms) VALUES (3, 7, 1, 10, 90, 0)",
    ] {
        exec(&db, sql).await.unwrap();
    }
    // Before: a refunded status and a balance past the cap are refused.
    assert!(exec(&db, "UPDATE balances SET balance = 2000000000")
        .await
        .is_err());
    drop(db);

    adapters_db_migrate(&url).await;
    let db = adapters_db::connect(&url, 1).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM reservations WHERE id = 7 AND status = 'CONFIRMED' AND origin = 'HOLD'").await, 1);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM payment_items WHERE payment_id = 3 AND reservation_id = 7"
        )
        .await,
        1
    );
    assert_eq!(
        count(&db, "SELECT balance FROM balances WHERE user_id = 1").await,
        90
    );
    exec(
        &db,
        "UPDATE reservations SET status = 'REFUNDED' WHERE id = 7",
    )
    .await
    .unwrap();
    exec(&db, "UPDATE balances SET balance = 2000000000")
        .await
        .unwrap();
    assert!(
        exec(&db, "UPDATE balances SET balance = -1").await.is_err(),
        "never below zero"
    );
    assert!(exec(&db, "UPDATE reservations SET status = 'BOGUS'")
        .await
        .is_err());
    // The indexes came along: one live reservation per seat.
    let hold = "INSERT INTO reservations (user_id, concert_id, schedule_id, seat_id, seat_number, seat_version, price, status, expires_at_ms, created_at_ms) VALUES (1, 1, 1, 2, 2, 1, 10, 'HELD', 0, 0)";
    exec(&db, hold).await.unwrap();
    assert!(
        exec(&db, hold).await.is_err(),
        "ux_reservations_live_seat survives the rebuild"
    );
    // And a foreign key still guards the rebuilt table.
    assert!(exec(
        &db,
        "INSERT INTO payment_items (payment_id, position, reservation_id) VALUES (3, 1, 424242)"
    )
    .await
    .is_err());
}

async fn adapters_db_migrate(url: &str) {
    adapters_db::migrate(url).await.unwrap();
}
