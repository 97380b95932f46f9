//! The whole first schema. Times are `BIGINT` milliseconds since the Unix
//! epoch: they compare exactly and identically on both databases.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    LoginId,
    PasswordHash,
    CreatedAtMs,
}

#[derive(DeriveIden)]
enum AppSecrets {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Id,
    LoginId,
    AtMs,
}

#[derive(DeriveIden)]
enum Concerts {
    Table,
    Id,
    Title,
    Venue,
}

#[derive(DeriveIden)]
enum Schedules {
    Table,
    Id,
    ConcertId,
    StartsAtMs,
    Price,
    SeatCount,
}

#[derive(DeriveIden)]
enum Seats {
    Table,
    Id,
    ScheduleId,
    SeatNumber,
    Status,
    Price,
    HoldExpiresAtMs,
    Version,
}

#[derive(DeriveIden)]
enum QueueStates {
    Table,
    ConcertId,
    IssuedSeq,
    AdmittedSeq,
    RateAnchorAtMs,
    RateAnchorSeq,
    RateMilliPerSec,
    Version,
}

#[derive(DeriveIden)]
enum QueueTokens {
    Table,
    Id,
    Token,
    UserId,
    ConcertId,
    Seq,
    Status,
    IssuedAtMs,
    ExpiresAtMs,
}

#[derive(DeriveIden)]
enum Reservations {
    Table,
    Id,
    UserId,
    ConcertId,
    ScheduleId,
    SeatId,
    SeatNumber,
    SeatVersion,
    Price,
    Status,
    ExpiresAtMs,
    CreatedAtMs,
}

#[derive(DeriveIden)]
enum Balances {
    Table,
    UserId,
    Balance,
    Version,
}

#[derive(DeriveIden)]
enum PointEntries {
    Table,
    Id,
    UserId,
    Kind,
    Amount,
    BalanceAfter,
    CreatedAtMs,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    ReservationId,
    UserId,
    Amount,
    BalanceAfter,
    PaidAtMs,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    UserId,
    Endpoint,
    Key,
    RequestHash,
    ResponseStatus,
    ResponseBody,
    CreatedAtMs,
}

/// A 64-bit auto-increment key: BIGSERIAL on PostgreSQL, INTEGER (the rowid) on SQLite.
fn big_pk_auto(col: impl IntoIden) -> ColumnDef {
    big_integer(col).auto_increment().primary_key().take()
}

fn fk(
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: (impl IntoIden + 'static, impl IntoIden + 'static),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// Partial unique indexes are the database's own guard for invariants the code
/// enforces; sea-query has no builder for them, and the SQL is the same on both.
const PARTIAL_INDEXES: &[&str] = &[
    // One live (WAITING or ACTIVE) queue token per user and concert.
    "CREATE UNIQUE INDEX ux_queue_tokens_live ON queue_tokens (user_id, concert_id) WHERE status IN ('WAITING', 'ACTIVE')",
    // One seat is held or sold by at most one reservation.
    "CREATE UNIQUE INDEX ux_reservations_live_seat ON reservations (seat_id) WHERE status IN ('HELD', 'CONFIRMED')",
    // The sweeper's scan: only live holds, by expiry.
    "CREATE INDEX ix_reservations_held_expiry ON reservations (expires_at_ms) WHERE status = 'HELD'",
    // The admitter's count of ACTIVE tokens per concert.
    "CREATE INDEX ix_queue_tokens_active ON queue_tokens (concert_id, expires_at_ms) WHERE status = 'ACTIVE'",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables =
            [
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_len_uniq(Users::LoginId, 32))
                    .col(text(Users::PasswordHash))
                    .col(big_integer(Users::CreatedAtMs))
                    .to_owned(),
                Table::create()
                    .table(AppSecrets::Table)
                    .col(string_len(AppSecrets::Name, 64).primary_key())
                    .col(text(AppSecrets::Value))
                    .to_owned(),
                Table::create()
                    .table(LoginFailures::Table)
                    .col(big_pk_auto(LoginFailures::Id))
                    .col(text(LoginFailures::LoginId))
                    .col(big_integer(LoginFailures::AtMs))
                    .to_owned(),
                Table::create()
                    .table(Concerts::Table)
                    .col(big_pk_auto(Concerts::Id))
                    .col(string_len(Concerts::Title, 200))
                    .col(string_len(Concerts::Venue, 200))
                    .to_owned(),
                Table::create()
                    .table(Schedules::Table)
                    .col(big_pk_auto(Schedules::Id))
                    .col(big_integer(Schedules::ConcertId))
                    .col(big_integer(Schedules::StartsAtMs))
                    .col(big_integer(Schedules::Price).check(Expr::col(Schedules::Price).gt(0)))
                    .col(integer(Schedules::SeatCount))
                    .foreign_key(&mut fk(
                        (Schedules::Table, Schedules::ConcertId),
                        (Concerts::Table, Concerts::Id),
                    ))
                    .to_owned(),
                Table::create()
                    .table(Seats::Table)
                    .col(big_pk_auto(Seats::Id))
                    .col(big_integer(Seats::ScheduleId))
                    .col(integer(Seats::SeatNumber))
                    .col(
                        string_len(Seats::Status, 16).check(Expr::col(Seats::Status).is_in([
                            "AVAILABLE",
                            "HELD",
                            "SOLD",
                        ])),
                    )
                    .col(big_integer(Seats::Price))
                    .col(big_integer_null(Seats::HoldExpiresAtMs))
                    .col(big_integer(Seats::Version).default(0))
                    .foreign_key(&mut fk(
                        (Seats::Table, Seats::ScheduleId),
                        (Schedules::Table, Schedules::Id),
                    ))
                    .to_owned(),
                Table::create()
                    .table(QueueStates::Table)
                    .col(big_integer(QueueStates::ConcertId).primary_key())
                    .col(big_integer(QueueStates::IssuedSeq).default(0))
                    .col(big_integer(QueueStates::AdmittedSeq).default(0))
                    .col(big_integer(QueueStates::RateAnchorAtMs).default(0))
                    .col(big_integer(QueueStates::RateAnchorSeq).default(0))
                    .col(big_integer(QueueStates::RateMilliPerSec).default(0))
                    .col(big_integer(QueueStates::Version).default(0))
                    .check(
                        Expr::col(QueueStates::AdmittedSeq).lte(Expr::col(QueueStates::IssuedSeq)),
                    )
                    .to_owned(),
                Table::create()
                    .table(QueueTokens::Table)
                    .col(big_pk_auto(QueueTokens::Id))
                    .col(string_len_uniq(QueueTokens::Token, 64))
                    .col(big_integer(QueueTokens::UserId))
                    .col(big_integer(QueueTokens::ConcertId))
                    .col(big_integer(QueueTokens::Seq))
                    .col(string_len(QueueTokens::Status, 16).check(
                        Expr::col(QueueTokens::Status).is_in(["WAITING", "ACTIVE", "EXPIRED"]),
                    ))
                    .col(big_integer(QueueTokens::IssuedAtMs))
                    .col(big_integer_null(QueueTokens::ExpiresAtMs))
                    .foreign_key(&mut fk(
                        (QueueTokens::Table, QueueTokens::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
                Table::create()
                    .table(Reservations::Table)
                    .col(big_pk_auto(Reservations::Id))
                    .col(big_integer(Reservations::UserId))
                    .col(big_integer(Reservations::ConcertId))
                    .col(big_integer(Reservations::ScheduleId))
                    .col(big_integer(Reservations::SeatId))
                    .col(integer(Reservations::SeatNumber))
                    .col(big_integer(Reservations::SeatVersion))
                    .col(big_integer(Reservations::Price))
                    .col(string_len(Reservations::Status, 16).check(
                        Expr::col(Reservations::Status).is_in([
                            "HELD",
                            "CONFIRMED",
                            "EXPIRED",
                            "CANCELLED",
                        ]),
                    ))
                    .col(big_integer(Reservations::ExpiresAtMs))
                    .col(big_integer(Reservations::CreatedAtMs))
                    .foreign_key(&mut fk(
                        (Reservations::Table, Reservations::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Reservations::Table, Reservations::SeatId),
                        (Seats::Table, Seats::Id),
                    ))
                    .to_owned(),
                Table::create()
                    .table(Balances::Table)
                    .col(big_integer(Balances::UserId).primary_key())
                    .col(
                        big_integer(Balances::Balance)
                            .check(Expr::col(Balances::Balance).between(0, 1_000_000_000)),
                    )
                    .col(big_integer(Balances::Version).default(0))
                    .foreign_key(&mut fk(
                        (Balances::Table, Balances::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
                Table::create()
                    .table(PointEntries::Table)
                    .col(big_pk_auto(PointEntries::Id))
                    .col(big_integer(PointEntries::UserId))
                    .col(string_len(PointEntries::Kind, 16).check(
                        Expr::col(PointEntries::Kind).is_in(["CHARGE", "PAYMENT", "REFUND"]),
                    ))
                    .col(big_integer(PointEntries::Amount))
                    .col(big_integer(PointEntries::BalanceAfter))
                    .col(big_integer(PointEntries::CreatedAtMs))
                    .foreign_key(&mut fk(
                        (PointEntries::Table, PointEntries::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
                Table::create()
                    .table(Payments::Table)
                    .col(big_pk_auto(Payments::Id))
                    .col(big_integer_uniq(Payments::ReservationId))
                    .col(big_integer(Payments::UserId))
                    .col(big_integer(Payments::Amount))
                    .col(big_integer(Payments::BalanceAfter))
                    .col(big_integer(Payments::PaidAtMs))
                    .foreign_key(&mut fk(
                        (Payments::Table, Payments::ReservationId),
                        (Reservations::Table, Reservations::Id),
                    ))
                    .to_owned(),
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(big_integer(IdempotencyKeys::UserId))
                    .col(string_len(IdempotencyKeys::Endpoint, 32))
                    .col(string_len(IdempotencyKeys::Key, 255))
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    .col(integer_null(IdempotencyKeys::ResponseStatus))
                    .col(text_null(IdempotencyKeys::ResponseBody))
                    .col(big_integer(IdempotencyKeys::CreatedAtMs))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::UserId)
                            .col(IdempotencyKeys::Endpoint)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            ];
        for table in tables {
            manager.create_table(table).await?;
        }

        let indexes = [
            Index::create()
                .name("ix_login_failures_login_at")
                .table(LoginFailures::Table)
                .col(LoginFailures::LoginId)
                .col(LoginFailures::AtMs)
                .to_owned(),
            Index::create()
                .name("ix_schedules_concert_start")
                .table(Schedules::Table)
                .col(Schedules::ConcertId)
                .col(Schedules::StartsAtMs)
                .to_owned(),
            Index::create()
                .name("ux_seats_schedule_number")
                .table(Seats::Table)
                .col(Seats::ScheduleId)
                .col(Seats::SeatNumber)
                .unique()
                .to_owned(),
            Index::create()
                .name("ux_queue_tokens_concert_seq")
                .table(QueueTokens::Table)
                .col(QueueTokens::ConcertId)
                .col(QueueTokens::Seq)
                .unique()
                .to_owned(),
            Index::create()
                .name("ix_reservations_user")
                .table(Reservations::Table)
                .col(Reservations::UserId)
                .col(Reservations::Id)
                .to_owned(),
            Index::create()
                .name("ix_point_entries_user")
                .table(PointEntries::Table)
                .col(PointEntries::UserId)
                .col(PointEntries::Id)
                .to_owned(),
            Index::create()
                .name("ix_idempotency_keys_created")
                .table(IdempotencyKeys::Table)
                .col(IdempotencyKeys::CreatedAtMs)
                .to_owned(),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        let db = manager.get_connection();
        for sql in PARTIAL_INDEXES {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            Payments::Table.into_iden(),
            PointEntries::Table.into_iden(),
            Balances::Table.into_iden(),
            Reservations::Table.into_iden(),
            QueueTokens::Table.into_iden(),
            QueueStates::Table.into_iden(),
            Seats::Table.into_iden(),
            Schedules::Table.into_iden(),
            Concerts::Table.into_iden(),
            LoginFailures::Table.into_iden(),
            AppSecrets::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
