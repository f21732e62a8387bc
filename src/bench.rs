//! Measuring the echo servers: throughput, the Nagle stall, and many clients at once.
//!
//! `cargo run --release --bin bench_echo` starts every server in this process, on `127.0.0.1:0`,
//! drives it with clients over loopback and prints a table (see the "Performance" chapter). Three
//! experiments, each a lesson:
//! - **Throughput** ([`stream_through`]): 100 MB through the seed's own Python server (in a
//!   `python3` process: the row that ours is measured against), then through the seed's server
//!   in Rust, whose `recv(1024)` costs two system calls per KiB when the kernel takes each reply
//!   at once (a `recv` and a `send` with `MSG_DONTWAIT`, as the Python server's `recv` and
//!   `send`); the same code with a 64 KiB and a 256 KiB buffer; and a plain std echo loop as the
//!   ceiling. *System calls per byte* decide.
//! - **Latency of small messages** ([`round_trips`]): a request written in two pieces
//!   (write, write, read) against a server that answers whole lines waits for TCP's delayed ACK
//!   (about 40 ms on Linux) unless the client sets `TCP_NODELAY`. *Nagle's algorithm* at work.
//! - **Many clients** ([`many_clients`]): 1, 10 and 100 clients doing round trips with a short
//!   pause between them, against the serial and the threaded server. *Head-of-line blocking*: the
//!   serial server's latency grows with the number of clients, the threaded one's does not.
//!
//! Every server here runs in a background thread for the rest of the process; the benchmark is a
//! program that exits when it is done, so we never stop them.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use socket2::Socket;

use crate::echo::PREFIX;
use crate::step3_listen::listening_socket;
use crate::step4_accept::accept;
use crate::step5_process::send_parts_within;
use crate::threaded::{self, Config, BACKLOG};

/// Which server a measurement runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// The seed's server, unchanged: [`crate::echo::serve_forever`], `recv(1024)`, one client at
    /// a time.
    Serial,
    /// The seed's protocol and code with a bigger `recv` buffer (bytes), one client at a time.
    SerialWithBuffer(usize),
    /// [`crate::threaded::serve_forever`]: a thread per client.
    Threaded,
    /// The seed's own server, `tests/python/seed_server.py`, run by `python3` in a process of
    /// its own: what `echo_server` is measured against.
    SeedPython,
    /// The ceiling: std's `read` and `write_all` with a 256 KiB buffer, echoing without a prefix.
    PlainStd,
    /// A server that answers each whole line (up to `\n`) at once: how request/response
    /// protocols behave (HTTP waits for the whole header, too).
    Lines,
}

impl Server {
    /// Whether the replies carry the seed's prefix before each received piece.
    pub fn prefixed(self) -> bool {
        matches!(
            self,
            Server::Serial | Server::SerialWithBuffer(_) | Server::Threaded | Server::SeedPython
        )
    }
}

/// The biggest buffer we try, also the ceiling's.
pub const BIG_BUFFER: usize = 256 * 1024;

/// Starts `server` in a background thread on `127.0.0.1:0` and returns its address. Every server
/// gets the same listen backlog ([`BACKLOG`], 128), so that 100 clients connecting at once are
/// all queued: the seed's 5 would add a second or more of SYN retries to the serial rows.
pub fn start(server: Server) -> io::Result<SocketAddr> {
    if server == Server::SeedPython {
        return start_seed_python();
    }
    let any: SocketAddr = "127.0.0.1:0".parse().expect("a valid address");
    if server == Server::PlainStd || server == Server::Lines {
        let listener = TcpListener::bind(any)?;
        let addr = listener.local_addr()?;
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = match server {
                    Server::PlainStd => plain_echo(stream),
                    _ => line_echo(stream),
                };
            }
        });
        return Ok(addr);
    }
    let listener = listening_socket(any, BACKLOG)?;
    let addr = crate::step2_bind::local_addr(&listener)?;
    thread::spawn(move || match server {
        Server::Serial => {
            crate::echo::serve_forever(&listener, None, crate::echo::WRITE_TIMEOUT, |_| {})
        }
        Server::Threaded => threaded::serve_forever(&listener, &Config::default(), None, |_| {}),
        Server::SerialWithBuffer(size) => loop {
            if let Ok((connection, _)) = accept(&listener) {
                let _ = serve_connection_with(&connection, size);
            }
        },
        Server::PlainStd | Server::Lines | Server::SeedPython => unreachable!("handled above"),
    });
    Ok(addr)
}

/// The seed's Python server, as the tutorial wrote it (`tests/python/seed_server.py`).
pub const SEED_SERVER_PY: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/seed_server.py");

/// Starts the seed's Python server on `127.0.0.1:0` with `python3` and returns its address,
/// from the line where it says where it listens. It runs for as long as this process: a thread
/// of its own waits for the end of its standard input, which is a pipe from us, and ends it
/// when the pipe closes, that is when we exit, however we exit.
fn start_seed_python() -> io::Result<SocketAddr> {
    use std::process::{Command, Stdio};
    let watch_stdin = "import os, runpy, sys, threading\n\
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()\n\
        sys.argv = sys.argv[1:]\n\
        runpy.run_path(sys.argv[0], run_name='__main__')\n";
    let mut child = Command::new("python3")
        .args(["-c", watch_stdin, SEED_SERVER_PY, "127.0.0.1", "0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| io::Error::new(error.kind(), format!("python3: {error}")))?;
    let mut lines = BufReader::new(child.stdout.take().expect("a piped stdout")).lines();
    let first = lines.next().transpose()?.unwrap_or_default();
    let addr = first
        .strip_prefix("listening on ")
        .and_then(|addr| addr.parse().ok())
        .ok_or_else(|| io::Error::other(format!("the seed's server said {first:?}")))?;
    // Its stdin (our end of the pipe) and its stdout stay open until we exit: we read its log
    // ("Server connected by ...") so that it never blocks on a full pipe.
    let stdin = child.stdin.take();
    thread::spawn(move || {
        let _keep_open = (stdin, child);
        lines.for_each(drop);
    });
    Ok(addr)
}

// ANCHOR: serve_connection_with
/// The seed's `serve_connection`, tuned: `recv` takes up to `buffer` bytes instead of 1024, into
/// one buffer reused for the whole connection (no allocation, no zero-filling per piece), and the
/// reply goes out as two parts, the prefix and the piece, in one `sendmsg(2)` (a gather write):
/// nothing is copied into a new reply. When the kernel takes the reply at once, each piece costs
/// one `recv(2)` and one `sendmsg(2)`, whatever its size.
pub fn serve_connection_with(connection: &Socket, buffer: usize) -> io::Result<u64> {
    let mut buffer = vec![0; buffer];
    let mut total = 0;
    loop {
        let received = (&*connection).read(&mut buffer)?; // recv(2)
        if received == 0 {
            return Ok(total);
        }
        total += received as u64;
        let reply: [&[u8]; 2] = [PREFIX, &buffer[..received]];
        send_parts_within(connection, &reply, crate::echo::WRITE_TIMEOUT)?;
    }
}
// ANCHOR_END: serve_connection_with

// ANCHOR: plain_echo
/// The ceiling: what std's `Read` and `Write` do with one reused 256 KiB buffer and no prefix,
/// so no allocation and no copy per piece.
fn plain_echo(mut stream: TcpStream) -> io::Result<()> {
    let mut buffer = vec![0; BIG_BUFFER];
    loop {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buffer[..n])?;
    }
}
// ANCHOR_END: plain_echo

/// Answers each line (`\n` included) once it has all of it.
fn line_echo(stream: TcpStream) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        writer.write_all(&line)?;
    }
}

/// Reads an echo and removes the seed's prefixes, counting the payload bytes and the pieces.
/// Our payloads never contain `|`, so a `|` always starts a prefix.
#[derive(Debug, Default)]
pub struct Unprefix {
    /// Payload bytes seen so far (the reply without the prefixes).
    pub payload: u64,
    /// Prefixes seen so far: one per `recv` the server made.
    pub pieces: u64,
    /// Bytes of the current prefix still to skip.
    in_prefix: usize,
    /// If set, every payload byte is checked against [`pattern_byte`] at its offset.
    pub verify: bool,
    /// The first problem found, if any.
    pub error: Option<String>,
}

/// The payload byte at `offset` of every stream we send: `a` to `z`, over and over (never `|`).
pub fn pattern_byte(offset: u64) -> u8 {
    b'a' + (offset % 26) as u8
}

impl Unprefix {
    /// A reader that also checks every payload byte against [`pattern_byte`].
    pub fn verifying() -> Unprefix {
        Unprefix {
            verify: true,
            ..Unprefix::default()
        }
    }

    /// Takes the next bytes of the reply.
    pub fn feed(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            if self.in_prefix > 0 {
                let at = PREFIX.len() - self.in_prefix;
                let take = self.in_prefix.min(rest.len());
                if self.verify && rest[..take] != PREFIX[at..at + take] && self.error.is_none() {
                    self.error = Some(format!("a damaged prefix after {} bytes", self.payload));
                }
                self.in_prefix -= take;
                rest = &rest[take..];
                continue;
            }
            // Up to the next `|`, it is payload.
            let run = rest.iter().position(|&b| b == b'|').unwrap_or(rest.len());
            if self.verify {
                for (i, &byte) in rest[..run].iter().enumerate() {
                    if byte != pattern_byte(self.payload + i as u64) && self.error.is_none() {
                        self.error =
                            Some(format!("wrong byte at offset {}", self.payload + i as u64));
                    }
                }
            }
            self.payload += run as u64;
            rest = &rest[run..];
            if !rest.is_empty() {
                self.pieces += 1;
                self.in_prefix = PREFIX.len();
            }
        }
    }
}

/// What one throughput run measured.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// Payload bytes sent (and received back).
    pub bytes: u64,
    /// From the first write to the last byte of the echo.
    pub elapsed: Duration,
    /// How many pieces (one `recv` each) the server echoed; `None` for the unprefixed ceiling.
    pub pieces: Option<u64>,
}

impl Throughput {
    /// Megabytes (10^6 bytes) per second, one way.
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / self.elapsed.as_secs_f64() / 1e6
    }
}

// ANCHOR: stream_through
/// Streams `bytes` through the echo server at `addr` and reads the whole echo back, writing from
/// one thread and reading from another (writing everything first could fill both directions'
/// buffers and deadlock). Checks that every byte came back; with `verify`, also their values.
pub fn stream_through(
    addr: SocketAddr,
    server: Server,
    bytes: u64,
    verify: bool,
) -> io::Result<Throughput> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut writer = stream.try_clone()?;
    let started = Instant::now();
    let sending = thread::spawn(move || -> io::Result<()> {
        // One block of the a..z pattern, 26 * 10,000 bytes: each write continues the pattern.
        let block: Vec<u8> = (0..26 * 10_000).map(pattern_byte).collect();
        let mut left = bytes;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            writer.write_all(&block[..n])?;
            left -= n as u64;
        }
        writer.shutdown(Shutdown::Write)
    });
    let mut reader = stream;
    let mut buffer = vec![0; BIG_BUFFER];
    let mut echo = Unprefix {
        verify,
        ..Unprefix::default()
    };
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        // We scan every reply for prefixes, the ceiling's too (it has none, so all of it counts
        // as payload): the client then costs the same in every row, and a row that is slower
        // than the ceiling is slower because of its server.
        echo.feed(&buffer[..n]);
    }
    let elapsed = started.elapsed();
    sending
        .join()
        .map_err(|_| io::Error::other("the writer panicked"))??;
    let payload = echo.payload;
    let pieces = server.prefixed().then_some(echo.pieces);
    if let Some(error) = echo.error {
        return Err(io::Error::new(io::ErrorKind::InvalidData, error));
    }
    if payload != bytes {
        let message = format!("sent {bytes} bytes, {payload} came back");
        return Err(io::Error::new(io::ErrorKind::InvalidData, message));
    }
    Ok(Throughput {
        bytes,
        elapsed,
        pieces,
    })
}
// ANCHOR_END: stream_through

/// How a client sends each small request in [`round_trips`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// Two `write`s (a header and a body, say), then read the answer.
    WriteWriteRead,
    /// One `write` with the whole request, then read the answer.
    WriteRead,
}

// ANCHOR: round_trips
/// Makes `count` round trips of a small request (`GET /ping` + ` please\n`, 17 bytes) over one
/// connection and returns each one's time. With `nodelay`, the client sets `TCP_NODELAY`:
/// its kernel sends each write at once instead of holding a small write back while an earlier
/// one is not yet acknowledged (Nagle's algorithm).
pub fn round_trips(
    addr: SocketAddr,
    server: Server,
    pattern: Pattern,
    nodelay: bool,
    count: usize,
) -> io::Result<Vec<Duration>> {
    let (head, tail): (&[u8], &[u8]) = (b"GET /ping", b" please\n");
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(nodelay)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let whole = [head, tail].concat();
    let mut times = Vec::with_capacity(count);
    let mut buffer = [0; 1024];
    for _ in 0..count {
        let started = Instant::now();
        match pattern {
            Pattern::WriteWriteRead => {
                stream.write_all(head)?;
                stream.write_all(tail)?;
            }
            Pattern::WriteRead => stream.write_all(&whole)?,
        }
        read_reply(&mut stream, server, whole.len() as u64, &mut buffer)?;
        times.push(started.elapsed());
    }
    Ok(times)
}
// ANCHOR_END: round_trips

/// Reads until `payload` bytes of echo have come back (prefixes not counted).
fn read_reply(
    stream: &mut TcpStream,
    server: Server,
    payload: u64,
    buffer: &mut [u8],
) -> io::Result<()> {
    let mut echo = Unprefix::default();
    let mut plain = 0;
    while if server.prefixed() {
        echo.payload
    } else {
        plain
    } < payload
    {
        let n = stream.read(buffer)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        echo.feed(&buffer[..n]);
        plain += n as u64;
    }
    Ok(())
}

/// The client workload of [`many_clients`].
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// How many clients, all connected before any starts.
    pub clients: usize,
    /// Round trips each client makes (32-byte messages).
    pub rounds: usize,
    /// The pause between a client's round trips: a person typing, a program doing its work.
    pub think: Duration,
}

/// What [`many_clients`] measured.
#[derive(Debug, Clone)]
pub struct Crowd {
    /// Every round trip of every client.
    pub latencies: Vec<Duration>,
    /// From the start signal until the last client finished.
    pub total: Duration,
}

// ANCHOR: many_clients
/// Connects `workload.clients` clients to `addr`, then starts them together: each sends its first
/// message at its own moment within the first pause (client `i` of `n` after `think * i / n`, as
/// independent clients would, not all in the same microsecond), makes `rounds` round trips of a
/// 32-byte message, pausing `think` between them, and closes. A serial
/// server serves them one after another, so a client's first answer waits for every client
/// before it; a threaded server serves them side by side.
pub fn many_clients(addr: SocketAddr, server: Server, workload: Workload) -> io::Result<Crowd> {
    let start = Arc::new(Barrier::new(workload.clients + 1));
    let mut handles = Vec::new();
    for id in 0..workload.clients {
        // Connect first (the kernel completes the handshake even if the server is busy)...
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let start = Arc::clone(&start);
        handles.push(thread::spawn(move || -> io::Result<Vec<Duration>> {
            let message: Vec<u8> = (0..32).map(|i| pattern_byte(id as u64 + i)).collect();
            let mut buffer = [0; 256];
            let mut times = Vec::with_capacity(workload.rounds);
            // ...then wait for the common start, and arrive at our moment within the first pause:
            // independent clients do not all send at the same instant.
            start.wait();
            thread::sleep(workload.think * id as u32 / workload.clients as u32);
            for round in 0..workload.rounds {
                if round > 0 {
                    thread::sleep(workload.think);
                }
                let started = Instant::now();
                stream.write_all(&message)?;
                read_reply(&mut stream, server, message.len() as u64, &mut buffer)?;
                times.push(started.elapsed());
            }
            Ok(times)
        }));
    }
    start.wait();
    let started = Instant::now();
    let mut latencies = Vec::new();
    for handle in handles {
        let times = handle
            .join()
            .map_err(|_| io::Error::other("a client panicked"))??;
        latencies.extend(times);
    }
    Ok(Crowd {
        latencies,
        total: started.elapsed(),
    })
}
// ANCHOR_END: many_clients

/// The `p`-th percentile (0 to 100) of `samples`, by the nearest-rank method: the smallest sample
/// that at least `p` % of the samples do not exceed. `Duration::ZERO` for no samples.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of some numbers (the lower middle one for an even count).
pub fn median<T: PartialOrd + Copy>(values: &[T]) -> T {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).expect("comparable values"));
    sorted[(sorted.len() - 1) / 2]
}

/// CPUs, CPU model and kernel, as far as we can tell.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|release| format!("Linux {}", release.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_string());
    format!("{cpus} CPUs available, {model}, {kernel}")
}

/// The 1-, 5- and 15-minute load averages (Linux), to show how busy the machine was.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unprefix_counts_pieces_and_payload_across_any_split() {
        let reply = [PREFIX, b"abc", PREFIX, b"defg"].concat();
        for split in 0..reply.len() {
            let mut echo = Unprefix {
                verify: true,
                ..Unprefix::default()
            };
            echo.feed(&reply[..split]);
            echo.feed(&reply[split..]);
            assert_eq!((echo.payload, echo.pieces), (7, 2), "split at {split}");
            assert_eq!(echo.error, None);
        }
        let mut wrong = Unprefix {
            verify: true,
            ..Unprefix::default()
        };
        wrong.feed(&[PREFIX, b"abx"].concat());
        assert!(wrong.error.is_some());
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&ms, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&ms, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&ms, 100.0), Duration::from_millis(100));
        assert_eq!(median(&[3, 1, 2]), 2);
    }
}
