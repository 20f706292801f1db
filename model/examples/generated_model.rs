//! Writes a generated model (`generate::generated_model`) as JSON on standard output, for the
//! browser benchmarks that need a large draft (`end2end/bench/diagram-frames.bench.ts`):
//!
//! ```sh
//! cargo run -q -p model --example generated_model -- 500 20 2026 > model.json
//! ```
//!
//! The arguments are the entity count, the attribute count per entity and the seed, as
//! `generated_model` takes them; the same arguments always write the same model, and it passes
//! validation with the snake_case convention, so the server accepts it as a draft.

use model::generate::generated_model;
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: generated_model <entities> <attributes> <seed> (whole numbers)";

fn main() -> ExitCode {
    let numbers: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().ok())
        .collect::<Option<_>>()
        .unwrap_or_default();
    let &[entities, attributes, seed] = numbers.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let (Ok(entities), Ok(attributes)) = (usize::try_from(entities), usize::try_from(attributes))
    else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let model = generated_model(entities, attributes, seed);
    match write_json(&model) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot write the model: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The model as one line of JSON on standard output.
fn write_json(model: &model::Model) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, model)?;
    out.write_all(b"\n")?;
    out.flush()
}
