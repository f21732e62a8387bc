//! `echo_server_threaded`: the seed's echo server, serving many clients at once with one thread
//! per connection.
//!
//! ```text
//! cargo run --bin echo_server_threaded -- [HOST:PORT] [--max-clients=N]
//!                          [--idle-timeout=DURATION] [--write-timeout=DURATION]
//!                          [--evict-after=DURATION] [--quiet]
//! ```
//!
//! Try it with two terminals of `nc -N 127.0.0.1 50007`: both are answered, unlike `echo_server`.

use std::io::Write;

use socket_steps::advice::bind_failed;
use socket_steps::cli::{self, run_main};
use socket_steps::step1_create::describe;
use socket_steps::step2_bind::local_addr;
use socket_steps::step3_listen::listening_socket;
use socket_steps::threaded::{serve_forever, Config, Event, BACKLOG, MAX_CLIENTS};

/// The tutorial's echo server, serving many clients at once with one thread per connection.
///
/// Try it with two terminals of nc -N 127.0.0.1 50007: both are answered, unlike echo_server. Stop it with Ctrl-C.
#[derive(clap::Parser)]
#[command(verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    listen: cli::Listen,
    /// How many clients are served at once; the next ones wait in the accept queue
    #[arg(long, value_name = "N", default_value_t = MAX_CLIENTS, value_parser = cli::clients)]
    max_clients: usize,
    #[command(flatten)]
    timeouts: cli::Timeouts,
    /// When all slots are taken and a new client waits, close the connection quiet for longest,
    /// once it has been quiet this long (e.g. 1s, 500ms)
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = cli::duration::parse_duration)]
    evict_after: std::time::Duration,
    /// Do not log each client: only the cap, evictions and failures to accept or start a thread
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
            evict_after: args.evict_after,
        };
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
            "one thread per client, at most {} at once; a client quiet for {:?} or not reading \
             for {:?} is closed",
            config.max_clients, config.idle_timeout, config.write_timeout
        );
        println!(
            "when all are taken and a new client waits, the one quiet for longest (at least {:?}) \
             is closed to make room",
            config.evict_after
        );
        let quiet = args.quiet;
        if quiet {
            println!("--quiet: logging only the cap, evictions and failures, not each client");
        }
        flush();
        serve_forever(&listener, &config, None, move |event| log(event, quiet));
        Ok(())
    })
}

/// Prints one event: every one, or with `--quiet` only those about the server as a whole (and
/// evictions). Called from many threads: `println!` locks stdout for each line, so lines never
/// mix.
fn log(event: Event, quiet: bool) {
    let about_the_server = matches!(
        event,
        Event::Full(_) | Event::Evicted(..) | Event::AcceptFailed(..) | Event::SpawnFailed(..)
    );
    if quiet && !about_the_server {
        return;
    }
    // After the first failed accept in a row, we report only every 50th (5 s of retries), so
    // that a server out of file descriptors does not flood its log.
    if let Event::AcceptFailed(_, repeats) = &event {
        if !socket_steps::echo::worth_logging(*repeats) {
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
