//! The model core's boundary, enforced on the dependency graph: the crate must build for the
//! browser, the server, the CLI and the fuzzers alike, so nothing of the UI, the browser, the
//! server or a database may come into it, not even through another crate. This runs
//! `cargo tree` on the crate's normal dependencies for every target and fails on any crate of
//! those families.

use std::process::Command;

/// Crate name prefixes the model core must never depend on, directly or not.
const FORBIDDEN: &[&str] = &[
    "leptos",
    "reactive_graph",
    "tachys",
    "web-sys",
    "js-sys",
    "wasm-bindgen",
    "gloo",
    "rexie",
    "idb",
    "sqlx",
    "libsqlite3-sys",
    "axum",
    "hyper",
    "tower",
    "tokio",
    "reqwest",
    "clap",
];

/// The crates the core's normal dependencies bring in when built for `target`.
fn dependencies(target: &str) -> (Vec<String>, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--package",
            "model",
            "--edges",
            "normal",
            "--target",
            target,
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let crates = stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    (crates, stdout.into_owned())
}

#[test]
fn the_core_depends_on_nothing_of_the_ui_server_or_database() {
    // The host (server, CLI, tests) and the browser build, whose target-specific dependencies
    // differ (a crate's `wasm32` section could bring in wasm-bindgen).
    for target in ["x86_64-unknown-linux-gnu", "wasm32-unknown-unknown"] {
        let (crates, listing) = dependencies(target);
        // The listing is real: it names the core and the crates it is known to use.
        for expected in ["model", "serde", "sqlparser", "similar"] {
            assert!(
                crates.iter().any(|c| c == expected),
                "cargo tree for {target} lacks {expected}: {listing}"
            );
        }
        let bad: Vec<&String> = crates
            .iter()
            .filter(|name| FORBIDDEN.iter().any(|f| name.starts_with(f)))
            .collect();
        assert!(
            bad.is_empty(),
            "for {target}, the model core must not depend on {bad:?}: move that code to app, \
             server or cli"
        );
    }
}
