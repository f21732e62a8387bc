//! `echo_server_async`: the seed's echo server on tokio: one thread, one task per client.
//!
//! ```text
//! cargo run --bin echo_server_async -- [HOST:PORT] [--max-clients=N] [--idle-timeout=SECS]
//!                                      [--write-timeout=SECS]
//! ```
//!
//! Try it with two terminals of `nc 127.0.0.1 50007`: both are answered, by one thread.

use std::io::Write;
use std::sync::Arc;

use socket_steps::advice::bind_failed;
use socket_steps::asynchronous::{defaults, run, Event, BACKLOG};
use socket_steps::cli::{run_main, Args, DEFAULT_ADDR};
use socket_steps::step1_create::describe;
use socket_steps::step2_bind::local_addr;
use socket_steps::step3_listen::listening_socket;

const USAGE: &str = "usage: cargo run --bin echo_server_async -- [HOST:PORT] [--max-clients=N] \
                     [--idle-timeout=SECS] [--write-timeout=SECS]";

fn main() {
    run_main(|| {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.iter().any(|arg| arg == "-h" || arg == "--help") {
            println!("{USAGE}");
            println!("  HOST:PORT: where to listen (default {DEFAULT_ADDR}; port 0 lets the OS choose a free port)");
            println!("  --max-clients=N: serve at most N clients at once (default 10000); the next wait in the accept queue");
            println!("  --idle-timeout=SECS: close a client quiet for this long (default 30)");
            println!("  --write-timeout=SECS: close a client that does not take a reply within this (default 10)");
            return Ok(());
        }
        let (config, rest) = defaults().with_options(args)?;
        let addr = Args::parse(rest)?.addr()?;
        let listener = listening_socket(addr, BACKLOG)
            .map_err(|error| bind_failed(addr, env!("CARGO_BIN_NAME"), error))?;
        let bound = local_addr(&listener)?;
        println!(
            "listening on {bound} ({}, backlog {BACKLOG})",
            describe(&listener)
        );
        println!(
            "one thread, one tokio task per client, at most {} at once; a client quiet for {:?} \
             or not reading for {:?} is closed",
            config.max_clients, config.idle_timeout, config.write_timeout
        );
        let reach = socket_steps::narrate::reachable(bound);
        println!(
            "In another terminal run: cargo run --bin echo_client -- {reach}. Stop the server with Ctrl-C."
        );
        flush();
        run(listener, &config, None, Arc::new(log))?;
        Ok(())
    })
}

/// Prints one event (the same lines as `echo_server_threaded`).
fn log(event: Event) {
    // After the first failed accept in a row, we report only every 50th (5 s of retries).
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
