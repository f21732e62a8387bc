//! `echo_server_events`: the seed's echo server on one thread, with an `epoll` event loop
//! (Linux only).
//!
//! ```text
//! cargo run --bin echo_server_events -- [HOST:PORT] [--max-clients=N] [--idle-timeout=SECS]
//!                                       [--write-timeout=SECS] [--quiet]
//! ```
//!
//! Try it with two terminals of `nc 127.0.0.1 50007`: both are answered, by one thread.

use anyhow::{bail, Context};
use socket_steps::advice::bind_failed;
use socket_steps::cli::{run_main, seconds, Args, DEFAULT_ADDR};
use socket_steps::events::{serve, Config, Event, BACKLOG};
use socket_steps::step1_create::describe;
use socket_steps::step2_bind::local_addr;
use socket_steps::step3_listen::listening_socket;
use std::io::Write;

const USAGE: &str = "usage: cargo run --bin echo_server_events -- [HOST:PORT] [--max-clients=N] \
                     [--idle-timeout=SECS] [--write-timeout=SECS] [--quiet]";

fn main() {
    run_main(|| {
        let (config, quiet, rest) = parse_limits(std::env::args().skip(1))?;
        let addr = Args::parse(rest)?.addr()?;
        let listener = listening_socket(addr, BACKLOG)
            .map_err(|error| bind_failed(addr, env!("CARGO_BIN_NAME"), error))?;
        let bound = local_addr(&listener)?;
        println!(
            "listening on {bound} ({}, backlog {BACKLOG})",
            describe(&listener)
        );
        println!(
            "one thread, one epoll loop, at most {} connections; a client quiet for {:?} or not \
             reading for {:?} is closed",
            config.max_clients, config.idle_timeout, config.write_timeout
        );
        if quiet {
            println!("--quiet: logging only the cap and accept failures, not each client");
        }
        flush();
        serve(&listener, &config, |event| log(event, quiet)).context("the event loop stopped")?;
        Ok(())
    })
}

/// Prints one event: every one, or with `--quiet` only those about the server as a whole.
///
/// Printing blocks if nobody reads our output (a full pipe), and with it the whole loop: a
/// production server logs asynchronously. Here stdout is a terminal or a test that reads it.
fn log(event: Event, quiet: bool) {
    let about_the_server = matches!(
        event,
        Event::Full(_) | Event::Accepting(_) | Event::AcceptFailed(..)
    );
    if quiet && !about_the_server {
        return;
    }
    // After the first failed accept in a row, only every 50th (5 s of pauses).
    if let Event::AcceptFailed(_, repeats) = &event {
        if *repeats > 1 && repeats % 50 != 0 {
            return;
        }
    }
    println!("{event}");
    flush();
}

fn flush() {
    let _ = std::io::stdout().flush();
}

/// Takes our own options out of the arguments and leaves the rest for [`Args::parse`].
fn parse_limits(args: impl Iterator<Item = String>) -> anyhow::Result<(Config, bool, Vec<String>)> {
    let mut config = Config::default();
    let mut quiet = false;
    let mut rest = Vec::new();
    for arg in args {
        if arg == "-h" || arg == "--help" {
            println!(
                "{USAGE}\n  HOST:PORT defaults to {DEFAULT_ADDR}; port 0 lets the OS choose.\n  \
                 --max-clients=N: hold at most N connections (default {}); more wait in the \
                 accept queue\n  --idle-timeout=SECS, --write-timeout=SECS: when to close a quiet \
                 client, or one that does not read its replies\n  --quiet: do not log each client",
                Config::default().max_clients
            );
            std::process::exit(0);
        } else if arg == "--quiet" {
            quiet = true;
        } else if let Some(value) = arg.strip_prefix("--max-clients=") {
            config.max_clients = value
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .with_context(|| format!("`{value}` is not a number of clients (1 or more)"))?;
        } else if let Some(value) = arg.strip_prefix("--idle-timeout=") {
            config.idle_timeout = seconds(value)?;
        } else if let Some(value) = arg.strip_prefix("--write-timeout=") {
            config.write_timeout = seconds(value)?;
        } else if arg.starts_with("--") {
            bail!("unknown option `{arg}`: see --help");
        } else {
            rest.push(arg);
        }
    }
    Ok((config, quiet, rest))
}
