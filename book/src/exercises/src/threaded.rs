//! Many clients at once: the seed's echo server with one thread per connection.
//!
//! The seed's server ([`crate::echo::serve_forever`]) serves one client at a time. While it waits
//! in `recv` for a client that is connected but quiet, every other client waits too, even though
//! the kernel has already completed their handshakes: one idle client blocks everyone
//! (*head-of-line blocking*). Here the accept loop hands each connection to its own thread and goes
//! straight back to `accept`, so a slow client only slows itself. The protocol is the seed's,
//! byte for byte: each thread runs the seed's loop ([`serve_connection`]: `recv(1024)`, then
//! the reply from [`crate::echo::reply_to`]), with a deadline on each reply.
//!
//! A thread per connection is simple, and for a few hundred clients it is fast. It costs one
//! kernel task and one stack per client, so a server needs two limits that the serial one did not:
//! - a cap on concurrent connections ([`Config::max_clients`]): at the cap the accept loop stops
//!   accepting, and new clients wait in the kernel's accept queue until a thread is free (and
//!   beyond the backlog their SYNs are dropped and retried, as in the listen chapter);
//! - timeouts ([`Config::idle_timeout`], [`Config::write_timeout`]), so that a client that goes
//!   quiet, or sends without ever reading, gives its thread back instead of holding it forever.
//!
//! What a production server does instead: an event loop (`epoll` on Linux, `kqueue` on BSD and
//! macOS, IOCP on Windows) or an async runtime such as tokio, where a connection is a small task
//! of a few hundred bytes rather than a thread with its own stack, and thousands of idle clients
//! cost almost nothing. The code looks much like this file (`loop { let (socket, _) =
//! listener.accept().await?; tokio::spawn(async move { ... }); }`), but the waiting happens in the
//! runtime, not in blocked threads. The limits stay: tokio's teaching server, mini-redis, stops
//! accepting at `MAX_CONNECTIONS` (250) with a semaphore, exactly as [`serve_forever`] does with
//! [`Config::max_clients`], and timeouts become `tokio::time::timeout` around a read:
//! [`crate::asynchronous`] is this server on tokio.
//!
//! A cap alone has a hole, *slowloris*: clients that send one byte every few seconds are never
//! idle for the idle timeout (each byte restarts it), so a cap's worth of them holds every slot
//! and a normal client waits for as long as they like. The echo protocol has no request boundary,
//! so such a client is also a legitimate slow one (a person typing into `nc`): we cannot tell
//! them apart. Our policy therefore only acts when it must: when every slot is taken and a new
//! client is waiting, the connection that has been quiet the longest ([`Config::evict_after`] at
//! least) is closed to make room ([`Event::Evicted`]). A trickler keeps its slot while there is
//! room, and loses it to a newcomer when there is not. The event loop and async servers need no
//! such policy: a connection costs them a few hundred bytes, so their cap is 10,000, not 128.
//!
//! One subtlety of the write timeout: `SO_SNDTIMEO` bounds each `send(2)` call, not a whole
//! reply, and a client that reads a few bytes now and then restarts it on every call. So each
//! reply gets a deadline ([`send_all_within`](crate::step5_process::send_all_within)), in both
//! servers.

use std::collections::HashMap;
use std::io;
use std::net::Shutdown;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use socket2::Socket;

use crate::echo::{reply_to, serve_connection};
use crate::step4_accept::accept;
use crate::step5_process::{recv_retrying, send_all_within, RECV_SIZE};

// ANCHOR: limits
/// How many clients we serve at once, by default. Above it, new clients wait in the accept queue.
pub const MAX_CLIENTS: usize = 128;

/// Our listen backlog: as many waiting connections as we serve at once (std's `TcpListener` uses
/// 128 too). The seed's 5 would make a burst of clients lose their SYNs and retry a second later.
pub const BACKLOG: i32 = 128;

/// How long a client may stay quiet (no bytes to `recv`) before we close its connection.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client that does not read may keep one reply waiting.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// When every slot is taken and a new client waits, the connection quiet for longest is closed
/// to make room, if it has been quiet for at least this long: a client in the middle of a
/// conversation is not cut off for a newcomer.
pub const EVICT_AFTER: Duration = Duration::from_secs(1);

/// Each connection thread's stack. Echoing needs little (the buffers live on the heap); Rust's
/// default for spawned threads is 2 MiB of address space, reserved per client.
pub const STACK_SIZE: usize = 256 * 1024;
// ANCHOR_END: limits

/// The threaded server's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// At most this many connections are served at once.
    pub max_clients: usize,
    /// A connection with nothing to read for this long is closed (`SO_RCVTIMEO`).
    pub idle_timeout: Duration,
    /// A reply that the client has not taken after this long is abandoned and the connection
    /// closed (a deadline per reply, enforced with `SO_SNDTIMEO`).
    pub write_timeout: Duration,
    /// When all `max_clients` slots are taken and a new client waits, the connection quiet for
    /// longest is closed to make room, once it has been quiet this long (the slowloris policy).
    /// The async server shares this `Config` and ignores this field: it needs no such policy.
    pub evict_after: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_clients: MAX_CLIENTS,
            idle_timeout: IDLE_TIMEOUT,
            write_timeout: WRITE_TIMEOUT,
            evict_after: EVICT_AFTER,
        }
    }
}

/// What happened, for the server's log. Connection threads report too, so `log` must be shareable
/// between threads (`Fn + Send + Sync`).
#[derive(Debug)]
pub enum Event {
    /// `accept` returned a client; `active` connections are now being served (this one included).
    Connected(SocketAddr, usize),
    /// The client closed its side; we echoed this many bytes and closed ours.
    Finished(SocketAddr, u64),
    /// The client was quiet for longer than the idle timeout, or did not read its replies for
    /// longer than the write timeout; we closed the connection.
    TimedOut(SocketAddr),
    /// The connection failed (e.g. the client reset it). Other clients are not affected.
    Failed(SocketAddr, io::Error),
    /// All `max_clients` threads are busy and a new client has come: it waits (accepted, not yet
    /// served, and the clients after it in the accept queue) until a slot is free.
    Full(usize),
    /// At the cap, with a new client waiting: we closed this connection, quiet for this long,
    /// the longest of all, to give its slot to the newcomer.
    Evicted(SocketAddr, Duration),
    /// `accept` failed (e.g. `EMFILE`, too many open files). We wait a moment and try again.
    /// `repeats` counts the failures in a row, so that a log can stay quiet after the first.
    AcceptFailed(io::Error, u64),
    /// The operating system would not start a thread; we closed that connection.
    SpawnFailed(SocketAddr, io::Error),
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::Connected(peer, active) => {
                write!(f, "connected by {peer} ({active} being served)")
            }
            Event::Finished(peer, bytes) => {
                write!(
                    f,
                    "{peer} closed its side after {}: closing ours",
                    crate::narrate::counted(*bytes, "byte")
                )
            }
            Event::TimedOut(peer) => write!(f, "{peer} timed out (quiet, or not reading): closing"),
            Event::Failed(peer, error) => write!(f, "{peer} failed: {error}: closing"),
            Event::Full(max) => write!(
                f,
                "at the cap: {} being served; new clients wait in the accept queue",
                crate::narrate::counted(*max as u64, "client")
            ),
            Event::Evicted(peer, quiet) => write!(
                f,
                "{peer} evicted: quiet for {:.1}s, the longest, and a new client is waiting",
                quiet.as_secs_f64()
            ),
            Event::AcceptFailed(error, repeats) => {
                write!(
                    f,
                    "accept failed: {error} (failure {repeats} in a row); retrying"
                )
            }
            Event::SpawnFailed(peer, error) => {
                write!(f, "cannot start a thread for {peer}: {error}: closing it")
            }
        }
    }
}

// ANCHOR: slots
/// One connection being served, shared by its thread and the accept loop.
struct Client {
    socket: Socket,
    peer: SocketAddr,
    /// When its last piece arrived (or when it was accepted).
    heard: Mutex<Instant>,
    /// Set by the accept loop when it closes this connection to make room.
    evicted: AtomicBool,
}

/// The connections being served, and a condition variable that the accept loop waits on for a
/// free slot.
struct Slots {
    clients: Mutex<HashMap<u64, Arc<Client>>>,
    freed: Condvar,
}

impl Slots {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Client>>> {
        self.clients
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Takes a slot for `client`, returning how many are served now (this one included). While
    /// all `config.max_clients` are taken, it closes the connection that has been quiet the
    /// longest, once that one has been quiet for `config.evict_after`, and waits for its
    /// thread to give the slot back.
    fn take(&self, id: u64, client: Arc<Client>, config: &Config, log: &dyn Fn(Event)) -> usize {
        let mut clients = self.lock();
        if clients.len() >= config.max_clients {
            log(Event::Full(config.max_clients));
        }
        while clients.len() >= config.max_clients {
            let quietest = clients
                .values()
                .filter(|other| !other.evicted.load(Ordering::Relaxed))
                .map(|other| (other.quiet_for(), other))
                .max_by_key(|(quiet, _)| *quiet);
            let wait = match quietest {
                Some((quiet, other)) if quiet >= config.evict_after => {
                    other.evicted.store(true, Ordering::Relaxed);
                    // shutdown(2) wakes its thread's `recv`, which returns 0 (end of stream):
                    // the thread ends and gives its slot back. The client sees our FIN.
                    let _ = other.socket.shutdown(Shutdown::Both);
                    log(Event::Evicted(other.peer, quiet));
                    None
                }
                // Nobody may be evicted yet: wait until the quietest may be.
                Some((quiet, _)) => Some(config.evict_after - quiet),
                // Every connection is being evicted already: wait for their threads.
                None => None,
            };
            // Releases the lock while waiting; a thread that ends wakes us. The timeout is a
            // safety net: a thread stuck in a reply's deadline still ends within it.
            let wait = wait.unwrap_or(config.write_timeout);
            clients = self
                .freed
                .wait_timeout(clients, wait)
                .unwrap_or_else(|poison| poison.into_inner())
                .0;
        }
        clients.insert(id, client);
        clients.len()
    }

    fn give_back(&self, id: u64) {
        self.lock().remove(&id);
        self.freed.notify_one();
    }
}

impl Client {
    fn quiet_for(&self) -> Duration {
        let heard = *self
            .heard
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        heard.elapsed()
    }

    fn heard_now(&self) {
        *self
            .heard
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Instant::now();
    }
}

/// Gives the slot back when the connection's thread ends, however it ends (even by a panic).
struct SlotGuard(Arc<Slots>, u64);

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.0.give_back(self.1);
    }
}
// ANCHOR_END: slots

// ANCHOR: serve_forever
/// The threaded server loop: accept a client, start a thread that serves it, go back to `accept`
/// at once. At most `config.max_clients` are served at the same time; at the cap, the next
/// client is accepted and waits for a slot, and the clients after it wait in the accept queue.
///
/// `clients` limits how many clients to accept before returning (`None`: forever); the threads of
/// the last clients may still be running when it returns. Failures are reported to `log`, and
/// never stop the server.
pub fn serve_forever(
    listener: &Socket,
    config: &Config,
    clients: Option<usize>,
    log: impl Fn(Event) + Send + Sync + 'static,
) {
    let log = Arc::new(log);
    let slots = Arc::new(Slots {
        clients: Mutex::new(HashMap::new()),
        freed: Condvar::new(),
    });
    let mut accepted = 0;
    let mut failures_in_a_row = 0;
    while clients.map_or(true, |limit| accepted < limit) {
        let (socket, peer) = match accept(listener) {
            Ok(accepted) => accepted,
            Err(error) => {
                failures_in_a_row += 1;
                log(Event::AcceptFailed(error, failures_in_a_row));
                // EMFILE does not go away by itself: the connection stays queued and the next
                // accept fails too. We pause so that we do not spin the CPU, and retry.
                thread::sleep(crate::echo::ACCEPT_RETRY);
                continue;
            }
        };
        failures_in_a_row = 0;
        accepted += 1;
        let client = Arc::new(Client {
            socket,
            peer,
            heard: Mutex::new(Instant::now()),
            evicted: AtomicBool::new(false),
        });
        // Wait for a free slot (making one if a connection has been quiet too long).
        let active = slots.take(accepted as u64, Arc::clone(&client), config, &*log);
        let guard = SlotGuard(Arc::clone(&slots), accepted as u64);
        log(Event::Connected(peer, active));
        let thread_log = Arc::clone(&log);
        let timeouts = (config.idle_timeout, config.write_timeout);
        let started = thread::Builder::new()
            .name(format!("client {peer}"))
            .stack_size(STACK_SIZE)
            .spawn(move || {
                let _slot = guard;
                let ended = serve_with_timeouts(&client, timeouts);
                if !client.evicted.load(Ordering::Relaxed) {
                    thread_log(ended);
                }
                // The last `Arc` of `client` is dropped with the slot: close(2).
            });
        if let Err(error) = started {
            // The closure, with the connection and the slot, was dropped: both are given back.
            log(Event::SpawnFailed(peer, error));
        }
    }
}
// ANCHOR_END: serve_forever

// ANCHOR: serve_each_on_a_thread
/// The smallest threaded server: accepts `clients` clients, serves each on a thread of its own
/// with the seed's loop ([`serve_connection`], each reply within `write_timeout`), and returns
/// `Ok(())` once they have all gone.
///
/// What happens to one client (it closes, resets, or does not read) is that client's business:
/// its thread ends, and the others go on. Only a failed `accept` ends the server early. It has
/// none of [`serve_forever`]'s limits (a cap on clients, an idle timeout): it shows the one idea.
pub fn serve_each_on_a_thread(
    listener: &Socket,
    clients: usize,
    write_timeout: Duration,
) -> io::Result<()> {
    todo!(
        "15.1: write a server that gives each client a thread — \
         read many-clients.md; stuck? cargo classroom hint 15.1"
    )
}
// ANCHOR_END: serve_each_on_a_thread

// ANCHOR: serve_with_timeouts
/// Serves one client with the seed's protocol, but gives up on a client that is quiet for longer
/// than `idle` or does not take a reply within `write`.
fn serve_with_timeouts(client: &Client, (idle, write): (Duration, Duration)) -> Event {
    let peer = client.peer;
    if let Err(error) = client.socket.set_read_timeout(Some(idle)) {
        return Event::Failed(peer, error);
    }
    match serve_noting_each_piece(client, write) {
        Ok(bytes) => Event::Finished(peer, bytes),
        // A timed-out `recv` or `send` fails with EAGAIN (`WouldBlock`) on Unix and with
        // `TimedOut` on Windows; our own deadline says `TimedOut`.
        Err(error) if is_timeout(&error) => Event::TimedOut(peer),
        Err(error) => Event::Failed(peer, error),
    }
}

/// The seed's loop ([`crate::echo::serve_connection`]) with one line more: it notes when each
/// piece arrives, so that the accept loop knows which connection has been quiet the longest.
/// Its `recv` is [`recv_retrying`]: with a receive timeout, stopping and continuing the server
/// (Ctrl-Z, `fg`) interrupts it, and that is no reason to close.
fn serve_noting_each_piece(client: &Client, write: Duration) -> io::Result<u64> {
    let mut total = 0;
    loop {
        let piece = recv_retrying(&client.socket, RECV_SIZE)?;
        if piece.is_empty() {
            return Ok(total);
        }
        client.heard_now();
        total += piece.len() as u64;
        send_all_within(&client.socket, &reply_to(&piece), write)?;
    }
}
// ANCHOR_END: serve_with_timeouts

/// Whether an I/O error is a socket timeout (`SO_RCVTIMEO` / `SO_SNDTIMEO` expired).
pub fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
