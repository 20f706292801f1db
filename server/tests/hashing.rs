//! Password hashing under a burst: 100 concurrent sign-ins run at most one Argon2id hash per
//! core at a time, and the server's memory comes back near where it was.
//!
//! This file is a test binary of its own, so that the process's resident memory is the
//! server's and this test's alone.

#![allow(clippy::unwrap_used)]

mod common;

use common::{start_server, Client};
use reqwest::StatusCode;
use server::auth::HashPool;
use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

/// The process's resident set size in KiB, from `/proc/self/status`.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_sign_ins_is_hashed_a_few_at_a_time_and_memory_returns() {
    let server = start_server(|c| c.auth_attempts_per_minute = 0).await;
    let mut alice = Client::new(&server.base);
    alice.register("alice").await;
    // One sign-in first, so that the hashing threads and the connection pool exist.
    let mut warm = Client::new(&server.base);
    let login = serde_json::json!({ "username": "alice", "password": "correct horse battery" });
    assert_eq!(
        warm.post("/api/v1/auth/login", login.clone()).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = rss_kib();

    let peak = Arc::new(AtomicU64::new(idle));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::SeqCst) {
                peak.fetch_max(rss_kib(), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let logins = (0..100).map(|n| {
        let base = server.base.clone();
        async move {
            let password = if n % 4 == 0 {
                "correct horse battery"
            } else {
                "wrong horse battery"
            };
            let mut client = Client::new(&base);
            client
                .post(
                    "/api/v1/auth/login",
                    serde_json::json!({ "username": "alice", "password": password }),
                )
                .await
                .status
        }
    });
    let statuses = futures::future::join_all(logins).await;
    sampling.store(false, Ordering::SeqCst);
    sampler.await.unwrap();
    for (n, status) in statuses.iter().enumerate() {
        let expected = if n % 4 == 0 {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(*status, expected, "login {n}");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib();
    let peak = peak.load(Ordering::SeqCst);
    let pool = HashPool::shared();
    eprintln!(
        "rss: idle {} MiB, peak {} MiB during 100 concurrent logins, {} MiB 1 s after; {} hashing threads, at most {} busy",
        idle / 1024,
        peak / 1024,
        after / 1024,
        pool.size(),
        pool.most_busy()
    );
    assert!(
        pool.most_busy() <= pool.size(),
        "more hashes at once than threads"
    );
    // One Argon2id hash holds 19 MiB: the burst may add that per hashing thread, plus the
    // 100 connections' buffers, and nothing that grows with the number of logins.
    let per_hash = 20 * 1024;
    let bound = idle + pool.size() as u64 * per_hash + 24 * 1024;
    assert!(
        peak <= bound,
        "peak {peak} KiB above {bound} KiB (idle {idle} KiB)"
    );
    assert!(
        after <= bound,
        "after {after} KiB above {bound} KiB (idle {idle} KiB)"
    );
}
