//! `echo_server_threaded`: the seed's echo server, serving many clients at once with one thread
//! per connection.
//!
//! ```text
//! cargo run --bin echo_server_threaded -- [HOST:PORT] [--max-clients=N] [--idle-timeout=SECS]
//!                                         [--write-timeout=SECS]
//! ```
//!
//! Try it with two terminals of `nc 127.0.0.1 50007`: both are answered, unlike `echo_server`.

use anyhow::bail;
use socket_steps::advice::bind_failed;
use socket_steps::cli::{run_main, Args, DEFAULT_ADDR};
use socket_steps::step1_create::describe;
use socket_steps::step2_bind::local_addr;
use socket_steps::step3_listen::listening_socket;
use socket_steps::threaded::{serve_forever, Config, Event, BACKLOG};
use std::io::Write;

const USAGE: &str =
    "usage: echo_server_threaded [HOST:PORT] [--max-clients=N] [--idle-timeout=SECS] \
                     [--write-timeout=SECS]";

fn main() {
    run_main(|| {
        let (config, rest) = parse_limits(std::env::args().skip(1))?;
        let args = Args::parse(rest)?;
        let addr = args.addr()?;
        let listener = listening_socket(addr, BACKLOG)
            .map_err(|error| bind_failed(addr, env!("CARGO_BIN_NAME"), error))?;
        let bound = local_addr(&listener)?;
        println!(
            "listening on {bound} ({}, backlog {BACKLOG})",
            describe(&listener)
        );
        println!(
            "one thread per client, at most {} at once; a client quiet for {:?} or not reading \
             for {:?} is closed",
            config.max_clients, config.idle_timeout, config.write_timeout
        );
        flush();
        serve_forever(&listener, &config, None, log);
        Ok(())
    })
}

/// Prints one event. Called from many threads: `println!` locks stdout for each line, so lines
/// never mix.
fn log(event: Event) {
    // After the first failed accept in a row, we report only every 50th (5 s of retries), so
    // that a server out of file descriptors does not flood its log.
    if let Event::AcceptFailed(_, repeats) = &event {
        if *repeats > 1 && repeats % 50 != 0 {
            return;
        }
    }
    println!("{event}");
    flush();
}

fn flush() {
    // Our output is often a pipe (tests, `| tee`): flush so that each line is seen at once.
    let _ = std::io::stdout().flush();
}

/// Answers `--help`, then takes the limits' options out of the arguments and leaves the rest
/// for [`Args::parse`].
fn parse_limits(args: impl Iterator<Item = String>) -> anyhow::Result<(Config, Vec<String>)> {
    let args: Vec<String> = args.collect();
    if args.iter().any(|arg| arg == "-h" || arg == "--help") {
        bail!("{USAGE}\nHOST:PORT defaults to {DEFAULT_ADDR}; use port 0 to let the OS choose.");
    }
    Config::default().with_options(args)
}
