//! The `conveyor` binary: `serve` runs the server (with an agent in process unless
//! `--no-agent`), `agent` runs a separate agent, `token` mints a JWT, and the client
//! commands (`push`, `builds`, `releases`, `promote`, `approve`, … see `conveyor_api::cli`)
//! speak to a server.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use conveyor_api::{
    agent::{self, AgentConfig, Stop},
    auth::{mint_token, parse_ttl},
    cli,
    config::{Settings, SettingsOverrides, ensure_jwt_secret},
    server,
};

/// Conveyor: an event-sourced release orchestrator.
#[derive(Debug, Parser)]
#[command(name = "conveyor", version, about)]
struct Cli {
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(flatten)]
    client: cli::ClientArgs,
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
    /// Run the server: on the embedded SQLite event log, or with `--database` on PostgreSQL,
    /// where several nodes may share one database (and one data directory).
    Serve {
        /// Address to listen on, host:port [env: CONVEYOR_LISTEN; default 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<String>,
        /// The event log in PostgreSQL: postgres://user:password@host/db (prefer the
        /// environment variable: flags show in `ps`) [env: CONVEYOR_DATABASE_URL].
        #[arg(long)]
        database: Option<String>,
        /// Do not run the built-in agent (run `conveyor agent`s instead) [env: CONVEYOR_NO_AGENT=1].
        #[arg(long)]
        no_agent: bool,
    },
    /// Run an agent: lease build and deployment jobs from a server and run them. The first
    /// SIGTERM/SIGINT stops leasing and lets running jobs finish; a second kills them.
    Agent(AgentArgs),
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
    #[command(flatten)]
    Client(cli::ClientCommand),
}

/// Where an agent finds its server and how it works.
#[derive(Debug, Args)]
struct AgentArgs {
    /// The server's URL, e.g. http://conveyor.internal:8080.
    #[arg(long, env = "CONVEYOR_AGENT_SERVER")]
    server: String,
    /// A token with scope `agent` (prefer the environment variable: flags show in `ps`).
    #[arg(long, env = "CONVEYOR_AGENT_TOKEN", hide_env_values = true)]
    token: String,
    /// The agent's name, recorded on its leases.
    #[arg(long, env = "CONVEYOR_AGENT_NAME")]
    name: String,
    /// Where jobs get their work directories.
    #[arg(
        long,
        env = "CONVEYOR_AGENT_WORKDIR",
        default_value = "./conveyor-agent-work"
    )]
    workdir: PathBuf,
    /// How many jobs run at once.
    #[arg(long, env = "CONVEYOR_AGENT_CAPACITY", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    capacity: u16,
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
    let (listen, database, no_agent) = match cli.command {
        Command::Serve {
            ref listen,
            ref database,
            no_agent,
        } => (listen.clone(), database.clone(), no_agent),
        Command::Token { .. } => (None, None, false),
        // An agent needs none of the server's settings, nor do the client commands.
        Command::Agent(args) => return run_agent(args),
        Command::Client(command) => return run_client(command, &cli.client),
    };
    let mut settings = Settings::load(SettingsOverrides {
        config: cli.settings.config,
        data_dir: cli.settings.data_dir,
        listen,
        database,
        ..SettingsOverrides::default()
    })?;
    match cli.command {
        Command::Serve { .. } => {
            if no_agent {
                settings.builtin_agent = false;
            }
            serve(settings)
        }
        Command::Agent(_) | Command::Client(_) => {
            unreachable!("handled before reading the settings")
        }
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

/// Runs a client command and exits with its code (see `conveyor_api::cli`).
fn run_client(command: cli::ClientCommand, args: &cli::ClientArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    match runtime.block_on(cli::run(command, args)) {
        Ok(()) => Ok(()),
        Err(failure) => {
            eprintln!("{}", failure.message());
            std::process::exit(failure.exit_code());
        }
    }
}

fn run_agent(args: AgentArgs) -> anyhow::Result<()> {
    let config = AgentConfig {
        server: args.server,
        token: args.token,
        name: args.name,
        workdir: args.workdir,
        capacity: usize::from(args.capacity),
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(async move {
            let (stop, stopped) = tokio::sync::watch::channel(Stop::Run);
            let mut terminate =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .context("listening for SIGTERM")?;
            let mut interrupt =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                    .context("listening for SIGINT")?;
            let agent = tokio::spawn(agent::run(config, stopped));
            tokio::spawn(async move {
                for level in [Stop::Drain, Stop::Kill] {
                    tokio::select! {
                        _ = terminate.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                    match level {
                        Stop::Drain => eprintln!(
                            "Stopping: leasing no more jobs, waiting for the running ones (signal again to kill them)"
                        ),
                        _ => eprintln!("Killing the running jobs"),
                    }
                    stop.send_replace(level);
                }
            });
            agent.await.context("the agent task failed")?
        })
}
