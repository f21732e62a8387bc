//! `echo_server_events`: the seed's echo server on one thread, with an `epoll` event loop
//! (Linux only).
//!
//! ```text
//! cargo run --bin echo_server_events -- [HOST:PORT] [--max-clients=N]
//!                        [--idle-timeout=DURATION] [--write-timeout=DURATION] [--quiet]
//! ```
//!
//! Try it with two terminals of `nc -N 127.0.0.1 50007`: both are answered, by one thread.

use anyhow::Context;
use socket_steps::advice::bind_failed;
use socket_steps::cli::{self, run_main};
use socket_steps::events::{serve, Config, Event, BACKLOG, MAX_CLIENTS};
use socket_steps::step1_create::describe;
use socket_steps::step2_bind::local_addr;
use socket_steps::step3_listen::listening_socket;
use std::io::Write;

/// The tutorial's echo server on one thread, with an epoll event loop (Linux only).
///
/// Try it with two terminals of nc -N 127.0.0.1 50007: both are answered, by one thread. Stop it with Ctrl-C.
#[derive(clap::Parser)]
#[command(verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    listen: cli::Listen,
    /// Hold at most N connections; more wait in the accept queue
    #[arg(long, value_name = "N", default_value_t = MAX_CLIENTS, value_parser = cli::clients)]
    max_clients: usize,
    #[command(flatten)]
    timeouts: cli::Timeouts,
    /// Do not log each client: only the cap and failed accepts
    #[arg(long)]
    quiet: bool,
}

fn main() {
    run_main(|| {
        let args: Args = cli::parse()?;
        let config = Config {
            max_clients: args.max_clients,
            idle_timeout: args.timeouts.idle_timeout,
            write_timeout: args.timeouts.write.write_timeout,
        };
        let quiet = args.quiet;
        let addr = args.listen.addr()?;
        let listener = listening_socket(addr, BACKLOG)
            .map_err(|error| bind_failed(addr, env!("CARGO_BIN_NAME"), error))?;
        let bound = local_addr(&listener)?;
        println!(
            "listening on {bound} ({}, backlog {BACKLOG})",
            describe(&listener)
        );
        if let Some(warning) = socket_steps::narrate::every_network(bound) {
            println!("{warning}");
        }
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
        if !socket_steps::echo::worth_logging(*repeats) {
            return;
        }
    }
    println!("{event}");
    flush();
}

fn flush() {
    let _ = std::io::stdout().flush();
}
