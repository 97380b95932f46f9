use chrono::{DateTime, Duration, Utc};
use domain::concert::{NewConcert, SaleTerms};
use domain::ports::ConcertRepository;
use sea_orm::DatabaseConnection;

/// Days from now, seats, price.
type DemoSchedule = (i64, i64, i64);

const DEMO: &[(&str, &str, &[DemoSchedule])] = &[
    (
        "IU Concert: The Golden Hour",
        "Olympic Stadium, Seoul",
        &[(14, 100, 165_000), (15, 100, 165_000)],
    ),
    (
        "BTS Yet To Come",
        "Busan Asiad Main Stadium",
        &[(30, 50, 198_000)],
    ),
    (
        "Seoul Philharmonic: Mahler 5",
        "Lotte Concert Hall",
        &[(7, 60, 90_000), (8, 60, 70_000)],
    ),
];

/// Fills an empty database with a few upcoming concerts, once per database
/// even when several instances start together.
pub async fn seed_demo_catalogue(
    db: &DatabaseConnection,
    concerts: &dyn ConcertRepository,
    max_tickets_per_user: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if !adapters_db::claim_once(db, "demo_seed").await? || !concerts.is_empty().await? {
        return Ok(());
    }
    let evening = now
        .date_naive()
        .and_hms_opt(19, 0, 0)
        .unwrap_or_default()
        .and_utc();
    for (title, venue, schedules) in DEMO {
        let schedules: Vec<_> = schedules
            .iter()
            .map(|&(days, seats, price)| (evening + Duration::days(days), seats, price))
            .collect();
        concerts
            .create(&NewConcert::parse(
                title,
                venue,
                &schedules,
                SaleTerms::open_now(max_tickets_per_user, now),
            )?)
            .await?;
    }
    tracing::info!(concerts = DEMO.len(), "seeded the demo catalogue");
    Ok(())
}
