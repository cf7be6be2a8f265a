//! Sealing of sensitive variable values, so that the log never holds a secret in clear text.
//!
//! Values are encrypted with ChaCha20-Poly1305 under a key kept in the data directory
//! (`secrets.key`, mode 0600) before they reach the engine; only the agent protocol unseals
//! them, for the agent that runs the deployment.

use std::{io::Write, path::Path};

use anyhow::Context;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce, aead::Aead};

use crate::error::ApiError;

/// File name of the sealing key in the data directory.
pub const SECRETS_KEY_FILE_NAME: &str = "secrets.key";
const PREFIX: &str = "sealed:v1:";

/// Seals and unseals sensitive values.
#[derive(Clone)]
pub struct Secrets {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

impl Secrets {
    /// The configured key (64 hex digits) when there is one, else the data directory's.
    pub fn from_settings(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Secrets> {
        match configured {
            Some(key_hex) => Self::from_hex(key_hex.trim())
                .context("secrets_key (CONVEYOR_SECRETS_KEY) must hold 64 hex digits"),
            None => Self::load_or_create(data_dir),
        }
    }

    fn from_hex(key_hex: &str) -> anyhow::Result<Secrets> {
        let key: [u8; 32] = hex::decode(key_hex)
            .ok()
            .and_then(|k| k.try_into().ok())
            .context("a sealing key is 64 hex digits")?;
        Ok(Secrets {
            cipher: ChaCha20Poly1305::new(&Key::from(key)),
        })
    }

    /// Loads the key from `data_dir`, creating it (mode 0600) on first use.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Secrets> {
        let path = data_dir.join(SECRETS_KEY_FILE_NAME);
        let key_hex = match std::fs::read_to_string(&path) {
            Ok(text) => text.trim().to_owned(),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir)
                    .with_context(|| format!("creating {}", data_dir.display()))?;
                let key_hex = hex::encode(rand::random::<[u8; 32]>());
                let mut file = open_private(&path)?;
                file.write_all(key_hex.as_bytes())?;
                file.sync_all()?;
                key_hex
            }
            Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
        };
        Self::from_hex(&key_hex)
            .with_context(|| format!("{} must hold 64 hex digits", path.display()))
    }

    /// Encrypts a value into `sealed:v1:<hex nonce and ciphertext>`.
    pub fn seal(&self, value: &str) -> String {
        let nonce_bytes = rand::random::<[u8; 12]>();
        // Encryption with a valid key and a 12-byte nonce cannot fail for in-memory input.
        let ciphertext = self
            .cipher
            .encrypt(&Nonce::from(nonce_bytes), value.as_bytes())
            .unwrap_or_default();
        format!(
            "{PREFIX}{}{}",
            hex::encode(nonce_bytes),
            hex::encode(ciphertext)
        )
    }

    /// Decrypts a sealed value.
    pub fn unseal(&self, sealed: &str) -> Result<String, ApiError> {
        let failure = || {
            ApiError::internal(anyhow::anyhow!(
                "a sealed variable cannot be decrypted with this server's key"
            ))
        };
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(|hex_text| hex::decode(hex_text).ok())
            .ok_or_else(failure)?;
        if bytes.len() < 12 {
            return Err(failure());
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| failure())?;
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce), ciphertext)
            .map_err(|_| failure())?;
        String::from_utf8(plain).map_err(|_| failure())
    }
}

fn open_private(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_round_trip_and_hide_the_clear_text() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::load_or_create(dir.path()).unwrap();
        let sealed = secrets.seal("hunter2");
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("hunter2"));
        assert_ne!(
            sealed,
            secrets.seal("hunter2"),
            "every seal uses a fresh nonce"
        );
        assert_eq!(secrets.unseal(&sealed).unwrap(), "hunter2");
        // The key persists: a second load unseals what the first sealed.
        let again = Secrets::from_settings(None, dir.path()).unwrap();
        assert_eq!(again.unseal(&sealed).unwrap(), "hunter2");
        assert!(again.unseal("sealed:v1:00").is_err());
        // A configured key wins over the file: it cannot open what the file's key sealed.
        let configured = Secrets::from_settings(Some(&"ab".repeat(32)), dir.path()).unwrap();
        assert!(configured.unseal(&sealed).is_err());
        assert!(Secrets::from_settings(Some("not hex"), dir.path()).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRETS_KEY_FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
