use bootstrap::{run_migrations, Application, Settings};
use clap::{Parser, Subcommand};

/// The concert reservation service.
#[derive(Parser)]
#[command(name = "concert-server", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply database migrations, then exit.
    Migrate,
    /// Exit 0 when the instance configured here answers /health/ready with 200
    /// (for container health checks).
    Healthcheck,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("concert-server: {error}");
            std::process::exit(2);
        }
    };
    let _telemetry = match bootstrap::telemetry::init_with(settings.log.format, &settings.telemetry)
    {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("concert-server: {error:#}");
            std::process::exit(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => run_migrations(&settings)
            .await
            .map(|_| tracing::info!("migrations applied")),
        Command::Serve => serve(settings).await,
        Command::Healthcheck => {
            bootstrap::healthcheck::check(&settings.server.host, settings.server.port)
                .await
                .map_err(anyhow::Error::from)
        }
    };
    if let Err(error) = result {
        eprintln!("concert-server: {error:#}");
        std::process::exit(1);
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings.clone()).await?;
    tracing::info!(
        "listening on http://{}:{} (swagger UI at /swagger-ui/)",
        settings.server.host,
        app.port()
    );
    app.run_until_stopped().await?;
    Ok(())
}
