//! The `conveyor` binary: `serve` runs the server (with an agent in process unless
//! `--no-agent`), `agent` runs a separate agent, `token` mints a JWT.

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
    /// The event log for auditors: export it as JSON lines.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Verify the event log's hash chain, on the server or offline from an export.
    #[command(subcommand)]
    Audit(AuditCommand),
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

/// Which server a client command talks to, and as whom.
#[derive(Debug, Args)]
struct ServerArgs {
    /// The server's URL.
    #[arg(long, env = "CONVEYOR_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// A bearer token (prefer the environment variable: flags show in `ps`).
    #[arg(long, env = "CONVEYOR_TOKEN", hide_env_values = true)]
    token: String,
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// Write every event (after a position) to stdout, one JSON object per line.
    Export {
        #[command(flatten)]
        server: ServerArgs,
        /// Only events after this position.
        #[arg(long, default_value_t = 0)]
        after: u64,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain: of an export file, offline (`--file`), or on the server.
    Verify {
        /// An export (`conveyor events export > file.jsonl`) to verify without the server.
        #[arg(long)]
        file: Option<PathBuf>,
        /// The server, when no file is given.
        #[arg(long, env = "CONVEYOR_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// A token with the `audit` scope, when no file is given.
        #[arg(long, env = "CONVEYOR_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// `text` or `json`.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        output: String,
    },
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
        Command::Events(command) => return run_client(Client::Events(command)),
        Command::Audit(command) => return run_client(Client::Audit(command)),
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
        Command::Agent(_) | Command::Events(_) | Command::Audit(_) => {
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

enum Client {
    Events(EventsCommand),
    Audit(AuditCommand),
}

/// Runs a client command and exits with its code (see `conveyor_api::cli`).
fn run_client(command: Client) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let result: Result<(), cli::Failure> = runtime.block_on(async move {
        match command {
            Client::Events(EventsCommand::Export { server, after }) => {
                let server = cli::Server {
                    url: server.server,
                    token: server.token,
                };
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                let written = cli::export(&server, after, &mut out).await?;
                std::io::Write::flush(&mut out)
                    .map_err(|err| cli::Failure::Unavailable(err.to_string()))?;
                eprintln!("exported {written} events");
                Ok(())
            }
            Client::Audit(AuditCommand::Verify {
                file,
                server,
                token,
                output,
            }) => {
                let (checked, source) = match file {
                    Some(path) => {
                        let file = std::fs::File::open(&path).map_err(|err| {
                            cli::Failure::Unavailable(format!("{}: {err}", path.display()))
                        })?;
                        let checked = cli::verify_export(std::io::BufReader::new(file))?;
                        (checked, path.display().to_string())
                    }
                    None => {
                        let token = token.ok_or_else(|| {
                            cli::Failure::Refused(
                                "give --token (or CONVEYOR_TOKEN) with the audit scope, or --file"
                                    .into(),
                            )
                        })?;
                        let report = cli::verify_on_server(&cli::Server {
                            url: server.clone(),
                            token,
                        })
                        .await?;
                        let checked = report.get("checked").and_then(|c| c.as_u64()).unwrap_or(0);
                        (checked, server)
                    }
                };
                if output == "json" {
                    println!(
                        "{}",
                        serde_json::json!({"intact": true, "checked": checked, "source": source})
                    );
                } else {
                    println!("intact: {checked} records of {source} verify");
                }
                Ok(())
            }
        }
    });
    match result {
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
