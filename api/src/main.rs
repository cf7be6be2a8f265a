//! The `conveyor` binary: `serve` runs the server, `token` mints a JWT.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use conveyor_api::{
    auth::{mint_token, parse_ttl},
    config::{Settings, SettingsOverrides, ensure_jwt_secret},
    server,
};

/// Conveyor: an event-sourced release orchestrator.
#[derive(Debug, Parser)]
#[command(name = "conveyor", version, about)]
struct Cli {
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(subcommand)]
    command: Command,
}

/// Settings every command reads (flags win over environment variables and the config file).
#[derive(Debug, Args)]
struct SettingsArgs {
    /// Config file (TOML); default `<data dir>/conveyor.toml` when it exists [env: CONVEYOR_CONFIG].
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory [env: CONVEYOR_DATA_DIR; default ./conveyor-data].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server on the embedded SQLite event log.
    Serve {
        /// Address to listen on, host:port [env: CONVEYOR_LISTEN; default 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<String>,
    },
    /// Mint a JWT signed with the configured HS256 secret.
    Token {
        /// The subject (who the token speaks for).
        #[arg(long)]
        sub: String,
        /// Space-separated scopes, e.g. "read deploy:staging approve:production".
        #[arg(long)]
        scope: String,
        /// Lifetime: 90s, 30m, 1h, 7d.
        #[arg(long, default_value = "1h")]
        ttl: String,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CONVEYOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        Command::Token { .. } => None,
    };
    let mut settings = Settings::load(SettingsOverrides {
        config: cli.settings.config,
        data_dir: cli.settings.data_dir,
        listen,
        ..SettingsOverrides::default()
    })?;
    match cli.command {
        Command::Serve { .. } => serve(settings),
        Command::Token { sub, scope, ttl } => {
            if settings.jwt_secret.is_none() && settings.jwt_public_key.is_some() {
                bail!(
                    "this server verifies tokens with a public key; mint them with the matching \
                     private key (your identity provider), not with `conveyor token`"
                );
            }
            ensure_jwt_secret(&mut settings)?;
            let secret = settings
                .jwt_secret
                .as_deref()
                .context("no JWT secret is configured")?;
            let ttl = parse_ttl(&ttl)?;
            let token = mint_token(
                secret,
                &settings.jwt_issuer,
                &settings.jwt_audience,
                &sub,
                &scope,
                ttl,
            )?;
            println!("{token}");
            Ok(())
        }
    }
}

fn serve(mut settings: Settings) -> anyhow::Result<()> {
    if let Some(path) = ensure_jwt_secret(&mut settings)? {
        eprintln!(
            "Generated a JWT signing secret in {}.\nMint an admin token with:\n  conveyor --data-dir {} token --sub admin --scope \"admin read audit push release agent deploy:* approve:*\" --ttl 1h",
            path.display(),
            settings.data_dir.display()
        );
    }
    actix_web::rt::System::new().block_on(async move {
        let running = server::start(&settings).await?;
        eprintln!("Conveyor listens on http://{}", running.addr);
        running.wait().await
    })
}
