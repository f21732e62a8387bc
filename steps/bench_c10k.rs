//! `bench_c10k`: ten thousand connections held at once, against the threaded, the event-loop and
//! the async server, side by side in one table.
//!
//! ```text
//! cargo build --release --bins && target/release/bench_c10k            # 1,000 and 10,000
//! target/release/bench_c10k --quick                                      # a few seconds
//! target/release/bench_c10k --connections=2000 --active=50
//! ```
//!
//! Each server runs as a process of its own, started from the binary beside this one; this
//! process is the load client, one tokio thread for all connections (`src/c10k.rs`). Linux only.

use socket_steps::cli::{self, run_main};

/// Holds N connections open at once against each many-clients server, a few of them busy, and
/// prints one table: connections held, latency of the busy ones, the server's memory and CPU.
///
/// The servers are started from the binaries beside this one (cargo build --release --bins).
/// It raises its own soft limit on open files to the hard one (ulimit -Hn).
#[derive(clap::Parser)]
#[command(verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    /// A few seconds: 200 connections, 20 of them busy, a few round trips each
    #[arg(long)]
    quick: bool,
    /// How many connections to hold at once, one row per number and server (e.g. 1000,10000)
    #[arg(long, value_name = "N,...", value_delimiter = ',', value_parser = cli::clients)]
    connections: Vec<usize>,
    /// How many of the connections make round trips while the others stay quiet
    #[arg(long, value_name = "N", value_parser = cli::clients)]
    active: Option<usize>,
    /// Which servers to measure, in this order (default: threaded,events,async)
    #[arg(long, value_name = "NAME,...", value_delimiter = ',', value_parser = ["threaded", "events", "async"])]
    servers: Vec<String>,
}

fn main() {
    run_main(|| {
        let args: Args = cli::parse()?;
        #[cfg(target_os = "linux")]
        return linux::run(args);
        #[cfg(not(target_os = "linux"))]
        {
            let _ = args;
            anyhow::bail!("bench_c10k reads /proc and uses the 127/8 loopback: Linux only");
        }
    })
}

/// Everything but `main`: Linux only.
#[cfg(target_os = "linux")]
mod linux {
    use std::io::{BufRead, BufReader};
    use std::net::SocketAddr;
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::sync::mpsc;
    use std::time::Duration;

    /// The servers, by binary name, and what each is.
    const SERVERS: [(&str, &str); 3] = [
        ("threaded", "echo_server_threaded"),
        ("events", "echo_server_events"),
        ("async", "echo_server_async"),
    ];

    /// Descriptors a process needs besides its connections (standard streams, the listener, epoll,
    /// the runtime's own).
    const SPARE_FILES: usize = 64;

    use anyhow::{bail, Context};
    use socket_steps::bench::{load_average, machine, percentile};

    /// Measures every row and prints the table.
    pub fn run(args: super::Args) -> anyhow::Result<()> {
        let (default_connections, default_active, rounds, think) = if args.quick {
            (vec![200], 20, 5, Duration::from_millis(2))
        } else {
            (vec![1000, 10_000], 100, 50, Duration::from_millis(10))
        };
        let connections = if args.connections.is_empty() {
            default_connections
        } else {
            args.connections
        };
        let active = args.active.unwrap_or(default_active);
        let servers: Vec<(&str, &str)> = SERVERS
            .into_iter()
            .filter(|(name, _)| args.servers.is_empty() || args.servers.iter().any(|s| s == name))
            .collect();
        let most = connections.iter().copied().max().unwrap_or(0);
        check_open_files(most)?;
        println!(
            "bench_c10k: N connections held at once, {active} of them making {rounds} round \
             trips of 32 bytes ({} ms apart), the rest quiet",
            think.as_millis()
        );
        println!("machine: {}", machine());
        println!("load average at the start: {}", load_average());
        if cfg!(debug_assertions) {
            println!("note: a debug build; build with --release for real numbers");
        }
        println!();
        println!("| N      | server   | held   | p50 µs   | p99 µs   | max µs   | peak RSS MB | RSS/conn B | CPU s |");
        println!("|--------|----------|--------|----------|----------|----------|-------------|------------|-------|");
        let mut run = 0;
        for &n in &connections {
            for &(name, binary) in &servers {
                let load = socket_steps::c10k::Load {
                    connections: n,
                    active: active.min(n),
                    rounds,
                    think,
                    run,
                };
                run += 1;
                eprintln!("measuring {n} connections against {binary}...");
                let row = measure(binary, load).with_context(|| format!("{n} against {binary}"))?;
                println!(
                    "| {n:>6} | {name:<8} | {:>6} | {:>8} | {:>8} | {:>8} | {:>11.1} | {:>10} | {:>5.2} |",
                    row.held.held,
                    micros(percentile(&row.held.latencies, 50.0)),
                    micros(percentile(&row.held.latencies, 99.0)),
                    micros(percentile(&row.held.latencies, 100.0)),
                    row.peak_kib as f64 / 1024.0,
                    row.per_connection,
                    row.cpu
                );
                if let Some(error) = &row.held.first_error {
                    println!(
                        "  {name}: {} of {n} opened; first failure: {error}",
                        row.held.opened
                    );
                }
            }
        }
        println!();
        println!("held: answered when connecting and again at the end; p50/p99/max: round trips of the active ones;");
        println!("peak RSS: the server's VmHWM; RSS/conn: (VmHWM - VmRSS before connecting) / N; CPU s: the server's user + system time");
        println!("load average at the end: {}", load_average());
        Ok(())
    }

    /// What one row measured.
    struct Row {
        held: socket_steps::c10k::Held,
        peak_kib: u64,
        per_connection: u64,
        cpu: f64,
    }

    /// Starts `binary`, holds `load` against it, reads its memory and CPU, and stops it.
    fn measure(binary: &str, load: socket_steps::c10k::Load) -> anyhow::Result<Row> {
        use socket_steps::c10k::{cpu_seconds, hold, status_kib};
        let mut server = Server::start(binary, load.connections)?;
        let pid = server.child.id();
        let before_kib = status_kib(pid, "VmRSS").context("reading the server's /proc status")?;
        let cpu_before = cpu_seconds(pid).context("reading the server's /proc stat")?;
        let held = hold(server.addr, load)?;
        let peak_kib = status_kib(pid, "VmHWM").context("reading the server's /proc status")?;
        let cpu = cpu_seconds(pid).context("reading the server's /proc stat")? - cpu_before;
        // Stop the server before our connections close: the closes then happen on its side, and
        // TIME_WAIT stays with its port, not with our source ports.
        server.stop();
        Ok(Row {
            per_connection: peak_kib.saturating_sub(before_kib) * 1024 / load.connections as u64,
            peak_kib,
            cpu,
            held,
        })
    }

    /// A server process, its output read (and dropped) by a thread so that it never blocks on a
    /// full pipe.
    struct Server {
        child: Child,
        addr: SocketAddr,
    }

    impl Server {
        fn start(binary: &str, connections: usize) -> anyhow::Result<Server> {
            let exe = beside_me(binary)?;
            let mut child = Command::new(&exe)
                .args([
                    "127.0.0.1:0",
                    &format!("--max-clients={connections}"),
                    "--idle-timeout=10m",
                    "--quiet",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .spawn()
                .with_context(|| format!("starting {}", exe.display()))?;
            let stdout = child.stdout.take().context("the server's output")?;
            let (lines, told) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let _ = lines.send(line);
                }
            });
            let mut server = Server {
                child,
                addr: "0.0.0.0:0".parse().expect("an address"),
            };
            loop {
                let line = told
                    .recv_timeout(Duration::from_secs(10))
                    .with_context(|| format!("{binary} did not say where it listens"))?;
                if let Some(rest) = line.strip_prefix("listening on ") {
                    let addr = rest.split_whitespace().next().unwrap_or_default();
                    server.addr = addr.parse().with_context(|| format!("{binary}: {line}"))?;
                    return Ok(server);
                }
            }
        }

        fn stop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.stop();
        }
    }

    /// The binary `name` in the folder of this program (`target/release/` or `target/debug/`).
    fn beside_me(name: &str) -> anyhow::Result<PathBuf> {
        let me = std::env::current_exe().context("finding this program")?;
        let exe = me.with_file_name(name);
        if !exe.exists() {
            bail!(
                "{} is not built: run `cargo build --release --bins` (or without --release) first",
                exe.display()
            );
        }
        Ok(exe)
    }

    /// Each connection is an open file in this process and one in the server: make sure both may
    /// have enough, or say what to raise.
    fn check_open_files(connections: usize) -> anyhow::Result<()> {
        let needed = connections + SPARE_FILES;
        let limit = socket_steps::c10k::raise_open_files().context("reading RLIMIT_NOFILE")?;
        if (limit as usize) < needed {
            bail!(
                "{connections} connections need {needed} open files per process, and the hard limit \
                 here is {limit} (ulimit -Hn): ask for fewer (--connections={}), or raise it as \
                 root (ulimit -Hn {needed}; for a service, LimitNOFILE=; for a login, nofile in \
                 /etc/security/limits.conf)",
                (limit as usize).saturating_sub(SPARE_FILES)
            );
        }
        Ok(())
    }

    fn micros(duration: Duration) -> String {
        format!("{:.0}", duration.as_secs_f64() * 1e6)
    }
}
