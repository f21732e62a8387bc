//! `classroom`: hand this crate to a class.
//!
//! ```text
//! cargo run --bin classroom -- new DIR        # a student copy: every exercise becomes a todo!()
//! cargo run --bin classroom -- check          # in a student copy: which exercises pass, what next
//! cargo run --bin classroom -- hint 4.1       # the hint of exercise 4.1
//! cargo run --bin classroom -- solution 4.1   # the reference solution (teachers, reference crate)
//! cargo run --bin classroom -- verify         # CI: every exercise's tests fail unsolved, pass solved
//! cargo run --bin classroom -- book           # rewrite book/src/exercises/*.md from the regions
//! ```
//!
//! The exercises live in `src/` as regions (`// EXERCISE 4.1: ...` to `// END EXERCISE 4.1`);
//! each command is a function of `socket_steps::classroom`, and this file only picks one. It
//! reads the exercise files at build time (`include_str!`), so it always knows the solutions of
//! the crate it was built from. A student copy has a `.classroom.toml` at its root: its own
//! `classroom` binary then knows it holds no solutions, and reads the tasks and hints from that
//! file.

use std::path::Path;

use anyhow::bail;
use socket_steps::classroom::{check, copy, lookup, pages, verify, Origin};
use socket_steps::cli;

/// The crate this binary was built from (the reference crate, or a student copy), with its
/// exercise files as they were when it was built, in chapter order.
const ORIGIN: Origin = Origin {
    root: env!("CARGO_MANIFEST_DIR"),
    sources: &[
        (
            "src/step1_create.rs",
            include_str!("../src/step1_create.rs"),
        ),
        ("src/step2_bind.rs", include_str!("../src/step2_bind.rs")),
        (
            "src/step3_listen.rs",
            include_str!("../src/step3_listen.rs"),
        ),
        (
            "src/step4_accept.rs",
            include_str!("../src/step4_accept.rs"),
        ),
        (
            "src/step5_process.rs",
            include_str!("../src/step5_process.rs"),
        ),
        ("src/step6_close.rs", include_str!("../src/step6_close.rs")),
        ("src/client.rs", include_str!("../src/client.rs")),
    ],
};

const USAGE: &str = "\
usage: cargo run --bin classroom -- COMMAND

  new DIR        write a student copy of this crate to DIR (a new or empty folder): every
                 exercise becomes a todo!() for the student to write
  check          inside a student copy: run each exercise's tests, show progress and what next
  hint ID        show the hint of exercise ID (e.g. 4.1)
  solution ID    show the reference solution of exercise ID (teachers, in the reference crate)
  verify         for CI, in the reference crate: prove that every exercise's tests fail while it
                 is unsolved and pass once it is solved
  book           rewrite book/src/exercises/*.md from the exercises in src/";

fn main() {
    cli::run_main(|| {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match args.as_slice() {
            ["new", dir] => copy::new(&ORIGIN, Path::new(dir)),
            ["check"] => {
                // `check` has already said what to fix; the exit status tells scripts.
                if !check::check()? {
                    std::process::exit(1);
                }
                Ok(())
            }
            ["hint", id] => lookup::hint(&ORIGIN, id),
            ["solution", id] => lookup::solution(&ORIGIN, id),
            ["verify"] => verify::verify(&ORIGIN),
            ["book"] => pages::write_book(&ORIGIN),
            ["-h" | "--help" | "help"] => {
                println!("{USAGE}");
                Ok(())
            }
            [] => bail!("which command?\n{USAGE}"),
            [command, ..] => bail!(
                "`{}` is not a classroom command (or has the wrong arguments)\n{USAGE}",
                command
            ),
        }
    });
}
