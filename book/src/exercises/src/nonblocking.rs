//! Non-blocking sockets: calls that answer "not now" instead of waiting.
//!
//! Every call of the seed's server waits: `accept` until a client comes, `recv` until bytes
//! arrive, `send` until there is room, `connect` until the handshake is done. A server that waits
//! for one client cannot serve another (the Many clients chapter). Switch a socket to
//! *non-blocking* mode ([`set_nonblocking`], `fcntl(F_SETFL, O_NONBLOCK)`) and each of those calls
//! returns at once: with its result if it has one, otherwise with the error `EAGAIN` (also called
//! `EWOULDBLOCK`), which Rust reports as [`io::ErrorKind::WouldBlock`]. Nothing went wrong: it
//! means "nothing to do yet, ask again later".
//!
//! - [`try_accept`]: `WouldBlock` while the accept queue is empty.
//! - [`try_recv`]: `WouldBlock` while nothing is in the receive buffer (0 bytes still means end
//!   of file: that is not the same thing).
//! - [`try_send`]: takes what fits in the send buffer; `WouldBlock` when it is full.
//! - [`start_connect`]: `connect(2)` sends the SYN and returns `EINPROGRESS` before the handshake
//!   is done; std has no stable `ErrorKind` for it, so we compare the raw error number
//!   ([`is_in_progress`]). When the socket becomes writable the handshake is over, and
//!   `SO_ERROR` ([`finish_connect`], socket2's `take_error`) says whether it worked.
//!
//! "Ask again later" raises the question *when*. Asking again at once, in a loop, works and burns
//! a whole CPU doing nothing ([`spin_on_recv`] measures it); the answer is to let the kernel wait
//! for us, for many sockets at once: `poll(2)` and `epoll(7)`, in [`crate::readiness`].
//!
//! std spelling: `TcpStream::set_nonblocking(true)` and `TcpListener::set_nonblocking(true)`; the
//! calls then fail with `ErrorKind::WouldBlock`:
//!
//! ```no_run
//! use std::io::{ErrorKind, Read};
//! # fn main() -> std::io::Result<()> {
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! listener.set_nonblocking(true)?; // fcntl(F_SETFL, O_NONBLOCK)
//! match listener.accept() {
//!     Ok((mut stream, _)) => { let _ = stream.read(&mut [0; 1024])?; }
//!     Err(error) if error.kind() == ErrorKind::WouldBlock => println!("nobody yet"),
//!     Err(error) => return Err(error),
//! }
//! # Ok(()) }
//! ```

use std::io::{self, Read};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use socket2::{SockAddr, Socket};

use crate::step1_create::create_tcp_socket;
use crate::step4_accept::accept;

// ANCHOR: set_nonblocking
/// Switches `socket` to non-blocking mode (`true`) or back (`false`).
///
/// On Unix these are two `fcntl(2)` calls, through socket2's `set_nonblocking`: `F_GETFL` reads
/// the descriptor's flags, `F_SETFL` writes them back with `O_NONBLOCK` added (or removed). On
/// Windows it is one `ioctlsocket(FIONBIO)`.
pub fn set_nonblocking(socket: &Socket, on: bool) -> io::Result<()> {
    socket.set_nonblocking(on)
}
// ANCHOR_END: set_nonblocking

/// `Ok(None)` for "would block", so that callers can `match` on three outcomes: a result, not
/// yet, a real error.
fn not_yet<T>(result: io::Result<T>) -> io::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(error) => Err(error),
    }
}

// ANCHOR: try_calls
/// `accept(2)` on a non-blocking listener: `Ok(None)` if no client is waiting in the queue.
pub fn try_accept(listener: &Socket) -> io::Result<Option<(Socket, SocketAddr)>> {
    not_yet(accept(listener))
}

/// `recv(2)` on a non-blocking socket: `Ok(None)` if nothing has arrived; `Ok(Some(empty))` is
/// still end of file.
pub fn try_recv(socket: &Socket, max: usize) -> io::Result<Option<Vec<u8>>> {
    todo!(
        "16.1: receive without waiting: bytes, not yet, or end of file — \
         read nonblocking.md; stuck? cargo classroom hint 16.1"
    )
}

/// `send(2)` on a non-blocking socket: how many bytes the send buffer took (maybe fewer than
/// `data.len()`), or `Ok(None)` if it is full.
pub fn try_send(socket: &Socket, data: &[u8]) -> io::Result<Option<usize>> {
    not_yet(socket.send(data))
}
// ANCHOR_END: try_calls

// ANCHOR: connect
/// The error number of "the operation is now in progress": `EINPROGRESS` from a non-blocking
/// `connect` (on Windows, `WSAEWOULDBLOCK`). `std::io::ErrorKind` has no stable variant for it,
/// so we compare numbers; [`rustix`] gives us the right one for each Unix.
#[cfg(unix)]
pub fn in_progress_code() -> i32 {
    rustix::io::Errno::INPROGRESS.raw_os_error()
}

/// On Windows, Winsock's non-blocking connect fails with `WSAEWOULDBLOCK` (10035) instead.
#[cfg(windows)]
pub fn in_progress_code() -> i32 {
    10035
}

/// Whether `error` is `EINPROGRESS`: a non-blocking `connect` has started and not finished.
pub fn is_in_progress(error: &io::Error) -> bool {
    error.raw_os_error() == Some(in_progress_code())
}

/// How a non-blocking `connect(2)` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connecting {
    /// Connected at once (possible, rarely, on loopback).
    Done,
    /// `EINPROGRESS`: the SYN is out; the socket becomes writable when the handshake is over.
    InProgress,
}

/// Creates a non-blocking TCP socket and starts connecting it to `addr`, without waiting for
/// the handshake. A refusal or a timeout is reported later, by [`finish_connect`].
///
/// This is `socket(2)`, `fcntl(O_NONBLOCK)`, then `connect(2)`, which returns `EINPROGRESS`.
pub fn start_connect(addr: SocketAddr) -> io::Result<(Socket, Connecting)> {
    let socket = create_tcp_socket(addr)?;
    set_nonblocking(&socket, true)?;
    match socket.connect(&SockAddr::from(addr)) {
        Ok(()) => Ok((socket, Connecting::Done)),
        Err(error) if is_in_progress(&error) => Ok((socket, Connecting::InProgress)),
        Err(error) => Err(error),
    }
}

/// Waits (at most `timeout`) until a connect started by [`start_connect`] is over, then asks
/// how it went: `getsockopt(SO_ERROR)` (socket2's `take_error`), the error the handshake ended
/// with, if any (e.g. `ECONNREFUSED`).
///
/// This is `poll(2)` for `POLLOUT`, then `getsockopt(SO_ERROR)`. Unix only (our `poll`).
#[cfg(unix)]
pub fn finish_connect(socket: &Socket, timeout: Duration) -> io::Result<()> {
    use crate::readiness::{poll_one, Interest};
    let ready = poll_one(socket, Interest::Write, Some(timeout))?;
    if ready == crate::readiness::Ready::default() {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the handshake did not finish in time",
        ));
    }
    todo!(
        "16.2: learn how a non-blocking connect ended, from SO_ERROR — \
         read nonblocking.md; stuck? cargo classroom hint 16.2"
    )
}
// ANCHOR_END: connect

// ANCHOR: predict
/// What a non-blocking `connect` to a port where nobody listens does, on loopback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedConnect {
    /// `connect` itself fails with `ECONNREFUSED`.
    FailsAtOnce,
    /// `connect` says `EINPROGRESS`; then the socket is writable and `SO_ERROR` holds
    /// `ECONNREFUSED`.
    InProgressThenRefused,
    /// It connects anyway.
    Succeeds,
}

/// Your prediction (exercise 16.3): on loopback, where the kernel answers the SYN with a reset
/// at once, what does a non-blocking `connect` to a closed port do?
pub fn predict_refused_connect() -> RefusedConnect {
    todo!(
        "16.3: predict what a non-blocking connect to a closed port does — \
         read nonblocking.md; stuck? cargo classroom hint 16.3"
    )
}
// ANCHOR_END: predict

// ---- Why not retry at once? -------------------------------------------------------------------

/// What waiting cost: how long, how many calls, and how much CPU time (`None` where we cannot
/// read it: off Linux).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitCost {
    /// Wall-clock time spent waiting.
    pub waited: Duration,
    /// System calls made while waiting.
    pub calls: u64,
    /// What the waiting thread did with the CPU meanwhile.
    pub cpu: Option<CpuTime>,
}

/// A thread's CPU time: how long it ran, and how long it was ready to run but waited for a
/// core because other programs had them (on a busy machine a spinning thread gets only its
/// share, and spends all of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTime {
    /// Time on a CPU, user plus system.
    pub running: Duration,
    /// Time runnable but waiting for a CPU (`None` if the kernel does not tell: no schedstat).
    pub runnable: Option<Duration>,
}

impl CpuTime {
    fn since(self, before: CpuTime) -> CpuTime {
        CpuTime {
            running: self.running.saturating_sub(before.running),
            runnable: self
                .runnable
                .zip(before.runnable)
                .map(|(after, before)| after.saturating_sub(before)),
        }
    }
}

impl WaitCost {
    /// How much of the time waited the thread wanted a core (ran, or waited to run), in percent:
    /// about 100 for a spinning loop whatever the machine's load, about 0 for a sleeping one.
    pub fn percent_wanting_a_core(&self) -> Option<f64> {
        let cpu = self.cpu?;
        let wanted = cpu.running + cpu.runnable.unwrap_or_default();
        Some(100.0 * wanted.as_secs_f64() / self.waited.as_secs_f64().max(1e-9))
    }
}

/// The CPU time of the calling thread so far. Linux only (`None` elsewhere):
/// `/proc/thread-self/schedstat` gives nanoseconds on a CPU and nanoseconds runnable but waiting
/// for one; without it (a kernel built without scheduler statistics) we fall back to the whole
/// process's user + system time from `/proc/self/stat` (fields 14 and 15, in clock ticks).
pub fn cpu_time() -> Option<CpuTime> {
    #[cfg(target_os = "linux")]
    {
        if let Ok(text) = std::fs::read_to_string("/proc/thread-self/schedstat") {
            let mut numbers = text.split_whitespace().map(|n| n.parse::<u64>().ok());
            if let (Some(Some(running)), Some(Some(runnable))) = (numbers.next(), numbers.next()) {
                return Some(CpuTime {
                    running: Duration::from_nanos(running),
                    runnable: Some(Duration::from_nanos(runnable)),
                });
            }
        }
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name (field 2) is in parentheses and may contain spaces: count from the ')'.
        let after_name = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // After the name, field 3 (state) is at index 0: utime (14) is at 11, stime (15) at 12.
        let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        let per_second = rustix::param::clock_ticks_per_second();
        Some(CpuTime {
            running: Duration::from_secs_f64(ticks as f64 / per_second as f64),
            runnable: None,
        })
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Measures `wait` (which returns how many calls it made) over its run.
fn measure(wait: impl FnOnce() -> io::Result<u64>) -> io::Result<WaitCost> {
    let (cpu_before, started) = (cpu_time(), Instant::now());
    let calls = wait()?;
    let waited = started.elapsed();
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after.since(before));
    Ok(WaitCost { waited, calls, cpu })
}

// ANCHOR: spin
/// The wrong way to wait: call `recv` on a non-blocking socket again and again, at once, for
/// `interval` (or until data comes). Every call is a system call that answers `WouldBlock`; the
/// CPU is busy the whole time.
pub fn spin_on_recv(socket: &Socket, interval: Duration) -> io::Result<WaitCost> {
    measure(|| {
        let deadline = Instant::now() + interval;
        let mut calls = 0;
        while Instant::now() < deadline {
            calls += 1;
            if try_recv(socket, 1024)?.is_some() {
                break;
            }
        }
        Ok(calls)
    })
}

/// The right way: one `poll(2)` that sleeps in the kernel until the socket is readable or
/// `interval` has passed. Unix only (our `poll`).
#[cfg(unix)]
pub fn poll_for_recv(socket: &Socket, interval: Duration) -> io::Result<WaitCost> {
    use crate::readiness::{poll_one, Interest};
    measure(|| {
        poll_one(socket, Interest::Read, Some(interval))?;
        Ok(1)
    })
}
// ANCHOR_END: spin
