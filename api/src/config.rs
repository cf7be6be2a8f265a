//! Server settings: defaults, then a TOML file, then `CONVEYOR_*` variables, then CLI flags.
//!
//! [`Settings::load`] reads the real process environment and file system;
//! [`Settings::from_sources`] is the pure core that tests call with their own sources.
//! [`ensure_jwt_secret`] creates the HS256 secret on first start when no key is configured.
//! The secret is never logged: [`Settings`]'s `Debug` prints it redacted.

use std::fmt;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// The settings file looked for in the data directory when no `--config` is given.
pub const CONFIG_FILE_NAME: &str = "conveyor.toml";

/// The file in the data directory that holds the generated HS256 secret.
pub const JWT_SECRET_FILE_NAME: &str = "jwt-secret";

/// The default largest artifact an agent may upload: 1 GiB.
pub const DEFAULT_MAX_ARTIFACT_BYTES: u64 = 1024 * 1024 * 1024;

/// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits).
const MIN_SECRET_LEN: usize = 32;

/// Everything the server needs to start, after merging all sources.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// Where the SQLite store, the generated JWT secret and the default config file live.
    pub data_dir: PathBuf,
    /// The address to listen on, `host:port` (port 0 picks a free port).
    pub listen: String,
    /// The HS256 secret; mutually exclusive with `jwt_public_key`.
    pub jwt_secret: Option<String>,
    /// A PEM public key (RSA for RS256, Ed25519 for EdDSA); mutually exclusive with
    /// `jwt_secret`. A relative path is relative to the working directory.
    pub jwt_public_key: Option<PathBuf>,
    /// The `iss` claim every token must carry.
    pub jwt_issuer: String,
    /// The `aud` claim every token must carry.
    pub jwt_audience: String,
    /// How long an agent's job lease lasts without a heartbeat, in seconds.
    pub lease_seconds: u64,
    /// The largest artifact an agent may upload, in bytes.
    pub max_artifact_bytes: u64,
    /// The key (64 hex digits) that seals sensitive variables; when absent, the key file in
    /// the data directory (created on first start).
    pub secrets_key: Option<String>,
    /// How many leases of one job may lapse (its agents died or lost touch) before the job
    /// fails with the reason.
    pub max_attempts: u32,
    /// Whether `serve` runs an agent in process (`--no-agent` or `CONVEYOR_NO_AGENT=1` turn
    /// it off).
    pub builtin_agent: bool,
    /// How often the projects' retention policies are applied, in seconds.
    pub retention_interval_seconds: u64,
    /// How many events apart the read model is checkpointed to the data directory (a clean
    /// stop writes one too), so a start replays only the log after the checkpoint.
    pub checkpoint_every: u64,
    /// A `postgres://` URL: the event log lives in PostgreSQL, shared by every node on it;
    /// `None` keeps it in the embedded SQLite file in the data directory.
    pub database: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./conveyor-data"),
            listen: "127.0.0.1:8080".to_owned(),
            jwt_secret: None,
            jwt_public_key: None,
            jwt_issuer: "conveyor".to_owned(),
            jwt_audience: "conveyor".to_owned(),
            lease_seconds: 60,
            max_artifact_bytes: DEFAULT_MAX_ARTIFACT_BYTES,
            max_attempts: 3,
            secrets_key: None,
            builtin_agent: true,
            retention_interval_seconds: 3600,
            checkpoint_every: 100_000,
            database: None,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("jwt_public_key", &self.jwt_public_key)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("lease_seconds", &self.lease_seconds)
            .field("max_artifact_bytes", &self.max_artifact_bytes)
            .field("max_attempts", &self.max_attempts)
            .field(
                "secrets_key",
                &self.secrets_key.as_ref().map(|_| "<redacted>"),
            )
            .field("builtin_agent", &self.builtin_agent)
            .field(
                "retention_interval_seconds",
                &self.retention_interval_seconds,
            )
            .field("checkpoint_every", &self.checkpoint_every)
            .field("database", &self.database.as_deref().map(redact_password))
            .finish()
    }
}

/// Values given on the command line; each `Some` wins over every other source.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SettingsOverrides {
    /// `--config`: the settings file to read (it must exist).
    pub config: Option<PathBuf>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--listen`.
    pub listen: Option<String>,
    /// `--jwt-secret`; prefer the file or `CONVEYOR_JWT_SECRET`, since flags show in `ps`.
    pub jwt_secret: Option<String>,
    /// `--jwt-public-key`.
    pub jwt_public_key: Option<PathBuf>,
    /// `--jwt-issuer`.
    pub jwt_issuer: Option<String>,
    /// `--jwt-audience`.
    pub jwt_audience: Option<String>,
    /// `--lease-seconds`.
    pub lease_seconds: Option<u64>,
    /// `--database`.
    pub database: Option<String>,
}

impl fmt::Debug for SettingsOverrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SettingsOverrides")
            .field("config", &self.config)
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("jwt_public_key", &self.jwt_public_key)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("lease_seconds", &self.lease_seconds)
            .field("database", &self.database.as_deref().map(redact_password))
            .finish()
    }
}

/// The keys a settings file may hold; unknown keys are refused so typos do not pass silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    jwt_secret: Option<String>,
    jwt_public_key: Option<PathBuf>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    lease_seconds: Option<u64>,
    max_artifact_bytes: Option<u64>,
    max_attempts: Option<u32>,
    secrets_key: Option<String>,
    builtin_agent: Option<bool>,
    retention_interval_seconds: Option<u64>,
    checkpoint_every: Option<u64>,
    database: Option<String>,
}

/// A database URL with its password replaced by `***`, for logs and errors.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Reads an environment variable, treating an empty value as unset (as compose files do).
fn non_empty(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|value| !value.trim().is_empty())
}

impl Settings {
    /// Loads the settings from the process environment, the settings file and `overrides`.
    ///
    /// The file is `overrides.config`, else `$CONVEYOR_CONFIG` (both must exist), else
    /// `<data_dir>/conveyor.toml` if it exists, where `data_dir` is the one given by flag,
    /// environment or default (a data directory named inside the file cannot locate the file).
    pub fn load(overrides: SettingsOverrides) -> anyhow::Result<Settings> {
        let env = |name: &str| std::env::var(name).ok();
        let explicit = overrides
            .config
            .clone()
            .or_else(|| non_empty(&env, "CONVEYOR_CONFIG").map(PathBuf::from));
        let text = match explicit {
            Some(path) => Some(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("reading settings file {}", path.display()))?,
            ),
            None => {
                let data_dir = overrides
                    .data_dir
                    .clone()
                    .or_else(|| non_empty(&env, "CONVEYOR_DATA_DIR").map(PathBuf::from))
                    .unwrap_or_else(|| Settings::default().data_dir);
                let path = data_dir.join(CONFIG_FILE_NAME);
                match std::fs::read_to_string(&path) {
                    Ok(text) => Some(text),
                    Err(error) if error.kind() == ErrorKind::NotFound => None,
                    Err(error) => {
                        return Err(error)
                            .with_context(|| format!("reading settings file {}", path.display()));
                    }
                }
            }
        };
        Self::from_sources(text.as_deref(), &env, overrides)
    }

    /// Merges defaults < `file` (TOML text) < `env` (`CONVEYOR_*`) < `overrides`, then
    /// validates the result. Pure: it reads no file and no process environment.
    pub fn from_sources(
        file: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
        overrides: SettingsOverrides,
    ) -> anyhow::Result<Settings> {
        let mut settings = Settings::default();

        if let Some(text) = file {
            let file: FileSettings = toml::from_str(text).context("parsing the settings file")?;
            settings.data_dir = file.data_dir.unwrap_or(settings.data_dir);
            settings.listen = file.listen.unwrap_or(settings.listen);
            settings.jwt_secret = file.jwt_secret.or(settings.jwt_secret);
            settings.jwt_public_key = file.jwt_public_key.or(settings.jwt_public_key);
            settings.jwt_issuer = file.jwt_issuer.unwrap_or(settings.jwt_issuer);
            settings.jwt_audience = file.jwt_audience.unwrap_or(settings.jwt_audience);
            settings.lease_seconds = file.lease_seconds.unwrap_or(settings.lease_seconds);
            settings.max_artifact_bytes = file
                .max_artifact_bytes
                .unwrap_or(settings.max_artifact_bytes);
            settings.max_attempts = file.max_attempts.unwrap_or(settings.max_attempts);
            settings.secrets_key = file.secrets_key.or(settings.secrets_key);
            settings.builtin_agent = file.builtin_agent.unwrap_or(settings.builtin_agent);
            settings.retention_interval_seconds = file
                .retention_interval_seconds
                .unwrap_or(settings.retention_interval_seconds);
            settings.checkpoint_every = file.checkpoint_every.unwrap_or(settings.checkpoint_every);
            settings.database = file.database.or(settings.database);
        }

        if let Some(value) = non_empty(env, "CONVEYOR_DATA_DIR") {
            settings.data_dir = PathBuf::from(value);
        }
        if let Some(value) = non_empty(env, "CONVEYOR_LISTEN") {
            settings.listen = value;
        }
        if let Some(value) = non_empty(env, "CONVEYOR_JWT_SECRET") {
            settings.jwt_secret = Some(value);
        }
        if let Some(value) = non_empty(env, "CONVEYOR_JWT_PUBLIC_KEY") {
            settings.jwt_public_key = Some(PathBuf::from(value));
        }
        if let Some(value) = non_empty(env, "CONVEYOR_JWT_ISSUER") {
            settings.jwt_issuer = value;
        }
        if let Some(value) = non_empty(env, "CONVEYOR_JWT_AUDIENCE") {
            settings.jwt_audience = value;
        }
        if let Some(value) = non_empty(env, "CONVEYOR_LEASE_SECONDS") {
            settings.lease_seconds = value.trim().parse().with_context(|| {
                format!("CONVEYOR_LEASE_SECONDS must be a whole number of seconds, not {value:?}")
            })?;
        }
        if let Some(value) = non_empty(env, "CONVEYOR_MAX_ARTIFACT_BYTES") {
            settings.max_artifact_bytes = value.trim().parse().with_context(|| {
                format!(
                    "CONVEYOR_MAX_ARTIFACT_BYTES must be a whole number of bytes, not {value:?}"
                )
            })?;
        }

        if let Some(value) = non_empty(env, "CONVEYOR_SECRETS_KEY") {
            settings.secrets_key = Some(value);
        }
        if let Some(value) = non_empty(env, "CONVEYOR_MAX_ATTEMPTS") {
            settings.max_attempts = value.trim().parse().with_context(|| {
                format!("CONVEYOR_MAX_ATTEMPTS must be a whole number, not {value:?}")
            })?;
        }
        if let Some(value) = non_empty(env, "CONVEYOR_RETENTION_INTERVAL_SECONDS") {
            settings.retention_interval_seconds = value.trim().parse().with_context(|| {
                format!(
                    "CONVEYOR_RETENTION_INTERVAL_SECONDS must be a whole number of seconds, not {value:?}"
                )
            })?;
        }
        if let Some(value) = non_empty(env, "CONVEYOR_CHECKPOINT_EVERY") {
            settings.checkpoint_every = value.trim().parse().with_context(|| {
                format!("CONVEYOR_CHECKPOINT_EVERY must be a whole number of events, not {value:?}")
            })?;
        }
        if let Some(value) = non_empty(env, "CONVEYOR_DATABASE_URL") {
            settings.database = Some(value);
        }
        if let Some(value) = non_empty(env, "CONVEYOR_NO_AGENT") {
            settings.builtin_agent = match value.trim() {
                "1" | "true" | "yes" => false,
                "0" | "false" | "no" => true,
                _ => bail!("CONVEYOR_NO_AGENT must be 1 or 0, not {value:?}"),
            };
        }

        let SettingsOverrides {
            config: _,
            data_dir,
            listen,
            jwt_secret,
            jwt_public_key,
            jwt_issuer,
            jwt_audience,
            lease_seconds,
            database,
        } = overrides;
        settings.database = database.or(settings.database);
        settings.data_dir = data_dir.unwrap_or(settings.data_dir);
        settings.listen = listen.unwrap_or(settings.listen);
        settings.jwt_secret = jwt_secret.or(settings.jwt_secret);
        settings.jwt_public_key = jwt_public_key.or(settings.jwt_public_key);
        settings.jwt_issuer = jwt_issuer.unwrap_or(settings.jwt_issuer);
        settings.jwt_audience = jwt_audience.unwrap_or(settings.jwt_audience);
        settings.lease_seconds = lease_seconds.unwrap_or(settings.lease_seconds);

        settings.validate()?;
        Ok(settings)
    }

    /// Refuses settings the server could not run with, naming the setting.
    fn validate(&self) -> anyhow::Result<()> {
        match self.listen.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {}
            _ => bail!("listen must be host:port, not {:?}", self.listen),
        }
        if self.jwt_secret.is_some() && self.jwt_public_key.is_some() {
            // Accepting both would allow HS256 tokens next to RS256/EdDSA ones: refuse the
            // ambiguity instead of picking one silently.
            bail!("configure either jwt_secret or jwt_public_key, not both");
        }
        if let Some(secret) = &self.jwt_secret
            && secret.len() < MIN_SECRET_LEN
        {
            bail!("jwt_secret must be at least {MIN_SECRET_LEN} bytes long");
        }
        if self.jwt_issuer.trim().is_empty() {
            bail!("jwt_issuer must not be empty");
        }
        if self.jwt_audience.trim().is_empty() {
            bail!("jwt_audience must not be empty");
        }
        if self.lease_seconds == 0 {
            bail!("lease_seconds must be at least 1");
        }
        if self.max_artifact_bytes == 0 {
            bail!("max_artifact_bytes must be at least 1");
        }
        if self.max_attempts == 0 {
            bail!("max_attempts must be at least 1");
        }
        if let Some(url) = &self.database
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            bail!(
                "database must be a postgres:// URL, not {:?}",
                redact_password(url)
            );
        }
        if self.retention_interval_seconds == 0 {
            bail!("retention_interval_seconds must be at least 1");
        }
        if self.checkpoint_every == 0 {
            bail!("checkpoint_every must be at least 1");
        }
        Ok(())
    }

    /// The path of the generated HS256 secret file in the data directory.
    pub fn jwt_secret_path(&self) -> PathBuf {
        self.data_dir.join(JWT_SECRET_FILE_NAME)
    }
}

/// When neither `jwt_secret` nor `jwt_public_key` is configured, reads the secret from
/// `<data_dir>/jwt-secret`, or generates 32 random bytes (hex) into it with mode 0600, and sets
/// `settings.jwt_secret`. Returns the file's path when it generated a new secret, so the caller
/// can tell the operator how to mint an admin token.
pub fn ensure_jwt_secret(settings: &mut Settings) -> anyhow::Result<Option<PathBuf>> {
    if settings.jwt_secret.is_some() || settings.jwt_public_key.is_some() {
        return Ok(None);
    }
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
    let path = settings.jwt_secret_path();

    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let secret = hex::encode(bytes);
    // `create_new` makes two servers starting at once agree on one secret: the loser reads
    // the winner's file. The mode is set at creation so the secret is never world-readable.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => {
            let written = file
                .write_all(secret.as_bytes())
                .and_then(|()| file.sync_all());
            if let Err(error) = written {
                // Leave no empty or partial secret behind for the next start to trust.
                let _ = std::fs::remove_file(&path);
                return Err(error).with_context(|| format!("writing {}", path.display()));
            }
            settings.jwt_secret = Some(secret);
            Ok(Some(path))
        }
        Err(error) if error.kind() == ErrorKind::AlreadyExists => {
            settings.jwt_secret = Some(read_secret_file(&path)?);
            Ok(None)
        }
        Err(error) => Err(error).with_context(|| format!("creating {}", path.display())),
    }
}

fn read_secret_file(path: &Path) -> anyhow::Result<String> {
    let metadata =
        std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if metadata.permissions().mode() & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            "the JWT secret file is readable by other users; chmod 600 it"
        );
    }
    let secret = std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))?
        .trim()
        .to_owned();
    if secret.len() < MIN_SECRET_LEN {
        bail!(
            "{} holds a secret shorter than {MIN_SECRET_LEN} bytes; delete it to generate a new one",
            path.display()
        );
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const SECRET_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const SECRET_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn defaults_apply_without_sources() {
        let settings =
            Settings::from_sources(None, &env_of(&[]), SettingsOverrides::default()).unwrap();
        assert_eq!(settings, Settings::default());
        assert_eq!(settings.listen, "127.0.0.1:8080");
        assert_eq!(settings.lease_seconds, 60);
        assert_eq!(settings.jwt_issuer, "conveyor");
    }

    #[test]
    fn later_sources_win() {
        let file = format!(
            "listen = \"0.0.0.0:9000\"\nlease_seconds = 30\njwt_issuer = \"file\"\njwt_audience = \"file\"\njwt_secret = \"{SECRET_A}\"\n"
        );
        let env = env_of(&[
            ("CONVEYOR_LEASE_SECONDS", "45"),
            ("CONVEYOR_JWT_ISSUER", "env"),
            ("CONVEYOR_JWT_SECRET", SECRET_B),
            ("CONVEYOR_LISTEN", ""),
        ]);
        let overrides = SettingsOverrides {
            jwt_issuer: Some("flag".into()),
            ..Default::default()
        };
        let settings = Settings::from_sources(Some(&file), &env, overrides).unwrap();
        assert_eq!(
            settings.listen, "0.0.0.0:9000",
            "an empty variable counts as unset"
        );
        assert_eq!(settings.lease_seconds, 45);
        assert_eq!(settings.jwt_issuer, "flag");
        assert_eq!(settings.jwt_audience, "file");
        assert_eq!(settings.jwt_secret.as_deref(), Some(SECRET_B));
    }

    #[test]
    fn bad_values_are_refused_with_their_name() {
        type Case<'a> = (Option<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
        let cases: Vec<Case> = vec![
            (Some("lisen = \"x\""), vec![], "lisen"),
            (
                None,
                vec![("CONVEYOR_LEASE_SECONDS", "soon")],
                "CONVEYOR_LEASE_SECONDS",
            ),
            (None, vec![("CONVEYOR_LISTEN", "localhost")], "listen"),
            (None, vec![("CONVEYOR_JWT_SECRET", "short")], "jwt_secret"),
            (
                None,
                vec![
                    ("CONVEYOR_JWT_SECRET", SECRET_A),
                    ("CONVEYOR_JWT_PUBLIC_KEY", "k.pem"),
                ],
                "not both",
            ),
            (Some("lease_seconds = 0"), vec![], "lease_seconds"),
            (
                None,
                vec![("CONVEYOR_MAX_ARTIFACT_BYTES", "lots")],
                "CONVEYOR_MAX_ARTIFACT_BYTES",
            ),
            (Some("max_artifact_bytes = 0"), vec![], "max_artifact_bytes"),
        ];
        for (file, env, needle) in cases {
            let error = Settings::from_sources(file, &env_of(&env), SettingsOverrides::default())
                .unwrap_err();
            assert!(format!("{error:#}").contains(needle), "{needle}: {error:#}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let settings = Settings {
            jwt_secret: Some(SECRET_A.into()),
            ..Default::default()
        };
        let overrides = SettingsOverrides {
            jwt_secret: Some(SECRET_A.into()),
            ..Default::default()
        };
        assert!(!format!("{settings:?}{overrides:?}").contains(SECRET_A));
    }

    #[test]
    fn ensure_jwt_secret_generates_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings {
            data_dir: dir.path().join("nested"),
            ..Default::default()
        };
        let created = ensure_jwt_secret(&mut settings)
            .unwrap()
            .expect("generated");
        let mode = std::fs::metadata(&created).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let secret = settings.jwt_secret.clone().unwrap();
        assert_eq!(secret.len(), 64);

        let mut again = Settings {
            data_dir: dir.path().join("nested"),
            ..Default::default()
        };
        assert_eq!(
            ensure_jwt_secret(&mut again).unwrap(),
            None,
            "reused, not regenerated"
        );
        assert_eq!(again.jwt_secret, Some(secret));
    }

    #[test]
    fn ensure_jwt_secret_leaves_configured_keys_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings {
            data_dir: dir.path().to_owned(),
            jwt_public_key: Some("key.pem".into()),
            ..Default::default()
        };
        assert_eq!(ensure_jwt_secret(&mut settings).unwrap(), None);
        assert!(settings.jwt_secret.is_none());
        assert!(!settings.jwt_secret_path().exists());
    }
}
