//! The `quartier` binary: parse the arguments, run, map errors to exit codes.

use clap::Parser;

// Loading a large city allocates millions of small strings and vectors on both cores;
// mimalloc does that with far fewer page faults than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // PROJ prints its own errors to stderr ("proj_create: crs not found"); quartier reports
    // them in its messages instead.
    if std::env::var_os("PROJ_DEBUG").is_none() {
        std::env::set_var("PROJ_DEBUG", "0");
    }
    let cli = quartier::cli::Cli::parse();
    let code = match quartier::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            error.exit_code()
        }
    };
    std::process::exit(code);
}
