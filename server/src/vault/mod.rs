//! The key vault: provider API keys sealed at rest with XChaCha20-Poly1305.
//!
//! The *master key* (32 random bytes) comes from `DM_MASTER_KEY` (base64) or from the file
//! `master.key` in the data directory, which the server creates on first start with owner-only
//! permissions. A [`PlainKey`] is a provider key in the clear; a [`SealedKey`] is what the
//! database holds. They are different types so one cannot be stored where the other belongs.
//! The user id and provider id are bound in as associated data, so a sealed key copied to
//! another row does not open.

use base64::{engine::general_purpose::STANDARD, Engine};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use rand::RngCore;
use std::{fmt, io::Write, path::Path};
use uuid::Uuid;

/// A provider API key in the clear. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct PlainKey(String);

impl PlainKey {
    pub fn new(key: String) -> Self {
        PlainKey(key)
    }

    /// The key itself, for the one place that needs it: the upstream request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PlainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainKey([redacted])")
    }
}

/// A provider key as stored: nonce and ciphertext (with its tag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedKey {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "DM_MASTER_KEY is not 32 bytes of base64: generate one with `openssl rand -base64 32`"
    )]
    BadMasterKey,
    #[error("cannot read or create the master key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("a stored provider key does not open with this master key: re-enter the key")]
    Open,
    #[error("sealing failed")]
    Seal,
}

/// Seals and opens provider keys with the master key.
pub struct Vault {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vault([master key redacted])")
    }
}

fn associated_data(user: Uuid, provider: Uuid) -> Vec<u8> {
    format!("data-modeller/provider-key/v1/{user}/{provider}").into_bytes()
}

impl Vault {
    pub fn from_key(key: [u8; 32]) -> Self {
        Vault {
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }

    /// Loads the master key from `env_key` (base64) if given, else from `<data_dir>/master.key`,
    /// creating that file with mode 0600 on first start.
    pub fn load_or_create(env_key: Option<&str>, data_dir: &Path) -> Result<Self, VaultError> {
        if let Some(encoded) = env_key {
            return Self::decode(encoded).map(Self::from_key);
        }
        let path = data_dir.join("master.key");
        let file_error = |source| VaultError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(encoded) => Self::decode(&encoded).map(Self::from_key),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(&path).map_err(file_error)?;
                file.write_all(STANDARD.encode(key).as_bytes())
                    .map_err(file_error)?;
                file.sync_all().map_err(file_error)?;
                Ok(Self::from_key(key))
            }
            Err(e) => Err(file_error(e)),
        }
    }

    fn decode(encoded: &str) -> Result<[u8; 32], VaultError> {
        STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or(VaultError::BadMasterKey)
    }

    pub fn seal(
        &self,
        user: Uuid,
        provider: Uuid,
        key: &PlainKey,
    ) -> Result<SealedKey, VaultError> {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = associated_data(user, provider);
        let ciphertext = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: key.0.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Seal)?;
        Ok(SealedKey {
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    pub fn open(
        &self,
        user: Uuid,
        provider: Uuid,
        sealed: &SealedKey,
    ) -> Result<PlainKey, VaultError> {
        if sealed.nonce.len() != 24 {
            return Err(VaultError::Open);
        }
        let aad = associated_data(user, provider);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Open)?;
        String::from_utf8(plain)
            .map(PlainKey)
            .map_err(|_| VaultError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let vault = Vault::from_key([7; 32]);
        let (user, provider) = (Uuid::now_v7(), Uuid::now_v7());
        let sealed = vault
            .seal(user, provider, &PlainKey::new("sk-test-1234".into()))
            .expect("seals");
        assert!(!String::from_utf8_lossy(&sealed.ciphertext).contains("sk-test"));
        assert_eq!(
            vault.open(user, provider, &sealed).expect("opens").expose(),
            "sk-test-1234"
        );
        // Bound to its row: another user or provider cannot open it.
        assert!(matches!(
            vault.open(Uuid::now_v7(), provider, &sealed),
            Err(VaultError::Open)
        ));
        assert!(matches!(
            vault.open(user, Uuid::now_v7(), &sealed),
            Err(VaultError::Open)
        ));
        // Bound to the master key.
        assert!(matches!(
            Vault::from_key([8; 32]).open(user, provider, &sealed),
            Err(VaultError::Open)
        ));
    }

    #[test]
    fn key_file_is_created_owner_only_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (user, provider) = (Uuid::now_v7(), Uuid::now_v7());
        let first = Vault::load_or_create(None, dir.path()).expect("creates");
        let sealed = first
            .seal(user, provider, &PlainKey::new("k".into()))
            .expect("seals");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("master.key"))
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let second = Vault::load_or_create(None, dir.path()).expect("loads");
        assert_eq!(
            second
                .open(user, provider, &sealed)
                .expect("opens")
                .expose(),
            "k"
        );
    }

    #[test]
    fn bad_env_key_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            Vault::load_or_create(Some("short"), dir.path()),
            Err(VaultError::BadMasterKey)
        ));
        assert!(format!("{:?}", PlainKey::new("sk-secret".into())) == "PlainKey([redacted])");
    }
}
