//! A server killed during sync loses no acknowledged mutation (DESIGN §6 and §8).
//!
//! The real `server` binary runs on a temporary data directory and a fixed loopback port. Four
//! *clients* (browsers: each a `client_id` with an outbox of mutations numbered 1, 2, 3…) of one
//! account push 1,000 mutations in all, concurrently, each in order and in small batches of
//! seeded random sizes. A mutation is *acknowledged* once its client has received a push answer
//! whose `last_mutation_id` covers it; after any failure (refused connection, reset, timeout,
//! a 5xx) a client pushes again from its last acknowledged id, so the server sees retries of
//! mutations it may already have applied. Meanwhile a *killer* sends SIGKILL to the server at
//! four seeded points of the run (once the clients together have a seeded number of mutations
//! acknowledged, plus a seeded delay of a few milliseconds, so the kill lands in the middle of
//! pushes whatever the machine's speed) and starts it again on the same directory and port.
//!
//! At the end every acknowledged mutation is there exactly once: the user's version counts one
//! step per mutation (each one changes a record), every domain and draft is there once with its
//! last edit applied and nothing recorded as overwritten, each client's `last_mutation_id` on
//! the server covers what it was told, two clients pull the same state, and the SQLite file
//! passes `PRAGMA integrity_check` after a last SIGKILL.

#![allow(clippy::unwrap_used)]

mod common;

use model::sync::{DomainEdit, Mutation, PushedMutation, SyncPull, SyncPush, SyncPushResult};
use model::wire::{DomainRecord, DraftRecord, Provenance};
use model::{Conventions, Model};
use rand::{rngs::StdRng, Rng, SeedableRng};
use reqwest::{header, StatusCode};
use sqlx::{sqlite::SqliteConnectOptions, ConnectOptions, Connection};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};
use tokio::process::{Child, Command};
use uuid::Uuid;

/// Seed of every random choice (batch sizes, kill points, delays).
const SEED: u64 = 20_261_128;
const CLIENTS: usize = 4;
/// Mutations per client: 1,000 in all.
const PER_CLIENT: usize = 250;
/// How many times the server is killed during the pushes.
const KILLS: usize = 4;
/// Largest push batch, in mutations.
const BATCH_MAX: usize = 8;
/// Longest a single request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest the server may take to answer `/readyz` after a start.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// The whole run's bound: the test fails, rather than hangs, past it.
const RUN_TIMEOUT: Duration = Duration::from_secs(80);

/// The real server binary on `data` and `port`, restartable.
struct Server {
    data: PathBuf,
    port: u16,
    log: PathBuf,
    child: Option<Child>,
    http: reqwest::Client,
}

impl Server {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the binary and waits until it answers `/readyz`. A start that fails (the port
    /// not yet free, say) is tried again until [`START_TIMEOUT`].
    async fn start(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .unwrap();
            let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
                .env("DM_DATA_DIR", &self.data)
                .env("DM_ADDR", format!("127.0.0.1:{}", self.port))
                .env("DM_LOG", "warn")
                .env_remove("DM_DATABASE_URL")
                .env_remove("DM_MASTER_KEY")
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    assert!(
                        Instant::now() < deadline,
                        "the server keeps exiting ({status}): {}",
                        self.log_text()
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    break;
                }
                let ready = self
                    .http
                    .get(format!("{}/readyz", self.base()))
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await;
                if matches!(ready, Ok(r) if r.status() == StatusCode::OK) {
                    self.child = Some(child);
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "the server was not ready within {START_TIMEOUT:?}: {}",
                    self.log_text()
                );
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
    }

    /// SIGKILL (what `Child::kill` sends on unix), then waits for the process to be gone.
    async fn kill(&mut self) {
        let mut child = self.child.take().expect("the server is running");
        child.kill().await.unwrap();
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A loopback port that nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The signed-in account's credentials, as a browser sends them.
#[derive(Clone)]
struct Session {
    base: String,
    cookie: String,
    http: reqwest::Client,
}

impl Session {
    /// One push; `Err` for anything a browser would retry (no answer, or a 5xx).
    async fn push(&self, push: &SyncPush) -> Result<SyncPushResult, String> {
        let reply = self
            .http
            .post(format!("{}/api/v1/sync/push", self.base))
            .header(header::COOKIE, &self.cookie)
            .header("x-dm-csrf", "1")
            .json(push)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = reply.status();
        let text = reply.text().await.map_err(|e| e.to_string())?;
        if status.is_server_error() {
            return Err(format!("{status}: {text}"));
        }
        // Any other refusal is a bug of the protocol or of this test: never retried.
        assert_eq!(status, StatusCode::OK, "a push was refused: {text}");
        Ok(serde_json::from_str(&text).unwrap())
    }

    /// Pulls everything from version 0 (following `more`), as a new device would.
    async fn pull_all(&self, client: Uuid) -> SyncPull {
        let mut all = SyncPull::default();
        loop {
            let reply = self
                .http
                .get(format!(
                    "{}/api/v1/sync/pull?client_id={client}&since={}",
                    self.base, all.version
                ))
                .header(header::COOKIE, &self.cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), StatusCode::OK);
            let page: SyncPull = reply.json().await.unwrap();
            all.version = page.version;
            all.last_mutation_id = page.last_mutation_id;
            all.domains.extend(page.domains);
            all.drafts.extend(page.drafts);
            all.deleted_drafts.extend(page.deleted_drafts);
            if !page.more {
                return all;
            }
        }
    }
}

/// A small valid model, as every draft of the test holds.
fn library() -> Model {
    serde_json::from_str(include_str!("../../model/tests/data/library-v1.json")).unwrap()
}

/// A client's outbox (ids 1..=PER_CLIENT) and what the server must end up with for it: per
/// domain its last name and description, and every draft. The outbox repeats a group of five:
/// create a domain, rename it, save a draft of it, describe it, save another draft.
fn outbox(
    client: usize,
    model: &Model,
) -> (
    Vec<Mutation>,
    BTreeMap<Uuid, DomainRecord>,
    Vec<DraftRecord>,
) {
    let mut mutations = Vec::new();
    let mut domains = BTreeMap::new();
    let mut drafts = Vec::new();
    let mut group = 0;
    while mutations.len() < PER_CLIENT {
        let mut domain = DomainRecord {
            id: Uuid::now_v7(),
            name: format!("domain {client}-{group}"),
            description: String::new(),
            conventions: Conventions::default(),
            created_at: 1,
            updated_at: 1,
            deleted_at: None,
            overwritten: Vec::new(),
            positions: Default::default(),
            notes: vec![],
            exports: vec![],
        };
        let draft = |number: u32| DraftRecord {
            id: Uuid::now_v7(),
            domain_id: domain.id,
            number,
            parent_id: None,
            created_at: 2,
            provenance: Provenance {
                source: "llm".into(),
                provider: "fake".into(),
                model: "m".into(),
                instruction: format!("client {client} group {group} draft {number}"),
                prompt_hash: "h".into(),
                usage: None,
                accepted: vec![],
                proposed: 0,
                notes: vec![],
                parameters: Default::default(),
            },
            model: model.clone(),
            made_on: None,
        };
        let (first, second) = (draft(1), draft(2));
        mutations.push(Mutation::CreateDomain {
            domain: domain.clone(),
        });
        let name = format!("renamed {client}-{group}");
        mutations.push(Mutation::EditDomain {
            domain_id: domain.id,
            set: DomainEdit::Name(name.clone()),
            was: DomainEdit::Name(domain.name.clone()),
            at: 3,
        });
        mutations.push(Mutation::CreateDraft {
            draft: Box::new(first.clone()),
        });
        let description = format!("described {client}-{group}");
        mutations.push(Mutation::EditDomain {
            domain_id: domain.id,
            set: DomainEdit::Description(description.clone()),
            was: DomainEdit::Description(String::new()),
            at: 4,
        });
        mutations.push(Mutation::CreateDraft {
            draft: Box::new(second.clone()),
        });
        domain.name = name;
        domain.description = description;
        domain.updated_at = 4;
        domains.insert(domain.id, domain);
        drafts.extend([first, second]);
        group += 1;
    }
    assert_eq!(mutations.len(), PER_CLIENT, "the outbox is whole groups");
    (mutations, domains, drafts)
}

/// Pushes `mutations` in order in batches of seeded sizes, retrying from the last
/// acknowledged id after any failure, until all are acknowledged. `acked` is the last
/// acknowledged id; `total` counts acknowledged mutations across clients.
async fn push_all(
    session: Session,
    client: Uuid,
    mutations: Vec<Mutation>,
    seed: u64,
    acked: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
) -> Counts {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut counts = Counts::default();
    let mut last = 0u64;
    while (last as usize) < mutations.len() {
        let from = last as usize;
        let to = (from + rng.gen_range(1..=BATCH_MAX)).min(mutations.len());
        let push = SyncPush {
            client_id: client,
            mutations: (from..to)
                .map(|i| PushedMutation {
                    id: i as u64 + 1,
                    mutation: Some(mutations[i].clone()),
                    part: None,
                })
                .collect(),
        };
        match session.push(&push).await {
            Ok(answer) => {
                assert!(
                    answer.rejected.is_empty(),
                    "valid mutations were rejected: {:?}",
                    answer.rejected
                );
                // Past the batch's end when an earlier push was applied but its answer was
                // lost in a kill: this batch was then all retries.
                assert!(
                    answer.last_mutation_id >= to as u64
                        && answer.last_mutation_id <= mutations.len() as u64,
                    "the server acknowledged {} after a push of {}..={to}",
                    answer.last_mutation_id,
                    from + 1
                );
                if answer.last_mutation_id > to as u64 {
                    counts.lost_answers += 1;
                }
                total.fetch_add(answer.last_mutation_id - last, Ordering::SeqCst);
                last = answer.last_mutation_id;
                acked.store(last, Ordering::SeqCst);
            }
            Err(_) => {
                counts.failures += 1;
                tokio::time::sleep(Duration::from_millis(rng.gen_range(10..50))).await;
            }
        }
    }
    counts
}

/// What happened to a client's pushes.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    /// Pushes that got no answer (or a 5xx) and were retried.
    failures: u32,
    /// Answers that acknowledged more than their push held: an earlier push had been applied
    /// and its answer lost.
    lost_answers: u32,
}

/// Opens the database file (after the server is gone) and checks it, returning the number of
/// domains, drafts and kept domain versions of `user`.
async fn check_file(path: &Path, user: &str) -> (i64, i64, i64) {
    let mut db = SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    let mut counts = [0i64; 3];
    for (count, table) in counts
        .iter_mut()
        .zip(["domains", "drafts", "domain_versions"])
    {
        *count = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE user_id = ?"))
            .bind(user)
            .fetch_one(&mut db)
            .await
            .unwrap();
    }
    db.close().await.unwrap();
    (counts[0], counts[1], counts[2])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_sync_loses_no_acknowledged_mutation() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap();
    let mut server = Server {
        data: dir.path().join("data"),
        port: free_port(),
        log: dir.path().join("server.log"),
        child: None,
        http: http.clone(),
    };
    server.start().await;

    let mut account = common::Client::new(&server.base());
    let user = account.register("kill-tester").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let session = Session {
        base: server.base(),
        cookie: account.cookie.clone().expect("a session cookie"),
        http,
    };

    let model = library();
    let clients: Vec<Uuid> = (0..CLIENTS).map(|_| Uuid::now_v7()).collect();
    let outboxes: Vec<_> = (0..CLIENTS).map(|c| outbox(c, &model)).collect();
    let acked: Vec<Arc<AtomicU64>> = (0..CLIENTS).map(|_| Arc::default()).collect();
    let total = Arc::new(AtomicU64::new(0));

    let run = async {
        let pushers: Vec<_> = (0..CLIENTS)
            .map(|c| {
                tokio::spawn(push_all(
                    session.clone(),
                    clients[c],
                    outboxes[c].0.clone(),
                    SEED + c as u64,
                    acked[c].clone(),
                    total.clone(),
                ))
            })
            .collect();

        // The killer: at seeded counts of acknowledged mutations (spread over the run), plus a
        // seeded delay so that the kill lands inside a push rather than just after an answer.
        let mut rng = StdRng::seed_from_u64(SEED);
        let all = (CLIENTS * PER_CLIENT) as u64;
        let mut points: Vec<u64> = (0..KILLS)
            .map(|k| {
                let slot = all * 9 / 10 / KILLS as u64;
                slot * k as u64 + rng.gen_range(all / 20..slot)
            })
            .collect();
        points.sort_unstable();
        let mut kills = Vec::new();
        for point in points {
            while total.load(Ordering::SeqCst) < point {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            tokio::time::sleep(Duration::from_millis(rng.gen_range(0..15))).await;
            server.kill().await;
            kills.push(total.load(Ordering::SeqCst));
            server.start().await;
        }
        let mut counts = Counts::default();
        for pusher in pushers {
            let client = pusher.await.unwrap();
            counts.failures += client.failures;
            counts.lost_answers += client.lost_answers;
        }
        (kills, counts)
    };
    let (kills, counts) = tokio::time::timeout(RUN_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| panic!("the pushes did not finish within {RUN_TIMEOUT:?}"));
    assert_eq!(kills.len(), KILLS);
    // The first kill comes with three quarters of the mutations still to push, so pushes fail
    // and are retried (the later kills may come as the last pushes finish).
    assert!(
        counts.failures > 0,
        "no push failed: the kills missed every push"
    );

    // Every acknowledged mutation is there, once.
    let pulls = [
        session.pull_all(clients[0]).await,
        session.pull_all(clients[1]).await,
    ];
    let mut expected_domains = BTreeMap::new();
    let mut expected_drafts = BTreeMap::new();
    for (c, (_, domains, drafts)) in outboxes.iter().enumerate() {
        let server_last = session.pull_all(clients[c]).await.last_mutation_id;
        let told = acked[c].load(Ordering::SeqCst);
        assert_eq!(told, PER_CLIENT as u64);
        assert!(
            server_last >= told,
            "client {c}: server {server_last} < acknowledged {told}"
        );
        expected_domains.extend(domains.iter().map(|(id, d)| (*id, d.clone())));
        expected_drafts.extend(drafts.iter().map(|d| (d.id, d.clone())));
    }
    for pull in &pulls {
        // One version step per mutation: none was applied twice, none lost.
        assert_eq!(pull.version, (CLIENTS * PER_CLIENT) as u64);
        assert!(pull.deleted_drafts.is_empty());
        let mut domains = BTreeMap::new();
        for domain in &pull.domains {
            assert!(
                domains.insert(domain.id, domain.clone()).is_none(),
                "domain {} came twice",
                domain.id
            );
        }
        assert_eq!(domains, expected_domains, "the domains differ");
        let mut drafts = BTreeMap::new();
        for draft in &pull.drafts {
            assert!(
                drafts.insert(draft.id, draft.clone()).is_none(),
                "draft {} came twice",
                draft.id
            );
        }
        assert!(drafts == expected_drafts, "the drafts differ");
    }
    // Two devices see the same state (the client ids differ, so does nothing else).
    let same = |p: &SyncPull| (p.version, p.domains.clone(), p.drafts.clone());
    assert!(
        same(&pulls[0]) == same(&pulls[1]),
        "two clients pulled different states"
    );

    // A last SIGKILL, then the file itself.
    server.kill().await;
    let (domains, drafts, versions) =
        check_file(&server.data.join("data-modeller.db"), &user).await;
    let groups = (CLIENTS * PER_CLIENT / 5) as i64;
    assert_eq!(
        (domains, drafts, versions),
        (groups, 2 * groups, 2 * groups)
    );
    eprintln!(
        "{} mutations, {KILLS} kills at {kills:?} acknowledged, {} failed pushes retried, {} answers lost after their push was applied, {:.1} s",
        CLIENTS * PER_CLIENT,
        counts.failures,
        counts.lost_answers,
        started.elapsed().as_secs_f64()
    );
}
