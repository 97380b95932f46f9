use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, Set};

use crate::entity::app_secret;

/// The secret named `name`, created from `generate` the first time. Every
/// instance on the database gets the same value: the first insert wins and
/// the others read it back.
pub async fn load_or_create_secret(
    db: &DatabaseConnection,
    name: &str,
    generate: impl FnOnce() -> String,
) -> Result<String, DbErr> {
    let candidate = app_secret::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(generate()),
    };
    app_secret::Entity::insert(candidate)
        .on_conflict(
            OnConflict::column(app_secret::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(db)
        .await?;
    app_secret::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .map(|m| m.value)
        .ok_or_else(|| DbErr::RecordNotFound(format!("secret {name}")))
}

/// Claims a one-time task (such as seeding demo data) for this instance:
/// true for exactly one caller per database, however many start together.
pub async fn claim_once(db: &DatabaseConnection, task: &str) -> Result<bool, DbErr> {
    let marker = app_secret::ActiveModel {
        name: Set(format!("once:{task}")),
        value: Set(String::new()),
    };
    let inserted = app_secret::Entity::insert(marker)
        .on_conflict(
            OnConflict::column(app_secret::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(db)
        .await?;
    Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(_)))
}
