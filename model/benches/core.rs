//! Criterion benchmarks of the model core on generated models.
//!
//! Every group is measured on models of 10, 100 and 1,000 entities with 20 attributes each
//! (`generate::generated_model`), and a group's name carries the size: `diff_impact/1000` holds
//! the diff and the impact analysis of a 1,000-entity model against a *revision* of it
//! (`generate::mutated_model`, 10 % of entities touched). The inputs of every benchmark (models,
//! DDL, JSON, LLM answers) are built once before measuring, so only the named function is timed.
//!
//! Sample counts and times are kept small so that the whole file runs in a few minutes on two
//! cores; `cargo bench -p app --bench core -- --test` runs each benchmark once, as CI does. A
//! function whose single call takes longer than [`BUDGET`] is called once, reported with that
//! time on standard error, and not sampled: ten samples of it would take the run past its
//! budget, and one call already says it is far from interactive. Figures and how to read them
//! are in BENCHMARKS.md, "Model core (criterion)"; the `diagram/<n>` group (100, 500 and 1,000
//! entities) in "Diagram layout (issue 14)".

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use model::diagram::svg::{render, SvgOptions};
use model::diagram::{layout, Positions};
use model::diff::diff_models;
use model::export::{export, ExportFormat};
use model::generate::{generated_change_set, generated_model, llm_answer, mutated_model};
use model::impact::analyze;
use model::import::{import_json, import_sql};
use model::migrate::migration_sql;
use model::ops::{apply, parse_change_set, ProposedChange};
use model::parse::parse_model;
use model::types::Model;
use model::validate::{validate, Conventions, NamingConvention};
use model::SqlDialect;
use std::hint::black_box;
use std::time::{Duration, Instant};

const SIZES: [usize; 3] = [10, 100, 1000];
const ATTRIBUTES: usize = 20;
const SEED: u64 = 2026;
/// Share of entities the revision touches, in percent.
const REVISED: u8 = 10;
/// Longest single call that is still sampled.
const BUDGET: Duration = Duration::from_secs(1);

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

/// Everything one size needs, built before any measurement.
struct Inputs {
    entities: usize,
    model: Model,
    revised: Model,
    /// The model's own DDL per dialect, to import back, and how long writing it took.
    ddl: Vec<(SqlDialect, String, Duration)>,
    json: String,
    /// The model as an LLM answers a first draft: prose around a fenced JSON block.
    model_answer: String,
    /// A change set of about 10 % of entities, as an LLM answers a later draft.
    change_answer: String,
    changes: Vec<ProposedChange>,
}

impl Inputs {
    fn new(entities: usize) -> Inputs {
        let model = generated_model(entities, ATTRIBUTES, SEED);
        let revised = mutated_model(&model, REVISED, SEED);
        let ddl = SqlDialect::ALL
            .iter()
            .map(|&d| {
                let start = Instant::now();
                let ddl = export(&model, ExportFormat::Sql(d));
                (d, ddl, start.elapsed())
            })
            .collect();
        let json = export(&model, ExportFormat::Json);
        let model_answer = llm_answer(&json);
        let set = generated_change_set(&model, (entities / 10).max(5), SEED);
        let change_answer = llm_answer(
            &serde_json::to_string_pretty(&set).expect("a change set always serializes"),
        );
        Inputs {
            entities,
            model,
            revised,
            ddl,
            json,
            model_answer,
            change_answer,
            changes: set.changes,
        }
    }

    /// A group named `<name>/<entities>` with settings that keep the run short.
    fn group<'c>(&self, c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
        let mut group = c.benchmark_group(format!("{name}/{}", self.entities));
        group
            .sample_size(if self.entities >= 1000 { 10 } else { 20 })
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        group
    }
}

/// Samples `f` as `name` in `group` when one call of it (which `probe` took) fits the budget;
/// otherwise reports that one call and moves on.
fn measure<O>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    group_name: &str,
    name: &str,
    probe: Duration,
    mut f: impl FnMut() -> O,
) {
    if probe > BUDGET {
        eprintln!(
            "{group_name}/{name}: not sampled, one call took {:.2} s (budget {} ms)",
            probe.as_secs_f64(),
            BUDGET.as_millis()
        );
        return;
    }
    group.bench_function(name, |b| b.iter(&mut f));
}

/// [`measure`] with a probe call first.
fn sampled<O>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    group_name: &str,
    name: &str,
    mut f: impl FnMut() -> O,
) {
    let took = probe(&mut f);
    measure(group, group_name, name, took, f);
}

/// How long one call of `f` takes.
fn probe<O>(f: impl FnOnce() -> O) -> Duration {
    let start = Instant::now();
    black_box(f());
    start.elapsed()
}

fn inputs() -> Vec<Inputs> {
    SIZES.iter().map(|&n| Inputs::new(n)).collect()
}

/// The headline: what the review screen computes when a new draft arrives.
fn diff_impact(c: &mut Criterion, all: &[Inputs]) {
    for inputs in all {
        let mut group = inputs.group(c, "diff_impact");
        // More samples here: this is the figure compared with the 20 ms target.
        if inputs.entities < 1000 {
            group
                .sample_size(30)
                .measurement_time(Duration::from_secs(3));
        }
        let (old, new) = (&inputs.model, &inputs.revised);
        let g = format!("diff_impact/{}", inputs.entities);
        sampled(&mut group, &g, "diff_models", || {
            diff_models(black_box(old), black_box(new))
        });
        sampled(&mut group, &g, "analyze", || {
            analyze(black_box(old), black_box(new))
        });
        sampled(&mut group, &g, "diff_models+analyze", || {
            (
                diff_models(black_box(old), black_box(new)),
                analyze(black_box(old), black_box(new)),
            )
        });
        group.finish();
    }
}

fn validation(c: &mut Criterion, all: &[Inputs]) {
    let snake = Conventions {
        naming: NamingConvention::SnakeCase,
        guidance: String::new(),
    };
    for inputs in all {
        let mut group = inputs.group(c, "validate");
        let g = format!("validate/{}", inputs.entities);
        sampled(&mut group, &g, "validate", || {
            validate(black_box(&inputs.model), &snake)
        });
        group.finish();
    }
}

fn exports(c: &mut Criterion, all: &[Inputs]) {
    for inputs in all {
        let mut group = inputs.group(c, "export");
        let group_name = format!("export/{}", inputs.entities);
        for (name, format) in FORMATS {
            let run = || export(black_box(&inputs.model), format);
            // The DDL was written (and timed) once already, to have something to import.
            let took = match format {
                ExportFormat::Sql(d) => inputs
                    .ddl
                    .iter()
                    .find(|(dialect, _, _)| *dialect == d)
                    .map_or(Duration::ZERO, |(_, _, took)| *took),
                _ => probe(run),
            };
            measure(&mut group, &group_name, name, took, run);
        }
        group.finish();
    }
}

fn migrations(c: &mut Criterion, all: &[Inputs]) {
    for inputs in all {
        let mut group = inputs.group(c, "migrate");
        for dialect in [SqlDialect::Postgres, SqlDialect::Sqlite] {
            let run = || {
                migration_sql(
                    black_box(&inputs.model),
                    black_box(&inputs.revised),
                    dialect,
                )
            };
            // Measuring the error path would say nothing about migration speed.
            let start = Instant::now();
            if let Err(e) = run() {
                panic!("{dialect} migration of the generated revision failed: {e}");
            }
            let took = start.elapsed();
            let group_name = format!("migrate/{}", inputs.entities);
            measure(&mut group, &group_name, dialect.id(), took, run);
        }
        group.finish();
    }
}

fn imports(c: &mut Criterion, all: &[Inputs]) {
    for inputs in all {
        let mut group = inputs.group(c, "import");
        for (dialect, ddl, _) in &inputs.ddl {
            let start = Instant::now();
            match import_sql(ddl, *dialect) {
                Ok(imported) => assert_eq!(
                    imported.model.entities.len(),
                    inputs.entities,
                    "{dialect} import of the model's own DDL lost tables"
                ),
                Err(e) => panic!("{dialect} import of the model's own DDL failed: {e}"),
            }
            let took = start.elapsed();
            let name = format!("sql_{}", dialect.id());
            let group_name = format!("import/{}", inputs.entities);
            measure(&mut group, &group_name, &name, took, || {
                import_sql(black_box(ddl), *dialect)
            });
        }
        if let Err(e) = import_json(&inputs.json) {
            panic!("import of the model's own JSON failed: {e}");
        }
        let g = format!("import/{}", inputs.entities);
        sampled(&mut group, &g, "json", || {
            import_json(black_box(&inputs.json))
        });
        group.finish();
    }
}

fn parsing(c: &mut Criterion, all: &[Inputs]) {
    for inputs in all {
        let mut group = inputs.group(c, "parse");
        if let Err(e) = parse_model(&inputs.model_answer) {
            panic!("the generated model answer does not parse: {e}");
        }
        if let Err(e) = parse_change_set(&inputs.change_answer) {
            panic!("the generated change-set answer does not parse: {e}");
        }
        let g = format!("parse/{}", inputs.entities);
        sampled(&mut group, &g, "parse_model", || {
            parse_model(black_box(&inputs.model_answer))
        });
        sampled(&mut group, &g, "parse_change_set", || {
            parse_change_set(black_box(&inputs.change_answer))
        });
        group.finish();
    }
}

fn operations(c: &mut Criterion, all: &[Inputs]) {
    for inputs in all {
        let mut group = inputs.group(c, "ops");
        let applied = apply(&inputs.model, &inputs.changes, None);
        let failed: Vec<_> = applied.outcomes.iter().filter(|o| !o.applied).collect();
        assert!(
            failed.is_empty(),
            "generated operations did not apply: {failed:?}"
        );
        let g = format!("ops/{}", inputs.entities);
        sampled(&mut group, &g, "apply", || {
            apply(black_box(&inputs.model), black_box(&inputs.changes), None)
        });
        group.finish();
    }
}

/// Model sizes of the diagram group (issue 14): the layout's target is 1,000 entities.
const DIAGRAM_SIZES: [usize; 3] = [100, 500, 1000];

/// The ER diagram: `layout` from nothing (a first draft, "arrange again"), `layout` of a child
/// with 10 new entities given the parent's positions (a new draft), and the SVG of the diagram.
/// Each size's canvas and SVG size are printed on standard error.
fn diagram(c: &mut Criterion) {
    for n in DIAGRAM_SIZES {
        let model = generated_model(n, ATTRIBUTES, SEED);
        // The generator is a prefix: the first n entities of n + 10 are the model's own.
        let child = generated_model(n + 10, ATTRIBUTES, SEED);
        assert!(model
            .entities
            .iter()
            .zip(&child.entities)
            .all(|(a, b)| a == b));
        let mut group = c.benchmark_group(format!("diagram/{n}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(2));
        let g = format!("diagram/{n}");
        sampled(&mut group, &g, "layout", || layout(black_box(&model), None));
        let drawn = layout(&model, None);
        let priors: Positions = drawn.positions();
        sampled(&mut group, &g, "layout_child_with_priors", || {
            layout(black_box(&child), Some(black_box(&priors)))
        });
        let options = SvgOptions {
            legend: true,
            ..SvgOptions::default()
        };
        sampled(&mut group, &g, "svg", || {
            render(black_box(&drawn), black_box(&options))
        });
        eprintln!(
            "{g}: canvas {:.0} x {:.0} px, {} edges, SVG {} bytes",
            drawn.bounds.width,
            drawn.bounds.height,
            drawn.edges.len(),
            render(&drawn, &options).len()
        );
        group.finish();
    }
}

fn core(c: &mut Criterion) {
    let all = inputs();
    diff_impact(c, &all);
    validation(c, &all);
    exports(c, &all);
    migrations(c, &all);
    imports(c, &all);
    parsing(c, &all);
    operations(c, &all);
}

criterion_group!(benches, core, diagram);
criterion_main!(benches);
