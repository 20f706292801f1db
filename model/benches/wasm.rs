//! Diff and impact in the browser: what the review screen computes when a new draft arrives,
//! measured in headless Chromium on the wasm the site ships.
//!
//! The inputs are those of `benches/core.rs`'s `diff_impact/1000` group: a 1,000-entity model of
//! 20 attributes each (`generate::generated_model`) and its revision
//! (`generate::mutated_model`, 10 % of entities touched), built once before measuring. The
//! harness is wasm-bindgen-test's own subset of criterion (`#[wasm_bindgen_bench]`), run by
//! wasm-bindgen-test-runner through chromedriver. Build it with the size-optimised `release`
//! profile, the one the wasm ships with (`opt-level = 'z'`, fat LTO), not the `bench` profile:
//!
//! ```sh
//! CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=300 \
//!     WASM_BINDGEN_BENCH_RESULT="$PWD/target/wbg_benchmark.json" \
//!     cargo bench -p model --bench wasm --target wasm32-unknown-unknown --profile release
//! ```
//!
//! (from the workspace root; without `WASM_BINDGEN_BENCH_RESULT` the runner writes its baseline,
//! which the next run compares with, to `model/target/`, inside the source tree; the whole run
//! takes about 30 s, longer than the runner's default time-out of 20 s, hence
//! `WASM_BINDGEN_TEST_TIMEOUT`).
//!
//! The file is empty natively. Figures are in BENCHMARKS.md, "The core linear at 1,000
//! entities" and, for `diagram_layout` (the ER diagram's `layout` of generated models of 100,
//! 500 and 1,000 entities, as `benches/core.rs`'s `diagram/<n>` group), "Diagram layout (issue
//! 14)"; no test asserts a duration.

#![cfg(target_arch = "wasm32")]

use model::diagram::layout;
use model::diff::diff_models;
use model::generate::{generated_model, mutated_model};
use model::impact::analyze;
use std::hint::black_box;
use std::time::Duration;
use wasm_bindgen_test::{console_log, wasm_bindgen_bench, wasm_bindgen_test_configure, Criterion};

wasm_bindgen_test_configure!(run_in_browser);

const ENTITIES: usize = 1000;
const ATTRIBUTES: usize = 20;
const SEED: u64 = 2026;
/// Share of entities the revision touches, in percent.
const REVISED: u8 = 10;

#[wasm_bindgen_bench]
fn diff_impact(c: &mut Criterion) {
    // The harness's default (100 samples over 5 s) would take minutes at tens of milliseconds
    // a call; 20 samples over 3 s keep a run to about half a minute.
    *c = std::mem::take(c)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let old = generated_model(ENTITIES, ATTRIBUTES, SEED);
    let new = mutated_model(&old, REVISED, SEED);
    // The same inputs as natively, where the diff holds 247 changes: printed so that the log
    // shows it.
    console_log!(
        "{} entities, {} changes in the diff",
        old.entities.len(),
        diff_models(&old, &new).changes.len()
    );
    c.bench_function("diff_impact/1000/diff_models (wasm)", |b| {
        b.iter(|| diff_models(black_box(&old), black_box(&new)))
    });
    c.bench_function("diff_impact/1000/analyze (wasm)", |b| {
        b.iter(|| analyze(black_box(&old), black_box(&new)))
    });
}

/// The ER diagram's auto layout (issue 14; target: 1,000 entities within 1 s in the browser).
#[wasm_bindgen_bench]
fn diagram_layout(c: &mut Criterion) {
    *c = std::mem::take(c)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for n in [100, 500, 1000] {
        let model = generated_model(n, ATTRIBUTES, SEED);
        let drawn = layout(&model, None);
        console_log!(
            "diagram/{n}: canvas {} x {} px, {} edges",
            drawn.bounds.width,
            drawn.bounds.height,
            drawn.edges.len()
        );
        c.bench_function(&format!("diagram/{n}/layout (wasm)"), |b| {
            b.iter(|| layout(black_box(&model), None))
        });
    }
}
