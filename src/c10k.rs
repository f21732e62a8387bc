//! The C10K benchmark: ten thousand connections held open at once, a hundred of them busy.
//!
//! `cargo run --release --bin bench_c10k` starts each many-clients server (`echo_server_threaded`,
//! `echo_server_events`, `echo_server_async`) as a process of its own and drives it from this
//! one: the load client is itself an event loop (tokio on one thread), not a thread per client,
//! so that ten thousand connections cost the client little and the server is what we measure.
//! For each server and each number of connections N, [`hold`]:
//! 1. opens N connections, each answered once (so we know the server really holds it), a few
//!    hundred handshakes at a time so that no accept queue overflows;
//! 2. lets `active` of them make round trips of 32 bytes with a pause between them, while the
//!    rest stay connected and quiet: the latency of the busy few, with the crowd held;
//! 3. asks every connection for one more echo: every one must still be held, and answered.
//!
//! Meanwhile the caller reads what the kernel counts for the server process: its peak resident
//! memory (`VmHWM` in `/proc/PID/status`) and its CPU time (`/proc/PID/stat`).
//!
//! Two limits of the machine come first. **Open files**: each connection is a descriptor in the
//! client and one in the server, so [`raise_open_files`] raises this process's soft limit
//! (`RLIMIT_NOFILE`, what `ulimit -n` shows) to its hard limit, which needs no privilege; the
//! servers inherit it. **Ports**: a client's connection takes a local port, about 28,000 of them
//! (`net.ipv4.ip_local_port_range`), and a closed connection keeps its port in TIME_WAIT for
//! 60 s. So we spread the clients over several source addresses ([`source_address`]): every
//! `127.x.y.z` is this machine, and each has its own ports. A client binds its address (port 0)
//! before it connects, which is how a program chooses its source address.
//! Linux only: `/proc`, and the 127/8 loopback.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::timeout;

use crate::bench::{pattern_byte, Unprefix};

/// How many connections share one source address.
pub const PER_SOURCE: usize = 1000;

/// How many handshakes (and first echoes) are in flight at once while the crowd connects: below
/// the threaded server's listen backlog of 128, so that none is dropped and retried a second
/// later.
pub const CONNECTING_AT_ONCE: usize = 100;

/// How long any one step of one connection may take (a connect, an echo).
pub const STEP_LIMIT: Duration = Duration::from_secs(20);

/// What one run asks of a server.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Connections held open at once.
    pub connections: usize,
    /// How many of them make round trips (the first ones); the others stay quiet.
    pub active: usize,
    /// Round trips each active connection makes, and the pause between two of them.
    pub rounds: usize,
    /// The pause between two round trips of one active connection.
    pub think: Duration,
    /// Which run this is: each run takes its own source addresses, so that no run meets the
    /// ports that an earlier one left in TIME_WAIT.
    pub run: usize,
}

/// What [`hold`] measured.
#[derive(Debug, Clone)]
pub struct Held {
    /// Connections opened and answered once.
    pub opened: usize,
    /// Connections that answered again at the end: held all along.
    pub held: usize,
    /// Every round trip of the active connections.
    pub latencies: Vec<Duration>,
    /// Why the first connection that failed did (`None`: none failed).
    pub first_error: Option<String>,
}

/// The source address of connection `i` of run `run`: `127.R.H.L`, with [`PER_SOURCE`]
/// connections per address. Each run has its own second byte (1, 2, 3...), so runs never share
/// an address.
pub fn source_address(run: usize, i: usize) -> Ipv4Addr {
    let address = i / PER_SOURCE + 1;
    Ipv4Addr::new(
        127,
        (run % 254 + 1) as u8,
        (address / 256) as u8,
        (address % 256) as u8,
    )
}

// ANCHOR: hold
/// Drives the server at `addr` with `load` from a tokio runtime on this one thread (see the
/// module's documentation for the three phases).
pub fn hold(addr: SocketAddr, load: Load) -> io::Result<Held> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        // 1. The crowd connects, a hundred at a time, and each is answered once.
        let gate = Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
        let mut connecting = Vec::with_capacity(load.connections);
        for i in 0..load.connections {
            let gate = Arc::clone(&gate);
            connecting.push(tokio::spawn(async move {
                let _turn = gate.acquire().await;
                let mut stream = connect_from(source_address(load.run, i), addr).await?;
                round_trip(&mut stream).await?;
                Ok::<_, io::Error>(stream)
            }));
        }
        let mut first_error = None;
        let mut streams = Vec::with_capacity(load.connections);
        for task in connecting {
            match task.await.map_err(io::Error::other).and_then(|done| done) {
                Ok(stream) => streams.push(stream),
                Err(error) => {
                    first_error.get_or_insert(format!("connecting: {error}"));
                }
            }
        }
        let opened = streams.len();
        // 2. The active few make round trips while the rest stay quiet.
        let mut quiet = streams.split_off(load.active.min(streams.len()));
        let mut busy = Vec::new();
        for (i, mut stream) in streams.into_iter().enumerate() {
            busy.push(tokio::spawn(async move {
                // Independent clients do not all send in the same microsecond.
                tokio::time::sleep(load.think * i as u32 / load.active.max(1) as u32).await;
                let mut times = Vec::with_capacity(load.rounds);
                for round in 0..load.rounds {
                    if round > 0 {
                        tokio::time::sleep(load.think).await;
                    }
                    let started = Instant::now();
                    round_trip(&mut stream).await?;
                    times.push(started.elapsed());
                }
                Ok::<_, io::Error>((stream, times))
            }));
        }
        let mut latencies = Vec::new();
        let mut streams = Vec::new();
        for task in busy {
            match task.await.map_err(io::Error::other).and_then(|done| done) {
                Ok((stream, times)) => {
                    latencies.extend(times);
                    streams.push(stream);
                }
                Err(error) => {
                    first_error.get_or_insert(format!("an active client: {error}"));
                }
            }
        }
        streams.append(&mut quiet);
        // 3. Every connection once more: still held, still answered.
        let checks: Vec<_> = streams
            .into_iter()
            .map(|mut stream| tokio::spawn(async move { round_trip(&mut stream).await }))
            .collect();
        let mut held = 0;
        for task in checks {
            match task.await.map_err(io::Error::other).and_then(|done| done) {
                Ok(()) => held += 1,
                Err(error) => {
                    first_error.get_or_insert(format!("at the end: {error}"));
                }
            }
        }
        Ok(Held {
            opened,
            held,
            latencies,
            first_error,
        })
    })
}
// ANCHOR_END: hold

/// Connects to `server` from `source`: `socket(2)`, `bind(2)` to the source address with port 0
/// (the kernel picks a free port of that address), then `connect(2)`.
async fn connect_from(source: Ipv4Addr, server: SocketAddr) -> io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))?;
    within(socket.connect(server)).await
}

/// Sends a 32-byte message and reads until its echo (the seed's prefix, then the message, in as
/// many pieces as the server made) is back, every byte checked.
async fn round_trip(stream: &mut TcpStream) -> io::Result<()> {
    let message: Vec<u8> = (0..32).map(pattern_byte).collect();
    within(stream.write_all(&message)).await?;
    let mut echo = Unprefix::verifying();
    let mut buffer = [0; 256];
    while echo.payload < message.len() as u64 {
        match within(stream.read(&mut buffer)).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => echo.feed(&buffer[..n]),
        }
    }
    match echo.error {
        Some(error) => Err(io::Error::new(io::ErrorKind::InvalidData, error)),
        None => Ok(()),
    }
}

/// Runs one step of a connection, giving up after [`STEP_LIMIT`].
async fn within<T>(step: impl std::future::Future<Output = io::Result<T>>) -> io::Result<T> {
    match timeout(STEP_LIMIT, step).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no progress for {STEP_LIMIT:?}"),
        )),
    }
}

/// Raises this process's soft limit on open files (`RLIMIT_NOFILE`) to its hard limit, and
/// returns the limit now in force. Raising the soft limit up to the hard one needs no privilege;
/// the hard limit itself only root can raise. Child processes inherit the result.
pub fn raise_open_files() -> io::Result<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        setrlimit(Resource::Nofile, limit)?;
    }
    // `None` means unlimited.
    Ok(limit.current.unwrap_or(u64::MAX))
}

/// A line of `/proc/PID/status` in KiB: `VmHWM` (the peak resident memory) or `VmRSS` (now).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// The CPU time a process has used so far, user + system (fields 14 and 15 of
/// `/proc/PID/stat`, in clock ticks).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: count from the ')'.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / rustix::param::clock_ticks_per_second() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_run_has_its_own_source_addresses() {
        assert_eq!(source_address(0, 0), Ipv4Addr::new(127, 1, 0, 1));
        assert_eq!(source_address(0, 999), Ipv4Addr::new(127, 1, 0, 1));
        assert_eq!(source_address(0, 1000), Ipv4Addr::new(127, 1, 0, 2));
        assert_eq!(source_address(2, 9999), Ipv4Addr::new(127, 3, 0, 10));
    }

    #[test]
    fn this_process_reads_its_own_memory_and_cpu() {
        let me = std::process::id();
        assert!(status_kib(me, "VmHWM").unwrap() >= status_kib(me, "VmRSS").unwrap() / 2);
        assert!(cpu_seconds(me).unwrap() >= 0.0);
    }
}
