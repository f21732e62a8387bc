//! `echo_server_async`: the seed's echo server on tokio: one thread, one task per client.
//!
//! ```text
//! cargo run --bin echo_server_async -- [HOST:PORT] [--max-clients=N]
//!                       [--idle-timeout=DURATION] [--write-timeout=DURATION] [--quiet]
//! ```
//!
//! Try it with two terminals of `nc -N 127.0.0.1 50007`: both are answered, by one thread.

use std::io::Write;
use std::sync::Arc;

use socket_steps::advice::bind_failed;
use socket_steps::asynchronous::{run, Config, Event, BACKLOG, MAX_CLIENTS};
use socket_steps::cli::{self, run_main};
use socket_steps::step1_create::describe;
use socket_steps::step2_bind::local_addr;
use socket_steps::step3_listen::listening_socket;

/// The tutorial's echo server on tokio: one thread, one task per client.
///
/// Try it with two terminals of nc -N 127.0.0.1 50007: both are answered, by one thread. Stop it with Ctrl-C.
#[derive(clap::Parser)]
#[command(verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    listen: cli::Listen,
    /// Serve at most N clients at once; more wait in the accept queue
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
            // Tasks are cheap: this server has no slowloris policy, so `evict_after` is unused.
            ..Config::default()
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
        println!(
            "one thread, one tokio task per client, at most {} at once; a client quiet for {:?} \
             or not reading for {:?} is closed",
            config.max_clients, config.idle_timeout, config.write_timeout
        );
        if quiet {
            println!("--quiet: logging only the cap and accept failures, not each client");
        }
        let reach = socket_steps::narrate::reachable(bound);
        println!(
            "In another terminal run: cargo run --bin echo_client -- {reach}. Stop the server with Ctrl-C."
        );
        flush();
        run(
            listener,
            &config,
            None,
            Arc::new(move |event| log(event, quiet)),
        )?;
        Ok(())
    })
}

/// Prints one event (the lines of `echo_server_threaded`): every one, or with `--quiet` only
/// those about the server as a whole.
fn log(event: Event, quiet: bool) {
    let about_the_server = matches!(event, Event::Full(_) | Event::AcceptFailed(..));
    if quiet && !about_the_server {
        return;
    }
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
