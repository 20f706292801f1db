//! The key vault: provider API keys sealed at rest with XChaCha20-Poly1305.
//!
//! The *master key* (32 random bytes) comes from `DM_MASTER_KEY` (base64) or from the file
//! `master.key` in the data directory, which the server creates on first start with owner-only
//! permissions (0600) and sets back to 0600 at every start. A [`PlainKey`] is a provider key in the clear; a [`SealedKey`] is what the
//! database holds. They are different types so one cannot be stored where the other belongs.
//! The user id and provider id are bound in as associated data, so a sealed key copied to
//! another row does not open.
//!
//! The *check value* (table `vault_meta`) is a known text sealed with the master key under its
//! own associated data. [`open_vault`] refuses to start when it does not open, so a wrong master
//! key is found at start rather than on each provider call. [`rotate`] re-seals every provider
//! key and the check value with a new master key in one transaction. A rotation from the key
//! file first writes the new key to `master.key.next`; if the process dies before that file is
//! renamed over `master.key`, the next start keeps whichever of the two keys opens the check
//! value and removes the other.

use crate::clock::now_ms;
use crate::config::Config;
use crate::store::{SealedRow, Store, StoreError};
use base64::{engine::general_purpose::STANDARD, Engine};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use rand::RngCore;
use std::{
    fmt,
    io::Write,
    path::{Path, PathBuf},
};
use uuid::Uuid;

/// The name of the master key file in the data directory.
pub const KEY_FILE: &str = "master.key";
/// The name of the new key's file while a rotation is under way.
pub const NEXT_KEY_FILE: &str = "master.key.next";

/// The known text of the check value, and its associated data (distinct from every provider
/// key's, so neither can stand in for the other).
const CHECK_TEXT: &[u8] = b"data modeller master key check";
const CHECK_AAD: &[u8] = b"data-modeller/vault-check/v1";

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

/// A provider key as stored: nonce and ciphertext (with its tag). The store owns the type
/// (it is what the database holds); the vault seals and opens it.
pub use crate::store::SealedKey;

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
    #[error(
        "the master key does not match this database: set DM_MASTER_KEY or restore master.key"
    )]
    WrongMasterKey,
    #[error(
        "the master key file {path} is missing but this database holds sealed keys: \
         restore master.key or set DM_MASTER_KEY"
    )]
    MissingKeyFile { path: String },
    #[error(
        "the stored key of provider {provider} does not open with the current master key: \
         delete that provider (or re-enter its key) and rotate again"
    )]
    Corrupt { provider: String },
    #[error("cannot read or write the key vault's rows: {0}")]
    Store(#[from] StoreError),
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
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create_key_file(&path),
            Err(e) => Err(file_error(e)),
        }
    }

    /// Generates a master key and writes it, base64, to a new file at `path` (mode 0600,
    /// flushed to disk before this returns). Refuses to overwrite an existing file. The key
    /// itself never leaves this function except inside the returned vault.
    pub fn create_key_file(path: &Path) -> Result<Self, VaultError> {
        let file_error = |source| VaultError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(file_error)?;
        file.write_all(STANDARD.encode(key).as_bytes())
            .map_err(file_error)?;
        file.sync_all().map_err(file_error)?;
        Ok(Self::from_key(key))
    }

    /// Reads the master key from the file at `path`.
    pub fn from_key_file(path: &Path) -> Result<Self, VaultError> {
        let encoded = std::fs::read_to_string(path).map_err(|source| VaultError::KeyFile {
            path: path.display().to_string(),
            source,
        })?;
        Self::decode(&encoded).map(Self::from_key)
    }

    /// Decodes a master key given as base64 (as in `DM_MASTER_KEY` or `DM_NEW_MASTER_KEY`).
    pub fn from_base64(encoded: &str) -> Result<Self, VaultError> {
        Self::decode(encoded).map(Self::from_key)
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
        self.seal_bytes(key.0.as_bytes(), &associated_data(user, provider))
    }

    pub fn open(
        &self,
        user: Uuid,
        provider: Uuid,
        sealed: &SealedKey,
    ) -> Result<PlainKey, VaultError> {
        let plain = self.open_bytes(sealed, &associated_data(user, provider))?;
        String::from_utf8(plain)
            .map(PlainKey)
            .map_err(|_| VaultError::Open)
    }

    /// Seals the check value with this vault's master key.
    fn seal_check(&self) -> Result<SealedKey, VaultError> {
        self.seal_bytes(CHECK_TEXT, CHECK_AAD)
    }

    /// Whether `sealed` is the check value sealed with this vault's master key.
    fn opens_check(&self, sealed: &SealedKey) -> bool {
        self.open_bytes(sealed, CHECK_AAD)
            .is_ok_and(|text| text == CHECK_TEXT)
    }

    fn seal_bytes(&self, msg: &[u8], aad: &[u8]) -> Result<SealedKey, VaultError> {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg, aad })
            .map_err(|_| VaultError::Seal)?;
        Ok(SealedKey {
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    fn open_bytes(&self, sealed: &SealedKey, aad: &[u8]) -> Result<Vec<u8>, VaultError> {
        if sealed.nonce.len() != 24 {
            return Err(VaultError::Open);
        }
        self.cipher
            .decrypt(
                XNonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad,
                },
            )
            .map_err(|_| VaultError::Open)
    }
}

/// The master key file of a data directory.
pub fn key_file(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// Where a rotation from the key file puts the new key until the database has been rotated.
pub fn next_key_file(data_dir: &Path) -> PathBuf {
    data_dir.join(NEXT_KEY_FILE)
}

/// Loads the master key that `config` names (`DM_MASTER_KEY`, else the key file, created on a
/// fresh database) and checks it against the database's check value. A key that does not open
/// the check value is refused; a database without one (fresh, or from before check values)
/// gets one, after at least one stored provider key has been seen to open. A `master.key.next`
/// left by an interrupted rotation is resolved first (see the module documentation).
pub async fn open_vault(config: &Config, store: &Store) -> Result<Vault, VaultError> {
    let vault = match &config.master_key {
        Some(secret) => Vault::from_base64(&secret.0)?,
        None => {
            let check = store.vault_check().await?;
            let holds_keys = check.is_some() || store.provider_count().await? > 0;
            let data_dir = config.data_dir.clone();
            // File work is blocking I/O: keep it off the async runtime.
            tokio::task::spawn_blocking(move || {
                match resolve_next_key_file(&data_dir, check.as_ref())? {
                    Leftover::None => {}
                    Leftover::KeptNew => tracing::warn!(
                        "finished an interrupted master key rotation: {NEXT_KEY_FILE} replaced \
                         {KEY_FILE}"
                    ),
                    Leftover::KeptOld => tracing::warn!(
                        "undid an interrupted master key rotation: removed {NEXT_KEY_FILE}"
                    ),
                }
                let path = key_file(&data_dir);
                // A key file from an older version or made by hand may be readable by
                // others: it is the key to every stored provider key.
                crate::files::restrict_if_exists(&path).map_err(|source| VaultError::KeyFile {
                    path: path.display().to_string(),
                    source,
                })?;
                match Vault::from_key_file(&path) {
                    Err(VaultError::KeyFile { source, .. })
                        if source.kind() == std::io::ErrorKind::NotFound =>
                    {
                        if holds_keys {
                            // A new key could never open what is stored: say what is missing
                            // instead of creating a useless key file.
                            Err(VaultError::MissingKeyFile {
                                path: path.display().to_string(),
                            })
                        } else {
                            Vault::create_key_file(&path)
                        }
                    }
                    other => other,
                }
            })
            .await
            .map_err(|e| VaultError::KeyFile {
                path: config.data_dir.display().to_string(),
                source: std::io::Error::other(e),
            })??
        }
    };
    verify(store, &vault).await?;
    Ok(vault)
}

/// What became of a `master.key.next` file.
#[derive(Debug, PartialEq, Eq)]
pub enum Leftover {
    /// There was none.
    None,
    /// The database had been rotated to it: it replaced `master.key`.
    KeptNew,
    /// The database had not been rotated: it was removed.
    KeptOld,
}

/// Finishes or undoes a rotation that stopped between writing `master.key.next` and renaming
/// it over `master.key`: the key that opens the check value is kept. The rotation rewrites the
/// check value in the same transaction as the provider rows, so the check value tells whether
/// that transaction committed.
fn resolve_next_key_file(
    data_dir: &Path,
    check: Option<&SealedKey>,
) -> Result<Leftover, VaultError> {
    let (path, next) = (key_file(data_dir), next_key_file(data_dir));
    let file_error = |source| VaultError::KeyFile {
        path: next.display().to_string(),
        source,
    };
    if !next.exists() {
        return Ok(Leftover::None);
    }
    // An unreadable or short `next` file was never used: the rotation writes and flushes it
    // before it touches the database.
    let next_opens = Vault::from_key_file(&next)
        .ok()
        .zip(check)
        .is_some_and(|(vault, check)| vault.opens_check(check));
    if next_opens {
        std::fs::rename(&next, &path).map_err(file_error)?;
        sync_dir(data_dir).map_err(file_error)?;
        return Ok(Leftover::KeptNew);
    }
    let current_opens = Vault::from_key_file(&path)
        .ok()
        .zip(check)
        .is_some_and(|(vault, check)| vault.opens_check(check));
    if current_opens || check.is_none() {
        std::fs::remove_file(&next).map_err(file_error)?;
        sync_dir(data_dir).map_err(file_error)?;
        return Ok(Leftover::KeptOld);
    }
    Err(VaultError::WrongMasterKey)
}

/// Resolves a `master.key.next` left in `data_dir` by an interrupted rotation (nothing when
/// there is none): the rotation command calls this after its transaction, as a start does.
pub async fn resolve_leftover(data_dir: &Path, store: &Store) -> Result<Leftover, VaultError> {
    let check = store.vault_check().await?;
    let dir = data_dir.to_path_buf();
    tokio::task::spawn_blocking(move || resolve_next_key_file(&dir, check.as_ref()))
        .await
        .map_err(|e| VaultError::KeyFile {
            path: data_dir.display().to_string(),
            source: std::io::Error::other(e),
        })?
}

/// Whether `vault` opens what `store` holds, without writing anything: the check value if there
/// is one, else at least one provider key if there are any (a database with neither is opened
/// by every key).
pub async fn check_only(store: &Store, vault: &Vault) -> Result<bool, VaultError> {
    if let Some(check) = store.vault_check().await? {
        return Ok(vault.opens_check(&check));
    }
    opens_a_provider_key(store, vault).await
}

/// Whether `vault` opens at least one provider key, or there are none.
async fn opens_a_provider_key(store: &Store, vault: &Vault) -> Result<bool, VaultError> {
    let opened = store
        .any_sealed_key(|row| open_row(vault, row).is_ok())
        .await?;
    Ok(opened.unwrap_or(true))
}

/// Flushes a directory's entries (a rename or a removal) to disk.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Opens a provider row's sealed key; a row that does not open is named.
fn open_row(vault: &Vault, row: &SealedRow) -> Result<PlainKey, VaultError> {
    let corrupt = || VaultError::Corrupt {
        provider: row.id.clone(),
    };
    let provider = Uuid::parse_str(&row.id).map_err(|_| corrupt())?;
    let user = Uuid::parse_str(&row.user_id).map_err(|_| corrupt())?;
    vault
        .open(user, provider, &row.sealed())
        .map_err(|_| corrupt())
}

/// Checks `vault` against the database's check value, writing the check value when there is
/// none yet (see [`open_vault`]).
pub async fn verify(store: &Store, vault: &Vault) -> Result<(), VaultError> {
    if let Some(check) = store.vault_check().await? {
        return if vault.opens_check(&check) {
            Ok(())
        } else {
            Err(VaultError::WrongMasterKey)
        };
    }
    // No check value yet. A database from before check values may hold provider keys: the
    // key must open one of them before it is written down as the right one.
    if !opens_a_provider_key(store, vault).await? {
        return Err(VaultError::WrongMasterKey);
    }
    // Two servers starting at once on a fresh database both get here; the insert keeps the
    // first value, and the re-read tells the second whether its key is the same.
    store
        .insert_vault_check(&vault.seal_check()?, now_ms())
        .await?;
    match store.vault_check().await? {
        Some(check) if vault.opens_check(&check) => Ok(()),
        _ => Err(VaultError::WrongMasterKey),
    }
}

/// Re-seals every provider key and the check value from `old` to `new` in one transaction:
/// either every row is rotated or none is. Returns the number of provider keys re-sealed.
/// Refuses when `old` does not open the check value or any stored key (naming that provider).
pub async fn rotate(store: &Store, old: &Vault, new: &Vault) -> Result<usize, VaultError> {
    // The store's rotation holds the write lock from its start, so no provider can be added
    // with the old key between the read and the commit; dropping it on an error rolls back.
    let mut tx = store.begin_rotation().await?;
    if let Some(check) = tx.vault_check().await? {
        if !old.opens_check(&check) {
            return Err(VaultError::WrongMasterKey);
        }
    }
    let rows = tx.sealed_keys().await?;
    for row in &rows {
        let plain = open_row(old, row)?;
        let sealed = new.seal(
            Uuid::parse_str(&row.user_id).map_err(|_| VaultError::Seal)?,
            Uuid::parse_str(&row.id).map_err(|_| VaultError::Seal)?,
            &plain,
        )?;
        tx.reseal(&row.id, &sealed).await?;
    }
    tx.write_vault_check(&new.seal_check()?, now_ms()).await?;
    tx.commit().await?;
    Ok(rows.len())
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

    /// A migrated database in a temporary directory, with one user and `keys.len()` providers
    /// sealed with `vault`; returns the store, the directory and the provider ids.
    async fn database_with(
        vault: &Vault,
        keys: &[&str],
    ) -> (Store, tempfile::TempDir, Uuid, Vec<Uuid>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store = Store::connect(&url).await.expect("database");
        let user = Uuid::now_v7();
        store
            .insert_user(user, "u", "h", false, 0)
            .await
            .expect("user")
            .expect("a new name");
        let mut ids = Vec::new();
        for (n, key) in keys.iter().enumerate() {
            let id = Uuid::now_v7();
            let sealed = vault
                .seal(user, id, &PlainKey::new((*key).into()))
                .expect("seals");
            let provider = crate::store::StoredProvider {
                id,
                name: format!("p{n}"),
                kind: model::wire::ProviderKind::Compatible,
                base_url: "http://x".into(),
                model: "m".into(),
                key: sealed,
                key_hint: "hint".into(),
                created_at: 0,
                retries: None,
            };
            assert!(store
                .insert_provider(user, &provider)
                .await
                .expect("provider"));
            ids.push(id);
        }
        (store, dir, user, ids)
    }

    async fn sealed_rows(store: &Store) -> Vec<SealedRow> {
        store.sealed_keys().await.expect("rows")
    }

    #[tokio::test]
    async fn rotate_re_seals_every_row_and_the_check_value() {
        let (old, new) = (Vault::from_key([1; 32]), Vault::from_key([2; 32]));
        let (store, _dir, _, _) = database_with(&old, &["key-a", "key-b"]).await;
        verify(&store, &old).await.expect("check value written");
        assert_eq!(rotate(&store, &old, &new).await.expect("rotates"), 2);
        for (row, key) in sealed_rows(&store).await.iter().zip(["key-a", "key-b"]) {
            assert_eq!(open_row(&new, row).expect("opens").expose(), key);
            assert!(open_row(&old, row).is_err());
        }
        assert!(verify(&store, &new).await.is_ok());
        assert!(matches!(
            verify(&store, &old).await,
            Err(VaultError::WrongMasterKey)
        ));
        // Rotating again from the old key is refused: it no longer opens the check value.
        assert!(matches!(
            rotate(&store, &old, &Vault::from_key([3; 32])).await,
            Err(VaultError::WrongMasterKey)
        ));
    }

    #[tokio::test]
    async fn rotate_is_all_or_nothing() {
        let (old, new) = (Vault::from_key([1; 32]), Vault::from_key([2; 32]));
        let (store, _dir, _, ids) = database_with(&old, &["key-a", "key-b", "key-c"]).await;
        verify(&store, &old).await.expect("check value written");
        // The last row (rotated last) is corrupt: the two before it were already re-sealed
        // inside the transaction when it fails.
        let last = sealed_rows(&store).await.pop().expect("three rows");
        assert_eq!(last.id, ids[2].to_string());
        let corrupt = SealedKey {
            nonce: last.key_nonce,
            ciphertext: vec![0x00, 0x11, 0x22, 0x33],
        };
        let mut tx = store.begin_rotation().await.expect("begins");
        tx.reseal(&last.id, &corrupt).await.expect("corrupts");
        tx.commit().await.expect("commits");
        let before = sealed_rows(&store).await;
        let check_before = store.vault_check().await.expect("reads");
        match rotate(&store, &old, &new).await {
            Err(VaultError::Corrupt { provider }) => assert_eq!(provider, ids[2].to_string()),
            other => panic!("expected a corrupt row, got {other:?}"),
        }
        assert_eq!(sealed_rows(&store).await, before, "no row changed");
        assert_eq!(store.vault_check().await.expect("reads"), check_before);
        assert!(verify(&store, &old).await.is_ok());
        assert_eq!(open_row(&old, &before[0]).expect("opens").expose(), "key-a");
    }

    #[tokio::test]
    async fn verify_writes_the_check_value_only_for_a_key_that_opens_the_rows() {
        let right = Vault::from_key([1; 32]);
        let (store, _dir, _, _) = database_with(&right, &["key-a"]).await;
        // A database from before check values: the wrong key opens no row and writes nothing.
        assert!(matches!(
            verify(&store, &Vault::from_key([9; 32])).await,
            Err(VaultError::WrongMasterKey)
        ));
        assert_eq!(store.vault_check().await.expect("reads"), None);
        verify(&store, &right)
            .await
            .expect("the right key is written down");
        assert!(store.vault_check().await.expect("reads").is_some());
        assert!(check_only(&store, &right).await.expect("checks"));
        assert!(!check_only(&store, &Vault::from_key([9; 32]))
            .await
            .expect("checks"));
        // The check value and a provider key have different associated data.
        let check = store.vault_check().await.expect("reads").expect("present");
        assert!(right.open(Uuid::nil(), Uuid::nil(), &check).is_err());
    }
}
