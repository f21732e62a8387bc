//! `bench_echo`: measures the echo servers and prints one table.
//!
//! ```text
//! cargo run --release --bin bench_echo            # about a minute on 2 cores
//! cargo run --release --bin bench_echo -- --quick # a few seconds: one run, smaller sizes
//! ```
//!
//! Every server runs inside this process on `127.0.0.1:0`; clients talk to it over loopback. Each
//! row is measured several times in this same run (5, or once with `--quick`), after one
//! uncounted warm-up, the rows taking turns run after run: throughput and
//! total times are the median of the runs, latency percentiles are over all round trips of all runs.
//! What the rows teach is in the book's "Performance" chapter and in `src/bench.rs`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{bail, Context};
use socket_steps::bench::{
    load_average, machine, many_clients, median, percentile, round_trips, start, stream_through,
    Pattern, Server, Workload, BIG_BUFFER,
};
use socket_steps::cli;
use socket_steps::cli::run_main;
use socket_steps::step5_process::RECV_SIZE;
use socket_steps::wire::{closed, Wire};

/// How much to measure.
struct Plan {
    /// Each row is measured this many times; the table shows medians.
    runs: usize,
    /// Bytes streamed through a server per throughput run.
    stream_bytes: u64,
    /// Round trips per latency run.
    round_trips: usize,
    /// Round trips per client, and the pause between them, in the many-clients rows.
    rounds: usize,
    think: Duration,
    /// Whether to check every echoed byte's value (slower; the quick mode does).
    verify: bool,
}

const FULL: Plan = Plan {
    runs: 5,
    stream_bytes: 100_000_000,
    round_trips: 100,
    rounds: 20,
    think: Duration::from_millis(2),
    verify: false,
};

const QUICK: Plan = Plan {
    runs: 1,
    stream_bytes: 10_000_000,
    round_trips: 20,
    rounds: 3,
    think: Duration::from_millis(1),
    verify: true,
};

/// Measures the echo servers and prints one table (build with --release for real numbers).
///
/// Every server runs inside this process on 127.0.0.1:0. Each row is measured 5 times in this
/// same run, after one uncounted warm-up: about a minute on 2 cores.
#[derive(clap::Parser)]
#[command(verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    /// A few seconds instead of a minute: one run, smaller sizes, every byte checked
    #[arg(long)]
    quick: bool,
    /// Instead of the table, show Nagle's algorithm on the wire: two small writes, the second
    /// held back until the first is acknowledged
    #[command(flatten)]
    wire: cli::WireFlags,
}

fn main() {
    run_main(|| {
        let args: Args = cli::parse()?;
        if args.wire.wire || args.wire.pcap.is_some() {
            return nagle_on_the_wire(&args.wire);
        }
        let plan = if args.quick { &QUICK } else { &FULL };
        print_header(plan);
        throughput(plan)?;
        latency(plan)?;
        crowds(plan)?;
        println!();
        println!("load average at the end: {}", load_average());
        Ok(())
    })
}

// ANCHOR: nagle
/// `--wire`: the small-messages rows of the table, packet by packet. A client writes
/// `GET /ping`, then ` please\n`, and waits for the answer of a server that answers whole lines;
/// three round trips with Nagle's algorithm (the default), then three with `TCP_NODELAY`.
fn nagle_on_the_wire(flags: &cli::WireFlags) -> anyhow::Result<()> {
    println!("Nagle's algorithm on the wire: two small writes, then the answer");
    let mut wire = Wire::start(&flags.options())?;
    let addr = start(Server::Lines)?;
    println!("a server that answers each whole line listens on {addr}");
    wire.watch(&[addr.port()]);
    for nodelay in [false, true] {
        println!();
        let mut stream = TcpStream::connect(addr)?;
        stream.set_nodelay(nodelay)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        match nodelay {
            false => println!("client: connect({addr}), TCP_NODELAY off (the default)"),
            true => println!("client: connect({addr}), then set TCP_NODELAY"),
        }
        wire.show("connect", 3);
        let mut answer = [0; 64];
        for round in 1..=3 {
            stream.write_all(b"GET /ping")?;
            stream.write_all(b" please\n")?;
            let mut got = 0;
            while got < 17 {
                got += match stream.read(&mut answer[got..])? {
                    0 => bail!("the line server closed the connection"),
                    n => n,
                };
            }
            println!("round {round}: write 'GET /ping', write ' please\\n', read the answer");
            // Every packet of the round, with its time after the first.
            wire.show_timed_ms("round");
        }
        drop(stream);
        wire.show_until("close", closed);
    }
    Ok(())
}
// ANCHOR_END: nagle

fn print_header(plan: &Plan) {
    println!(
        "bench_echo{}: each row measured {} in this run",
        if plan.runs == 1 { " --quick" } else { "" },
        socket_steps::narrate::counted(plan.runs as u64, "time")
    );
    println!("machine: {}", machine());
    println!("load average at the start: {}", load_average());
    if cfg!(debug_assertions) {
        println!("note: this is a debug build; use `cargo run --release --bin bench_echo` for real numbers");
    }
}

fn throughput(plan: &Plan) -> anyhow::Result<()> {
    let mb = plan.stream_bytes / 1_000_000;
    println!();
    println!("1. Throughput: {mb} MB streamed through one connection and echoed back (median of the runs)");
    println!();
    println!("| server                                  | recv buffer | MB/s   | recv calls | bytes per recv |");
    println!("|-----------------------------------------|-------------|--------|------------|----------------|");
    let mut rows = vec![
        (
            "the tutorial's Python server",
            Server::SeedPython,
            RECV_SIZE,
        ),
        (
            "echo_server (the tutorial's code)",
            Server::Serial,
            RECV_SIZE,
        ),
        (
            "echo_server code, bigger buffer",
            Server::SerialWithBuffer(64 * 1024),
            64 * 1024,
        ),
        (
            "echo_server code, bigger buffer",
            Server::SerialWithBuffer(BIG_BUFFER),
            BIG_BUFFER,
        ),
        (
            "ceiling: std read/write_all, no prefix",
            Server::PlainStd,
            BIG_BUFFER,
        ),
    ];
    // Start every server and warm it up (a first connection pays for cold caches), then measure
    // the rows in turn, run after run: a moment when the machine is busy then touches every row
    // a little instead of one row a lot.
    let mut addrs = Vec::new();
    let mut missing = None;
    for &(_, server, _) in &rows {
        let addr = match start(server) {
            Ok(addr) => addr,
            // Without python3 we measure the rest, and say why that row is missing.
            Err(error) if server == Server::SeedPython => {
                missing = Some(error);
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        stream_through(addr, server, plan.stream_bytes / 10, plan.verify)?;
        addrs.push(addr);
    }
    if missing.is_some() {
        rows.retain(|&(_, server, _)| server != Server::SeedPython);
    }
    let mut runs = vec![Vec::new(); rows.len()];
    for run in 0..plan.runs {
        progress(&format!("throughput, run {} of {}", run + 1, plan.runs));
        for (i, (name, server, _)) in rows.iter().enumerate() {
            runs[i].push(
                stream_through(addrs[i], *server, plan.stream_bytes, plan.verify)
                    .with_context(|| format!("streaming through {name}"))?,
            );
        }
    }
    let mut speed_of = Vec::new();
    for ((name, server, buffer), runs) in rows.iter().zip(runs) {
        let speeds: Vec<f64> = runs.iter().map(|run| run.mb_per_s()).collect();
        speed_of.push((*server, median(&speeds)));
        let calls: Vec<u64> = runs.iter().filter_map(|run| run.pieces).collect();
        let (calls, per_call) = if calls.is_empty() {
            ("-".to_string(), "-".to_string())
        } else {
            let calls = median(&calls);
            (
                calls.to_string(),
                format!("{:.0}", plan.stream_bytes as f64 / calls as f64),
            )
        };
        println!(
            "| {name:<39} | {:>7} KiB | {:>6.0} | {calls:>10} | {per_call:>14} |",
            buffer / 1024,
            median(&speeds)
        );
    }
    println!();
    let speed = |wanted| speed_of.iter().find(|(server, _)| *server == wanted);
    match (speed(Server::Serial), speed(Server::SeedPython), missing) {
        (Some((_, ours)), Some((_, seeds)), _) => println!(
            "echo_server / the tutorial's Python server: {:.2}x, measured in this run",
            ours / seeds
        ),
        (_, _, Some(error)) => println!("(no row for the tutorial's Python server: {error})"),
        _ => {}
    }
    if let (Some((_, tuned)), Some((_, ceiling))) = (
        speed(Server::SerialWithBuffer(BIG_BUFFER)),
        speed(Server::PlainStd),
    ) {
        println!(
            "echo_server code with a {} KiB buffer / the ceiling: {:.2}x, measured in this run",
            BIG_BUFFER / 1024,
            tuned / ceiling
        );
    }
    Ok(())
}

fn latency(plan: &Plan) -> anyhow::Result<()> {
    println!();
    println!(
        "2. Round trips of a 17-byte request: {} per run, percentiles of all {} (microseconds)",
        plan.round_trips,
        plan.round_trips * plan.runs
    );
    println!();
    println!("| server answers             | client writes          | TCP_NODELAY | p50 µs   | p99 µs   |");
    println!("|----------------------------|------------------------|-------------|----------|----------|");
    let rows = [
        (Server::Lines, Pattern::WriteWriteRead, false),
        (Server::Lines, Pattern::WriteWriteRead, true),
        (Server::Lines, Pattern::WriteRead, false),
        (Server::Lines, Pattern::WriteRead, true),
        (Server::Serial, Pattern::WriteWriteRead, false),
        (Server::Serial, Pattern::WriteWriteRead, true),
    ];
    let mut addrs = Vec::new();
    for (server, pattern, nodelay) in rows {
        let addr = start(server)?;
        round_trips(addr, server, pattern, nodelay, 2)?; // warm-up, not counted
        addrs.push(addr);
    }
    // Interleaved, as for throughput.
    let mut times = vec![Vec::new(); rows.len()];
    for run in 0..plan.runs {
        progress(&format!("round trips, run {} of {}", run + 1, plan.runs));
        for (i, &(server, pattern, nodelay)) in rows.iter().enumerate() {
            times[i].extend(
                round_trips(addrs[i], server, pattern, nodelay, plan.round_trips)
                    .context("round trips")?,
            );
        }
    }
    for ((server, pattern, nodelay), times) in rows.into_iter().zip(times) {
        let answers = match server {
            Server::Lines => "each whole line",
            _ => "each piece (echo_server)",
        };
        let writes = match pattern {
            Pattern::WriteWriteRead => "2 writes, then read",
            Pattern::WriteRead => "1 write, then read",
        };
        println!(
            "| {answers:<26} | {writes:<22} | {:<11} | {:>8} | {:>8} |",
            if nodelay { "set" } else { "no (Nagle)" },
            micros(percentile(&times, 50.0)),
            micros(percentile(&times, 99.0))
        );
    }
    Ok(())
}

fn crowds(plan: &Plan) -> anyhow::Result<()> {
    println!();
    println!(
        "3. Many clients: each connects, makes {} round trips of 32 bytes with {} ms pauses, closes",
        plan.rounds,
        plan.think.as_millis()
    );
    println!(
        "   (latency percentiles of all round trips of all runs; total time: median of the runs)"
    );
    println!();
    println!("| clients | server   | p50 µs   | p99 µs   | max µs   | total ms |");
    println!("|---------|----------|----------|----------|----------|----------|");
    let mut rows = Vec::new();
    for clients in [1, 10, 100] {
        for (name, server) in [("serial", Server::Serial), ("threaded", Server::Threaded)] {
            let addr = start(server)?;
            let warm_up = Workload {
                clients: 1,
                rounds: 2,
                think: Duration::ZERO,
            };
            many_clients(addr, server, warm_up)?; // not counted
            rows.push((clients, name, server, addr));
        }
    }
    // Interleaved, as for throughput.
    let mut results = vec![(Vec::new(), Vec::new()); rows.len()];
    for run in 0..plan.runs {
        progress(&format!("many clients, run {} of {}", run + 1, plan.runs));
        for (i, &(clients, name, server, addr)) in rows.iter().enumerate() {
            let workload = Workload {
                clients,
                rounds: plan.rounds,
                think: plan.think,
            };
            let crowd = many_clients(addr, server, workload)
                .with_context(|| format!("{clients} clients against the {name} server"))?;
            if crowd.latencies.len() != clients * plan.rounds {
                bail!(
                    "{} round trips measured, expected {}",
                    crowd.latencies.len(),
                    clients * plan.rounds
                );
            }
            results[i].0.extend(crowd.latencies);
            results[i].1.push(crowd.total);
        }
    }
    for ((clients, name, _, _), (latencies, totals)) in rows.into_iter().zip(results) {
        println!(
            "| {clients:>7} | {name:<8} | {:>8} | {:>8} | {:>8} | {:>8.0} |",
            micros(percentile(&latencies, 50.0)),
            micros(percentile(&latencies, 99.0)),
            micros(percentile(&latencies, 100.0)),
            median(&totals).as_secs_f64() * 1000.0
        );
    }
    Ok(())
}

fn micros(duration: Duration) -> String {
    format!("{:.0}", duration.as_secs_f64() * 1e6)
}

/// Progress goes to standard error, so that standard output is just the table.
fn progress(what: &str) {
    eprintln!("measuring {what}...");
}
