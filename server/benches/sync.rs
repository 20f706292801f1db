//! Criterion benchmarks of sync (DESIGN §6): push and pull against the server on a real
//! loopback socket, in the benchmark's own process (the server's `launch` on a 2-thread tokio
//! runtime, a temporary SQLite file, a reqwest client as the browser).
//!
//! Terms. A *push of N mutations* sends one client's outbox of N mutations in the batches the
//! browser makes (`model::sync::batches` with the browser's `PART_BYTES` and `BATCH_BYTES`),
//! one after the other, each waiting for its answer; the request bodies are serialized before
//! the clock starts, so the figure is the server's work plus loopback HTTP. Two outboxes:
//! *edits* is 1,000 new domains and 9,000 field edits of them (small mutations), *records* is
//! 2,000 new domains and 8,000 new drafts each holding the 14-attribute library model
//! (`model/tests/data/library-v1.json`), so 10,000 records. Every iteration pushes as a new
//! client with new ids, into the same account, which grows as the benchmark runs. A *pull of
//! N records* reads, from version 0, an account of exactly N records (the *records* outbox,
//! pushed once before measuring), following `more` until the end, and receives the bytes
//! without decoding them. An *empty pull* asks from the account's current version.
//!
//! `cargo bench -p server --bench sync`; `-- --test` runs each benchmark once. Criterion
//! writes its estimates under `target/criterion/sync/`. Figures are in BENCHMARKS.md, "Sync".

#![allow(clippy::unwrap_used)]

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode};
use model::sync::{batches, DomainEdit, Mutation, SyncPull, SyncPush, BATCH_BYTES, PART_BYTES};
use model::wire::{DomainRecord, DraftRecord, Provenance};
use model::{Conventions, Model};
use reqwest::{header, StatusCode};
use server::{config::Config, AppState};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use uuid::Uuid;

/// Mutations per push benchmark, and records per pull benchmark.
const N: usize = 10_000;

/// The server, and the session cookies of the two accounts the benchmarks use.
struct Bench {
    rt: Runtime,
    base: String,
    http: reqwest::Client,
    /// The account the push benchmarks fill.
    pusher: String,
    /// The account with exactly [`N`] records, for the pulls.
    puller: String,
    _dir: tempfile::TempDir,
}

impl Bench {
    fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = Config::for_data_dir(dir.path().join("data"));
        let base = rt.block_on(async {
            let state = AppState::start(config).await.unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(server::launch(listener, state, std::future::pending()));
            base
        });
        let http = reqwest::Client::new();
        let register = |name: &str| {
            rt.block_on(async {
                let reply = http
                    .post(format!("{base}/api/v1/auth/register"))
                    .header("x-dm-csrf", "1")
                    .json(&serde_json::json!({ "username": name, "password": "correct horse battery" }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(reply.status(), StatusCode::CREATED);
                let cookie = reply.headers()[header::SET_COOKIE].to_str().unwrap();
                cookie.split(';').next().unwrap().to_string()
            })
        };
        let (pusher, puller) = (register("pusher"), register("puller"));
        Bench {
            rt,
            base,
            http,
            pusher,
            puller,
            _dir: dir,
        }
    }

    /// Pushes prepared bodies in order; panics unless each is applied whole.
    async fn push(&self, cookie: &str, bodies: &[Vec<u8>]) {
        for body in bodies {
            let reply = self
                .http
                .post(format!("{}/api/v1/sync/push", self.base))
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-dm-csrf", "1")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = reply.status();
            let text = reply.text().await.unwrap();
            assert_eq!(status, StatusCode::OK, "{text}");
            assert!(!text.contains("\"rejected\""), "{text}");
        }
    }

    /// Pulls from `since` to the end; returns the pages' bytes and the last version.
    async fn pull(&self, cookie: &str, client: Uuid, since: u64) -> (Vec<bytes::Bytes>, u64) {
        let mut pages = Vec::new();
        let mut version = since;
        loop {
            let reply = self
                .http
                .get(format!(
                    "{}/api/v1/sync/pull?client_id={client}&since={version}",
                    self.base
                ))
                .header(header::COOKIE, cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), StatusCode::OK);
            let page = reply.bytes().await.unwrap();
            // Only the two fields that drive the loop are read; the records stay bytes.
            #[derive(serde::Deserialize)]
            struct Head {
                version: u64,
                #[serde(default)]
                more: bool,
            }
            let head: Head = serde_json::from_slice(&page).unwrap();
            pages.push(page);
            version = head.version;
            if !head.more {
                return (pages, version);
            }
        }
    }
}

fn library() -> Model {
    serde_json::from_str(include_str!("../../model/tests/data/library-v1.json")).unwrap()
}

fn new_domain(i: usize) -> DomainRecord {
    DomainRecord {
        id: Uuid::now_v7(),
        name: format!("domain {i}"),
        description: String::new(),
        conventions: Conventions::default(),
        created_at: 1,
        updated_at: 1,
        deleted_at: None,
        overwritten: Vec::new(),
        positions: Default::default(),
        notes: vec![],
        exports: vec![],
    }
}

/// 1,000 new domains, each then edited 9 times (name and description in turn).
fn edits() -> Vec<Mutation> {
    let mut out = Vec::with_capacity(N);
    for i in 0..N / 10 {
        let domain = new_domain(i);
        let id = domain.id;
        let (mut name, mut description) = (domain.name.clone(), String::new());
        out.push(Mutation::CreateDomain { domain });
        for e in 0..9 {
            let (set, was) = if e % 2 == 0 {
                let next = format!("domain {i} v{e}");
                let was = std::mem::replace(&mut name, next.clone());
                (DomainEdit::Name(next), DomainEdit::Name(was))
            } else {
                let next = format!("what domain {i} holds, take {e}");
                let was = std::mem::replace(&mut description, next.clone());
                (DomainEdit::Description(next), DomainEdit::Description(was))
            };
            out.push(Mutation::EditDomain {
                domain_id: id,
                set,
                was,
                at: 2 + e,
            });
        }
    }
    out
}

/// 2,000 new domains with 4 new drafts each.
fn records(model: &Model) -> Vec<Mutation> {
    let mut out = Vec::with_capacity(N);
    for i in 0..N / 5 {
        let domain = new_domain(i);
        let id = domain.id;
        out.push(Mutation::CreateDomain { domain });
        for number in 1..=4 {
            out.push(Mutation::CreateDraft {
                draft: Box::new(DraftRecord {
                    id: Uuid::now_v7(),
                    domain_id: id,
                    number,
                    parent_id: None,
                    created_at: 2,
                    provenance: Provenance {
                        source: "llm".into(),
                        provider: "fake".into(),
                        model: "m".into(),
                        instruction: String::new(),
                        prompt_hash: "h".into(),
                        usage: None,
                        accepted: vec![],
                        proposed: 0,
                        notes: vec![],
                        parameters: Default::default(),
                    },
                    model: model.clone(),
                    made_on: None,
                }),
            });
        }
    }
    out
}

/// The push bodies a new client would send for `mutations`, serialized.
fn bodies(mutations: Vec<Mutation>) -> Vec<Vec<u8>> {
    let client_id = Uuid::now_v7();
    let pending: Vec<(u64, Mutation)> = mutations
        .into_iter()
        .enumerate()
        .map(|(i, m)| (i as u64 + 1, m))
        .collect();
    batches(&pending, PART_BYTES, BATCH_BYTES)
        .unwrap()
        .into_iter()
        .map(|mutations| {
            serde_json::to_vec(&SyncPush {
                client_id,
                mutations,
            })
            .unwrap()
        })
        .collect()
}

fn sync(c: &mut Criterion) {
    let bench = Bench::start();
    let model = library();

    let mut group = c.benchmark_group("sync");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));

    let push =
        |name: &str, make: &dyn Fn() -> Vec<Mutation>, group: &mut BenchmarkGroup<WallTime>| {
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        let prepared = bodies(make());
                        let start = Instant::now();
                        bench.rt.block_on(bench.push(&bench.pusher, &prepared));
                        spent += start.elapsed();
                    }
                    spent
                })
            });
        };
    push("push_10000_edits", &edits, &mut group);
    push("push_10000_records", &|| records(&model), &mut group);

    // The pull account: exactly N records, pushed once.
    let prepared = bodies(records(&model));
    eprintln!(
        "records outbox: {} pushes, {} bytes",
        prepared.len(),
        prepared.iter().map(Vec::len).sum::<usize>()
    );
    bench.rt.block_on(bench.push(&bench.puller, &prepared));
    let client = Uuid::now_v7();
    let (pages, current) = bench.rt.block_on(bench.pull(&bench.puller, client, 0));
    let pulled = pages.iter().fold((0, 0), |(records, bytes), page| {
        let page: SyncPull = serde_json::from_slice(page).unwrap();
        (
            records + page.domains.len() + page.drafts.len(),
            bytes + serde_json::to_vec(&page).unwrap().len(),
        )
    });
    assert_eq!(pulled.0, N, "the pull account holds {N} records");
    eprintln!(
        "pull from 0: {} pages, {} records, about {} bytes; version {current}",
        pages.len(),
        pulled.0,
        pulled.1
    );

    group.bench_function("pull_10000_records", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                let (pages, _) = bench.rt.block_on(bench.pull(&bench.puller, client, 0));
                std::hint::black_box(pages);
            }
            start.elapsed()
        })
    });
    group.sampling_mode(SamplingMode::Auto);
    group.sample_size(50);
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("pull_empty", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                let (pages, version) =
                    bench
                        .rt
                        .block_on(bench.pull(&bench.puller, client, current));
                assert_eq!((pages.len(), version), (1, current));
            }
            start.elapsed()
        })
    });
    group.finish();
}

criterion_group!(benches, sync);
criterion_main!(benches);
