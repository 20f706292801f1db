//! How each exporter's time (and a share link's page's) grows from 100 to 1,000 entities, measured so that the ratio holds
//! on a shared machine.
//!
//! The *ratio* of a format is its median time for one export of `generated_model(1000, 20,
//! 2026)` over its median time for one export of `generated_model(100, 20, 2026)`; a linear
//! exporter shows about 10. Criterion's `export/` group of `benches/core.rs` measures the same
//! calls one size after the other in wall-clock time, so when other processes share the cores
//! (the usual case on the two-core build machine) its 100- and 1,000-entity figures are taken
//! under different loads and their ratio says little. Here the two sizes alternate, round after
//! round, and each call is timed in *on-CPU time* (the thread's CPU clock,
//! `CLOCK_THREAD_CPUTIME_ID`; wall-clock time where there is none): time spent waiting for a
//! core is left out, while cache misses after another process ran are not.
//! Wall-clock medians are printed beside them.
//!
//! `cargo bench -p model --bench export_scale` runs 30 rounds; `-- <rounds>` sets another
//! count, and `-- --test` (what `cargo bench -- --test` passes) runs one round.
//! `-- --calls <format> <entities> <calls>` only exports the generated model of that size
//! `calls` times and prints nothing: run under `valgrind --tool=cachegrind`, the difference
//! between a run with `calls` calls and one with none counts the instructions of the exports
//! alone, a measure of growth that no other process can disturb.

// The benchmark's report is its output: a Markdown table printed, not logged.
#![allow(clippy::print_stdout)]

use model::export::{export, ExportFormat};
use model::generate::generated_model;
use model::share::render_html;
use model::wire::{ShareDoc, SharedDraft};
use model::Model;
use model::SqlDialect;
use std::hint::black_box;
use std::time::{Duration, Instant};

const FORMATS: [(&str, ExportFormat); 9] = [
    ("markdown", ExportFormat::Markdown),
    ("plantuml", ExportFormat::PlantUml),
    ("mermaid", ExportFormat::Mermaid),
    ("sql_postgres", ExportFormat::Sql(SqlDialect::Postgres)),
    ("sql_mysql", ExportFormat::Sql(SqlDialect::Mysql)),
    ("sql_sqlite", ExportFormat::Sql(SqlDialect::Sqlite)),
    ("dbml", ExportFormat::Dbml),
    ("json_schema", ExportFormat::JsonSchema),
    ("json", ExportFormat::Json),
];

/// A share link's document for `model`: one draft, or (`pair`) the model after itself.
fn share_doc(model: &Model, pair: bool) -> ShareDoc {
    let draft = |number| SharedDraft {
        number,
        created_at: 0,
        model: model.clone(),
    };
    ShareDoc {
        version: ShareDoc::VERSION,
        domain: "generated".into(),
        draft: draft(2),
        old: pair.then(|| draft(1)),
        positions: Default::default(),
    }
}

/// Calls of the 100-entity export per timing, so that both sizes time about the same span.
const SMALL_CALLS: u32 = 10;

/// The thread's on-CPU time so far (`CLOCK_THREAD_CPUTIME_ID`), or `None` where there is no
/// such clock.
#[cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]
fn cpu_time() -> Option<Duration> {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Some(Duration::new(
        u64::try_from(now.tv_sec).ok()?,
        u32::try_from(now.tv_nsec).ok()?,
    ))
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "freebsd")))]
fn cpu_time() -> Option<Duration> {
    None
}

/// Runs `f` `calls` times; returns (on-CPU time, wall-clock time) per call.
fn time(calls: u32, mut f: impl FnMut()) -> (Duration, Duration) {
    let (cpu, wall) = (cpu_time(), Instant::now());
    for _ in 0..calls {
        f();
    }
    let wall = wall.elapsed();
    let cpu = match (cpu, cpu_time()) {
        (Some(start), Some(end)) => end.saturating_sub(start),
        _ => wall,
    };
    (cpu / calls, wall / calls)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn show(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros >= 1000.0 {
        format!("{:.2} ms", micros / 1000.0)
    } else {
        format!("{micros:.0} µs")
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--calls") {
        let arg = |i: usize| args.get(at + i).map_or("", String::as_str);
        let Some(&(_, format)) = FORMATS.iter().find(|(name, _)| *name == arg(1)) else {
            panic!(
                "--calls <format> <entities> <calls>: no format {:?}",
                arg(1)
            );
        };
        let entities = arg(2).parse().unwrap_or(100);
        let model = generated_model(entities, 20, 2026);
        for _ in 0..arg(3).parse().unwrap_or(1) {
            black_box(export(black_box(&model), format));
        }
        return;
    }
    let rounds = if args.iter().any(|a| a == "--test") {
        1
    } else {
        args.iter().find_map(|a| a.parse().ok()).unwrap_or(30)
    };
    let small = generated_model(100, 20, 2026);
    let large = generated_model(1000, 20, 2026);
    println!(
        "{rounds} rounds; medians of on-CPU time ({}) and of wall-clock time",
        if cpu_time().is_some() {
            "the thread's CPU clock"
        } else {
            "no CPU clock here: wall clock"
        }
    );
    println!("| format | 100 | 1,000 | 1,000 / 100 | wall 100 | wall 1,000 | wall 1,000 / 100 |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    // The exporters, then a share link's page (`model::share::render_html`: header, inline
    // diagram, dictionary, downloads with the SQL warnings) of one draft, and of a pair (the
    // model after itself: the diff and impact are walked, nothing changed). A job is called
    // with `true` for the 1,000-entity model.
    type Job<'a> = Box<dyn Fn(bool) + 'a>;
    let (small_ref, large_ref) = (&small, &large);
    let pick = move |large: bool| if large { large_ref } else { small_ref };
    let mut jobs: Vec<(&str, Job)> = FORMATS
        .iter()
        .map(|&(name, format)| {
            let job: Job = Box::new(move |large| {
                black_box(export(black_box(pick(large)), format));
            });
            (name, job)
        })
        .collect();
    for (name, pair) in [("share_page", false), ("share_page_pair", true)] {
        let docs = [share_doc(&small, pair), share_doc(&large, pair)];
        let job: Job = Box::new(move |large| {
            let doc = &docs[usize::from(large)];
            black_box(render_html(black_box(doc), &|d| {
                format!("/s/t/download/{}", d.format)
            }));
        });
        jobs.push((name, job));
    }
    for (name, job) in &jobs {
        let name = *name;
        // One call of each first: allocator and caches in their usual state.
        job(false);
        job(true);
        let (mut cpu, mut wall) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
        for _ in 0..rounds {
            let (c, w) = time(SMALL_CALLS, || job(false));
            cpu[0].push(c);
            wall[0].push(w);
            let (c, w) = time(1, || job(true));
            cpu[1].push(c);
            wall[1].push(w);
        }
        let [cpu_small, cpu_large] = cpu.map(median);
        let [wall_small, wall_large] = wall.map(median);
        println!(
            "| {name} | {} | {} | {:.1} | {} | {} | {:.1} |",
            show(cpu_small),
            show(cpu_large),
            cpu_large.as_secs_f64() / cpu_small.as_secs_f64(),
            show(wall_small),
            show(wall_large),
            wall_large.as_secs_f64() / wall_small.as_secs_f64(),
        );
    }
}
