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

#[test]
fn the_core_depends_on_nothing_of_the_ui_server_or_database() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--package",
            "model",
            "--edges",
            "normal",
            "--target",
            "all",
            "--prefix",
            "none",
            "--offline",
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
    let crates: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    // The listing is real: it names the core and the crates it is known to use.
    for expected in ["model", "serde", "sqlparser", "similar"] {
        assert!(
            crates.contains(&expected),
            "cargo tree lacks {expected}: {stdout}"
        );
    }
    let bad: Vec<&str> = crates
        .iter()
        .copied()
        .filter(|name| FORBIDDEN.iter().any(|f| name.starts_with(f)))
        .collect();
    assert!(
        bad.is_empty(),
        "the model core must not depend on {bad:?}: move that code to app, server or cli"
    );
}
