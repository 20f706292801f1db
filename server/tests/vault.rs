//! The key vault's master key and the operations commands, through the real binary and the
//! real server on a real socket: rotation from the key file and from `DM_MASTER_KEY`, the
//! recovery of an interrupted rotation, the refusal of a wrong master key, `create-user`,
//! `backup` while a server runs and `restore` into a fresh data directory.
//!
//! The fakes check the provider key they receive, so an LLM call that succeeds after a
//! rotation or a restore proves the stored key still opens.

#![allow(clippy::unwrap_used)]

mod common;

use base64::{engine::general_purpose::STANDARD, Engine};
use common::{start_fake, start_server, Client, TestServer};
use fake_provider::FakeOptions;
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::{
    config::{Config, Secret},
    store::Store,
    vault::{self, SealedKey, Vault},
    AppState,
};
use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use uuid::Uuid;

const KEY_A: &str = "sk-vault-A-SECRET-1111";
const KEY_B: &str = "sk-vault-B-SECRET-2222";
const PASSWORD: &str = "correct horse battery";
const WRONG_KEY: &str =
    "the master key does not match this database: set DM_MASTER_KEY or restore master.key";

fn fake_expecting(key: &str) -> FakeOptions {
    FakeOptions {
        chunk_delay: Duration::ZERO,
        expect_key: Some(key.into()),
        ..FakeOptions::default()
    }
}

/// What one run of the binary produced.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    fn assert_fails_with(&self, message: &str) {
        assert_eq!(
            self.code, 1,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(self.stderr.contains(message), "stderr: {}", self.stderr);
    }

    /// Neither output holds `secret`.
    fn assert_silent_about(&self, secret: &str) {
        assert!(
            !self.stdout.contains(secret) && !self.stderr.contains(secret),
            "a key was printed:\n{}\n{}",
            self.stdout,
            self.stderr
        );
    }
}

/// Runs the server binary with `args` and only the environment variables in `env` among those
/// that configure it, feeding `stdin`.
async fn run(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"));
    command.args(args);
    for name in [
        "DM_MASTER_KEY",
        "DM_NEW_MASTER_KEY",
        "DM_NEW_PASSWORD",
        "DM_DATA_DIR",
        "DM_DATABASE_URL",
        "DM_LOG",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let output = child.wait_with_output().await.unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A server on `data`, with `master_key` as `DM_MASTER_KEY` if given.
async fn serve(data: &Path, master_key: Option<&str>) -> TestServer {
    let data = data.to_path_buf();
    let key = master_key.map(|k| Secret(k.to_string()));
    start_server(move |c| {
        c.data_dir = data;
        c.master_key = key;
    })
    .await
}

/// Stops a server and gives its pool a moment to close.
async fn stop(server: TestServer) {
    drop(server);
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// Why a server on `data` does not start.
async fn start_error(data: &Path, master_key: Option<&str>) -> String {
    let mut config = Config::for_data_dir(data.to_path_buf());
    config.master_key = master_key.map(|k| Secret(k.to_string()));
    match AppState::start(config).await {
        Ok(_) => panic!("the server started"),
        Err(e) => e.to_string(),
    }
}

async fn login(base: &str, username: &str) -> Client {
    let mut client = Client::new(base);
    let reply = client
        .post(
            "/api/v1/auth/login",
            json!({ "username": username, "password": PASSWORD }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    client
}

/// One non-streamed LLM call through `provider`; its status.
async fn call(client: &mut Client, provider: &str) -> StatusCode {
    let reply = client
        .post(
            &format!("/api/v1/llm/{provider}/chat/completions"),
            json!({ "messages": [{ "role": "user", "content": "a library" }] }),
        )
        .await;
    assert!(!reply.text.contains("SECRET"), "{}", reply.text);
    reply.status
}

/// A data directory whose server has Alice with a provider behind `fake_a` and Bob with one
/// behind `fake_b` (each fake expects its own key). Returns the provider ids.
async fn two_users_with_providers(
    data: &Path,
    master_key: Option<&str>,
    fake_a: &str,
    fake_b: &str,
) -> (String, String) {
    let server = serve(data, master_key).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let a = alice.add_provider("fake", fake_a, KEY_A).await;
    let mut bob = Client::new(&server.base);
    bob.register("bob").await;
    let b = bob.add_provider("fake", fake_b, KEY_B).await;
    assert_eq!(call(&mut alice, &a).await, StatusCode::OK);
    stop(server).await;
    (a, b)
}

/// The providers' sealed keys as stored, with the ids they are bound to.
async fn sealed_rows(data: &Path) -> Vec<(Uuid, Uuid, SealedKey)> {
    let store = Store::connect(&Config::for_data_dir(data.to_path_buf()).database_url())
        .await
        .unwrap();
    let rows = store.sealed_keys().await.unwrap();
    store.close().await;
    rows.into_iter()
        .map(|row| {
            (
                Uuid::parse_str(&row.user_id).unwrap(),
                Uuid::parse_str(&row.id).unwrap(),
                SealedKey {
                    nonce: row.key_nonce,
                    ciphertext: row.key_ciphertext,
                },
            )
        })
        .collect()
}

fn key_bytes(path: &Path) -> [u8; 32] {
    let encoded = std::fs::read_to_string(path).unwrap();
    STANDARD.decode(encoded.trim()).unwrap().try_into().unwrap()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn rotation_from_the_key_file_re_seals_every_provider_key() {
    let (fake_a, _) = start_fake(fake_expecting(KEY_A)).await;
    let (fake_b, _) = start_fake(fake_expecting(KEY_B)).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (a, b) = two_users_with_providers(&data, None, &fake_a, &fake_b).await;
    let key_file = vault::key_file(&data);
    let old = key_bytes(&key_file);

    let rotated = run(&["rotate-master-key", "--data-dir", text(&data)], &[], "").await;
    rotated.assert_ok();
    assert!(
        rotated.stdout.contains("re-encrypted 2 provider keys"),
        "{}",
        rotated.stdout
    );
    let new = key_bytes(&key_file);
    assert_ne!(new, old, "master.key holds a new key");
    rotated.assert_silent_about(&STANDARD.encode(new));
    rotated.assert_silent_about(&STANDARD.encode(old));
    #[cfg(unix)]
    assert_eq!(mode(&key_file), 0o600);
    assert!(!vault::next_key_file(&data).exists());

    // Every row opens with the new key, none with the old one.
    let rows = sealed_rows(&data).await;
    assert_eq!(rows.len(), 2);
    for ((user, provider, sealed), key) in rows.iter().zip([KEY_A, KEY_B]) {
        assert!(Vault::from_key(old).open(*user, *provider, sealed).is_err());
        let opened = Vault::from_key(new).open(*user, *provider, sealed).unwrap();
        assert_eq!(opened.expose(), key);
    }

    let server = serve(&data, None).await;
    let mut alice = login(&server.base, "alice").await;
    assert_eq!(call(&mut alice, &a).await, StatusCode::OK);
    // The rotation is in the audit log (alice, the first account, is the administrator),
    // without any key.
    let audit = alice.get("/api/v1/admin/audit").await;
    let rotation = audit.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "vault.master_key_rotated")
        .cloned()
        .unwrap_or_else(|| panic!("no rotation event: {}", audit.text));
    assert_eq!(rotation["actor"], "operator");
    assert_eq!(rotation["details"]["provider_keys"], 2);
    for secret in [STANDARD.encode(new), STANDARD.encode(old)] {
        assert!(!audit.text.contains(&secret), "{}", audit.text);
    }
    assert_eq!(
        call(&mut login(&server.base, "bob").await, &b).await,
        StatusCode::OK
    );
    stop(server).await;

    // A second rotation works from the rotated state.
    run(&["--data-dir", text(&data), "rotate-master-key"], &[], "")
        .await
        .assert_ok();
    assert_ne!(key_bytes(&key_file), new);
}

#[tokio::test]
async fn rotation_from_the_environment_takes_the_new_key_from_the_environment() {
    let (fake_a, _) = start_fake(fake_expecting(KEY_A)).await;
    let (fake_b, _) = start_fake(fake_expecting(KEY_B)).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (old, new) = (STANDARD.encode([0x11; 32]), STANDARD.encode([0x22; 32]));
    let (a, b) = two_users_with_providers(&data, Some(&old), &fake_a, &fake_b).await;
    let args = ["rotate-master-key", "--data-dir", text(&data)];

    let no_new = run(&args, &[("DM_MASTER_KEY", &old)], "").await;
    no_new.assert_fails_with("set DM_NEW_MASTER_KEY to the new key");
    let short = run(
        &args,
        &[("DM_MASTER_KEY", &old), ("DM_NEW_MASTER_KEY", "c2hvcnQ=")],
        "",
    )
    .await;
    short.assert_fails_with("DM_NEW_MASTER_KEY is not 32 bytes of base64");
    let wrong_old = run(
        &args,
        &[
            ("DM_MASTER_KEY", &STANDARD.encode([0x33; 32])),
            ("DM_NEW_MASTER_KEY", &new),
        ],
        "",
    )
    .await;
    wrong_old.assert_fails_with(WRONG_KEY);

    let rotated = run(
        &args,
        &[("DM_MASTER_KEY", &old), ("DM_NEW_MASTER_KEY", &new)],
        "",
    )
    .await;
    rotated.assert_ok();
    assert!(
        rotated.stdout.contains("re-encrypted 2 provider keys")
            && rotated.stdout.contains("set DM_MASTER_KEY"),
        "{}",
        rotated.stdout
    );
    rotated.assert_silent_about(&old);
    rotated.assert_silent_about(&new);
    assert!(!vault::key_file(&data).exists(), "no key file is written");

    assert_eq!(start_error(&data, Some(&old)).await, WRONG_KEY);
    let server = serve(&data, Some(&new)).await;
    assert_eq!(
        call(&mut login(&server.base, "alice").await, &a).await,
        StatusCode::OK
    );
    assert_eq!(
        call(&mut login(&server.base, "bob").await, &b).await,
        StatusCode::OK
    );
    stop(server).await;
}

#[tokio::test]
async fn rotation_with_the_key_file_refuses_a_new_key_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let refused = run(
        &["rotate-master-key", "--data-dir", text(&data)],
        &[("DM_NEW_MASTER_KEY", &STANDARD.encode([0x22; 32]))],
        "",
    )
    .await;
    refused.assert_fails_with("the master key comes from the key file");
}

#[tokio::test]
async fn a_leftover_next_key_is_resolved_on_start_both_ways() {
    let (fake_a, _) = start_fake(fake_expecting(KEY_A)).await;
    let (fake_b, _) = start_fake(fake_expecting(KEY_B)).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (a, _) = two_users_with_providers(&data, None, &fake_a, &fake_b).await;
    let (key_file, next) = (vault::key_file(&data), vault::next_key_file(&data));

    // Interrupted before the database commit: the new key was written, nothing else.
    let old = key_bytes(&key_file);
    Vault::create_key_file(&next).unwrap();
    let server = serve(&data, None).await;
    assert_eq!(
        call(&mut login(&server.base, "alice").await, &a).await,
        StatusCode::OK
    );
    stop(server).await;
    assert!(!next.exists(), "the unused new key is removed");
    assert_eq!(key_bytes(&key_file), old, "the old key stays");

    // Interrupted after the commit, before the rename.
    let store = Store::connect(&Config::for_data_dir(data.clone()).database_url())
        .await
        .unwrap();
    let new = Vault::create_key_file(&next).unwrap();
    let new_bytes = key_bytes(&next);
    let count = vault::rotate(&store, &Vault::from_key(old), &new)
        .await
        .unwrap();
    assert_eq!(count, 2);
    store.close().await;
    let server = serve(&data, None).await;
    assert_eq!(
        call(&mut login(&server.base, "alice").await, &a).await,
        StatusCode::OK
    );
    stop(server).await;
    assert!(!next.exists(), "the new key was renamed into place");
    assert_eq!(key_bytes(&key_file), new_bytes);
    #[cfg(unix)]
    assert_eq!(mode(&key_file), 0o600);
}

#[tokio::test]
async fn a_wrong_or_missing_master_key_refuses_to_start() {
    let (fake_a, _) = start_fake(fake_expecting(KEY_A)).await;
    let (fake_b, _) = start_fake(fake_expecting(KEY_B)).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (a, _) = two_users_with_providers(&data, None, &fake_a, &fake_b).await;
    let key_file = vault::key_file(&data);
    let right = std::fs::read_to_string(&key_file).unwrap();

    // Another key in the file, and another key in the environment.
    std::fs::write(&key_file, STANDARD.encode([0x44; 32])).unwrap();
    assert_eq!(start_error(&data, None).await, WRONG_KEY);
    assert_eq!(
        start_error(&data, Some(&STANDARD.encode([0x55; 32]))).await,
        WRONG_KEY
    );
    // The binary says the same and exits non-zero.
    let migrate = run(&["migrate", "--data-dir", text(&data)], &[], "").await;
    assert_ne!(migrate.code, 0);
    assert!(migrate.stderr.contains(WRONG_KEY), "{}", migrate.stderr);

    // No key file at all: none is created, since a new key could not open the stored ones.
    std::fs::remove_file(&key_file).unwrap();
    let missing = start_error(&data, None).await;
    assert!(
        missing.contains("is missing but this database holds sealed keys: restore master.key"),
        "{missing}"
    );
    assert!(!key_file.exists());

    std::fs::write(&key_file, right).unwrap();
    let server = serve(&data, None).await;
    assert_eq!(
        call(&mut login(&server.base, "alice").await, &a).await,
        StatusCode::OK
    );
    stop(server).await;
}

#[tokio::test]
async fn create_user_makes_accounts_that_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = text(&data);
    let root = ["create-user", "root", "--admin", "--data-dir", d];
    run(&root, &[], &format!("{PASSWORD}\nignored\n"))
        .await
        .assert_ok();
    run(&root, &[], &format!("{PASSWORD}\n"))
        .await
        .assert_fails_with("the username root is taken: pick another");
    let bob = ["create-user", "bob", "--data-dir", d];
    run(&bob, &[], "too short\n")
        .await
        .assert_fails_with("the password needs 10 to 1024 characters");
    run(&bob, &[("DM_NEW_PASSWORD", PASSWORD)], "")
        .await
        .assert_ok();
    run(
        &["create-user", "no spaces", "--data-dir", d],
        &[("DM_NEW_PASSWORD", PASSWORD)],
        "",
    )
    .await
    .assert_fails_with("the username needs 3 to 64 characters");

    let server = serve(&data, None).await;
    let mut root = login(&server.base, "root").await;
    assert_eq!(root.get("/api/v1/auth/me").await.json()["is_admin"], true);
    // Accounts made on the server's command line are in the audit log, by the operator.
    let events = root.get("/api/v1/admin/audit").await.json()["events"].clone();
    let made: Vec<_> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "account.created")
        .map(|e| (e["actor"].clone(), e["target"].clone()))
        .collect();
    assert_eq!(
        made,
        [
            (json!("operator"), json!("bob")),
            (json!("operator"), json!("root"))
        ]
    );
    let mut bob = login(&server.base, "bob").await;
    assert_eq!(bob.get("/api/v1/auth/me").await.json()["is_admin"], false);
    stop(server).await;
}

#[tokio::test]
async fn backup_while_serving_and_restore_into_a_fresh_data_directory() {
    let (fake_a, _) = start_fake(fake_expecting(KEY_A)).await;
    let dir = tempfile::tempdir().unwrap();
    let (data, fresh) = (dir.path().join("data"), dir.path().join("fresh"));
    let backup_file = dir.path().join("backup.db");
    let domain_id = "0190aaaa-0000-7000-8000-0000000000b1";

    let server = serve(&data, None).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    let provider = alice.add_provider("fake", &fake_a, KEY_A).await;
    let domain = json!({ "id": domain_id, "name": "library", "description": "books", "created_at": 1, "updated_at": 1 });
    let pushed = alice
        .post(
            "/api/v1/sync/push",
            json!({
                "client_id": "0190aaaa-0000-7000-8000-0000000000c1",
                "mutations": [{ "id": 1, "mutation": { "kind": "create_domain", "domain": domain } }],
            }),
        )
        .await;
    assert_eq!(pushed.json()["last_mutation_id"], 1, "{}", pushed.text);
    assert_eq!(pushed.json()["version"], 1, "{}", pushed.text);

    // The server is still running and serving.
    let backup = ["backup", text(&backup_file), "--data-dir", text(&data)];
    run(&backup, &[], "").await.assert_ok();
    assert_eq!(alice.get("/api/v1/auth/me").await.status, StatusCode::OK);
    #[cfg(unix)]
    assert_eq!(mode(&backup_file), 0o600);
    run(&backup, &[], "")
        .await
        .assert_fails_with("exists: choose a new file name");
    stop(server).await;

    // Not a Data Modeller database: refused, nothing left behind.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "not a database").unwrap();
    run(
        &["restore", text(&junk), "--data-dir", text(&fresh)],
        &[],
        "",
    )
    .await
    .assert_fails_with("not a");
    let empty_sqlite = dir.path().join("empty.db");
    {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", text(&empty_sqlite)))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE users (id TEXT)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    run(
        &["restore", text(&empty_sqlite), "--data-dir", text(&fresh)],
        &[],
        "",
    )
    .await
    .assert_fails_with("is not a Data Modeller database");

    let restore = ["restore", text(&backup_file), "--data-dir", text(&fresh)];
    let restored = run(&restore, &[], "").await;
    restored.assert_ok();
    assert!(
        restored
            .stdout
            .contains("copy the master.key that belongs to this backup"),
        "{}",
        restored.stdout
    );
    std::fs::copy(vault::key_file(&data), vault::key_file(&fresh)).unwrap();

    let server = serve(&fresh, None).await;
    let mut alice = login(&server.base, "alice").await;
    let pulled: Value = alice
        .get("/api/v1/sync/pull?client_id=0190aaaa-0000-7000-8000-0000000000c1&since=0")
        .await
        .json();
    // The restored server knows the browser's mutations too.
    assert_eq!(pulled["last_mutation_id"], 1, "{pulled}");
    assert_eq!(pulled["domains"][0]["id"], domain_id, "{pulled}");
    assert_eq!(pulled["domains"][0]["name"], "library");
    assert_eq!(call(&mut alice, &provider).await, StatusCode::OK);
    stop(server).await;

    // Restoring over a database keeps the previous one, and only one such copy.
    run(&restore, &[], "").await.assert_ok();
    let db_file = PathBuf::from(
        Config::for_data_dir(fresh.clone())
            .database_url()
            .trim_start_matches("sqlite://"),
    );
    let mut before = db_file.clone().into_os_string();
    before.push(".before-restore");
    assert!(Path::new(&before).is_file());
    run(&restore, &[], "")
        .await
        .assert_fails_with("exists from an earlier restore: move it away first");

    // A backup sealed with another master key than the data directory's is refused.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(vault::key_file(&other), STANDARD.encode([0x66; 32])).unwrap();
    run(
        &["restore", text(&backup_file), "--data-dir", text(&other)],
        &[],
        "",
    )
    .await
    .assert_fails_with("sealed with another master key");
}

#[tokio::test]
async fn restore_and_rotation_refuse_while_a_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["serve", "--data-dir", text(&data), "--addr", "127.0.0.1:0"])
        .env_remove("DM_MASTER_KEY")
        .env("DM_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let listening = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("listening on") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap();
    assert!(listening, "the server started");

    let backup_file = dir.path().join("backup.db");
    run(
        &["backup", text(&backup_file), "--data-dir", text(&data)],
        &[],
        "",
    )
    .await
    .assert_ok();
    run(
        &["restore", text(&backup_file), "--data-dir", text(&data)],
        &[],
        "",
    )
    .await
    .assert_fails_with("a server is running on the data directory");
    run(&["rotate-master-key", "--data-dir", text(&data)], &[], "")
        .await
        .assert_fails_with("a server is running on the data directory");
    child.kill().await.unwrap();
}
