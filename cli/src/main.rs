//! `dm`: the model command line. Parses the arguments and hands the command to [`cli::run_stdio`];
//! the exit code is the command's outcome (see [`cli::EXIT_CODES`]).

use clap::Parser;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "dm",
    version,
    about = "Data Modeller's model command line: convert, diff, migrate and validate data models",
    after_help = cli::EXIT_CODES
)]
struct Dm {
    #[command(subcommand)]
    command: cli::ModelCommand,
}

fn main() -> ExitCode {
    // clap exits with 2 on a usage error and 0 for --help and --version.
    let args = Dm::parse();
    ExitCode::from(cli::run_stdio(&args.command).code())
}
