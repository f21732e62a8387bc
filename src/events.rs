//! Ten thousand clients on one thread: the seed's echo server as an `epoll` event loop.
//!
//! The threaded server ([`crate::threaded`]) gives every client a thread that spends its life
//! blocked in `recv`. Here one thread serves every client: all sockets are non-blocking (the
//! Non-blocking sockets chapter), and the loop blocks in one place only, `epoll_wait`
//! ([`crate::readiness::Epoll`]), which returns the sockets that are ready. For each one we do what
//! will not block: `accept` on the listener, `recv(1024)` and the reply on a connection. The
//! protocol is still the seed's, byte for byte: each piece received comes back as
//! `|From Server| ` + the piece.
//!
//! What a connection costs here is its entry in our table (about a hundred bytes)
//! and its timer: there is one 1024-byte read buffer for the whole server, and a write buffer only
//! for a connection whose client is not taking its replies (*backpressure*). Then we stop reading
//! from that client (its bytes wait in the kernel, and its TCP window closes: the client slows
//! down) until the reply has gone, so a connection never holds more than one reply, 1038 bytes.
//!
//! Deadlines come from one timer structure, a min-heap ([`BinaryHeap`]) ordered by time: the loop
//! asks `epoll_wait` to wake it at the earliest deadline, closes what expired, and goes back to
//! waiting. No thread per connection, no polling loop that wakes up to check.
//!
//! Limits, as in the threaded server: a cap on connections ([`Config::max_clients`]; at the cap
//! we stop watching the listener, so new clients wait in the kernel's accept queue), an idle
//! timeout and a deadline per reply. When `accept` fails with `EMFILE` (no file descriptors left)
//! the listener stays readable, and a level-triggered loop would spin on it: we stop watching the
//! listener for [`ACCEPT_PAUSE`], or until a connection closes and frees a descriptor.
//!
//! Linux only: `epoll` is Linux's. Elsewhere [`serve`] returns an error that says so (see
//! [`crate::readiness::KQUEUE`] for the BSDs and macOS).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::Socket;

// ANCHOR: limits
/// How many connections we hold at once, by default. Each costs a file descriptor: `ulimit -n`
/// must be higher than this (it is 1024 on many systems; the server says so when `accept` fails).
pub const MAX_CLIENTS: usize = 10_000;

/// Our listen backlog: a storm of connections waits here while the loop accepts them. (Linux caps
/// it at `net.core.somaxconn`, 4096 by default.)
pub const BACKLOG: i32 = 1024;

/// How long a client may stay quiet (nothing to `recv`) before we close its connection: the
/// threaded server's [`IDLE_TIMEOUT`](crate::threaded::IDLE_TIMEOUT).
pub const IDLE_TIMEOUT: Duration = crate::threaded::IDLE_TIMEOUT;

/// How long a client that does not read may keep one reply waiting.
pub const WRITE_TIMEOUT: Duration = crate::threaded::WRITE_TIMEOUT;

/// How long we stop accepting after `accept` failed for want of resources (`EMFILE`, `ENFILE`,
/// `ENOBUFS`), unless a connection closes sooner.
pub const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
// ANCHOR_END: limits

/// How many events one `epoll_wait` returns at most. More ready sockets are simply reported by the
/// next call (level-triggered), so this is a batch size, not a limit.
#[cfg(target_os = "linux")]
const EVENTS_PER_WAIT: usize = 256;

/// How many pieces we read from one client per wake-up before we turn to the others: a client
/// that sends without pause must not starve the rest. Its socket stays readable, so `epoll_wait`
/// reports it again at once.
#[cfg(target_os = "linux")]
const READS_PER_TURN: usize = 16;

/// How many clients we accept per wake-up before serving the connected ones.
#[cfg(target_os = "linux")]
const ACCEPTS_PER_TURN: usize = 64;

/// The event loop's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// At most this many connections are held at once; more wait in the accept queue.
    pub max_clients: usize,
    /// A connection with nothing to read for this long is closed.
    pub idle_timeout: Duration,
    /// A reply that the client has not taken after this long is abandoned and the connection
    /// closed (a deadline for the whole reply, not renewed by partial progress).
    pub write_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_clients: MAX_CLIENTS,
            idle_timeout: IDLE_TIMEOUT,
            write_timeout: WRITE_TIMEOUT,
        }
    }
}

/// What happened, for the server's log.
#[derive(Debug)]
pub enum Event {
    /// `accept` returned a client; `active` connections are now held (this one included).
    Connected(SocketAddr, usize),
    /// The client closed its side after sending this many bytes; we closed ours.
    Finished(SocketAddr, u64),
    /// The client was quiet for longer than the idle timeout.
    Idle(SocketAddr),
    /// The client did not take a reply within the write timeout.
    NotReading(SocketAddr),
    /// The connection failed (e.g. the client reset it). Other clients are not affected.
    Failed(SocketAddr, io::Error),
    /// `max_clients` connections are held: we stop accepting until one closes.
    Full(usize),
    /// Below the cap again: we accept again. (Resuming after an accept failure's pause is not
    /// logged: out of descriptors, that would be a line every [`ACCEPT_PAUSE`].)
    Accepting(usize),
    /// `accept` failed (e.g. `EMFILE`); we stop accepting for a moment. `repeats` counts the
    /// failures in a row.
    AcceptFailed(io::Error, u64),
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::Connected(peer, active) => write!(f, "connected by {peer} ({active} held)"),
            Event::Finished(peer, bytes) => {
                write!(
                    f,
                    "{peer} closed its side after {}: closing ours",
                    crate::narrate::counted(*bytes, "byte")
                )
            }
            Event::Idle(peer) => write!(f, "{peer} timed out (quiet): closing"),
            Event::NotReading(peer) => {
                write!(f, "{peer} timed out (not reading its replies): closing")
            }
            Event::Failed(peer, error) => write!(f, "{peer} failed: {error}: closing"),
            Event::Full(max) => write!(
                f,
                "at the cap: {} held; new clients wait in the accept queue",
                crate::narrate::counted(*max as u64, "connection")
            ),
            Event::Accepting(active) => {
                let held = crate::narrate::counted(*active as u64, "connection");
                write!(f, "accepting again ({held} held)")
            }
            Event::AcceptFailed(error, repeats) => write!(
                f,
                "accept failed: {error} (failure {repeats} in a row); pausing accept for {:?}",
                ACCEPT_PAUSE
            ),
        }
    }
}

/// The token of the listener in `epoll`; connections use their index in the table.
#[cfg(target_os = "linux")]
const LISTENER: u64 = u64::MAX;

/// Serves the seed's protocol on `listener` for ever, on this thread, with an `epoll` event
/// loop. Every client's event goes to `log`. Returns only if `epoll` itself fails.
#[cfg(target_os = "linux")]
pub fn serve(listener: &Socket, config: &Config, log: impl FnMut(Event)) -> io::Result<()> {
    Server::new(listener, config, log)?.run()
}

/// `epoll` is Linux's: on other systems this says so (the types above still build everywhere).
#[cfg(not(target_os = "linux"))]
pub fn serve(_listener: &Socket, _config: &Config, _log: impl FnMut(Event)) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "echo_server_events is built on epoll, which only Linux has; {}",
            crate::readiness::KQUEUE
        ),
    ))
}

#[cfg(target_os = "linux")]
pub use linux::send_reply;
#[cfg(target_os = "linux")]
use linux::Server;

#[cfg(target_os = "linux")]
mod linux {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    use std::io::{self, IoSlice, Read};
    use std::time::{Duration, Instant};

    use socket2::Socket;

    use super::*;
    use crate::echo::PREFIX;
    use crate::readiness::{Epoll, Interest, Ready};
    use crate::step4_accept::accept;
    use crate::step5_process::RECV_SIZE;

    // ANCHOR: connection
    /// What we keep per client: no buffer, unless its replies are backing up.
    #[derive(Debug)]
    pub(super) struct Connection {
        socket: Socket,
        peer: SocketAddr,
        /// Tells this connection apart from a later one that reuses its slot in the table.
        serial: u64,
        /// When we close it: the idle deadline while we read, the reply's deadline while we write.
        deadline: Instant,
        /// The time of its entry in the timer heap (see [`Server::expire`]).
        timer_at: Instant,
        received: u64,
        /// The part of a reply that the kernel did not take yet. Empty (and unallocated) unless the
        /// client is behind; while it is not empty we do not read from this client.
        unsent: Vec<u8>,
    }
    // ANCHOR_END: connection

    /// The event loop's state: the epoll instance, the table of connections and the timers.
    pub(super) struct Server<'a, L: FnMut(Event)> {
        listener: &'a Socket,
        config: &'a Config,
        epoll: Epoll,
        /// The connections, by token; `None` is a free slot (listed in `free`).
        connections: Vec<Option<Connection>>,
        free: Vec<usize>,
        active: usize,
        /// One shared read buffer: a piece goes straight back out as a reply.
        buffer: [u8; RECV_SIZE],
        /// (deadline, slot, serial), earliest first.
        timers: BinaryHeap<Reverse<(Instant, usize, u64)>>,
        next_serial: u64,
        /// Whether the listener is in the epoll set (false at the cap, and after EMFILE).
        accepting: bool,
        /// After a failed accept: when to try again.
        accept_paused_until: Option<Instant>,
        accept_failures: u64,
        log: L,
    }

    impl<'a, L: FnMut(Event)> Server<'a, L> {
        /// Makes the listener non-blocking and starts watching it.
        pub(super) fn new(listener: &'a Socket, config: &'a Config, log: L) -> io::Result<Self> {
            listener.set_nonblocking(true)?;
            let epoll = Epoll::new(EVENTS_PER_WAIT)?;
            epoll.add(listener, LISTENER, Interest::Read)?;
            Ok(Server {
                listener,
                config,
                epoll,
                connections: Vec::new(),
                free: Vec::new(),
                active: 0,
                buffer: [0; RECV_SIZE],
                timers: BinaryHeap::new(),
                next_serial: 0,
                accepting: true,
                accept_paused_until: None,
                accept_failures: 0,
                log,
            })
        }

        // ANCHOR: run
        /// The loop: wait for readiness or the next deadline, handle what is ready, expire what
        /// is due. Blocks only in `epoll_wait`.
        pub(super) fn run(mut self) -> io::Result<()> {
            loop {
                let timeout = self.next_timeout(Instant::now());
                for (token, ready) in self.epoll.wait(timeout)? {
                    if token == LISTENER {
                        self.accept_some();
                    } else {
                        self.serve(token as usize, ready);
                    }
                }
                self.expire(Instant::now());
            }
        }
        // ANCHOR_END: run

        /// How long `epoll_wait` may sleep: until the earliest deadline (`None`: no deadline, for
        /// ever). One millisecond more, because the kernel counts whole milliseconds: waking a
        /// little early would find nothing due and spin until it is.
        fn next_timeout(&self, now: Instant) -> Option<Duration> {
            let timer = self.timers.peek().map(|Reverse((when, _, _))| *when);
            let earliest = match (timer, self.accept_paused_until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            earliest.map(|when| when.saturating_duration_since(now) + Duration::from_millis(1))
        }

        // ANCHOR: accept_some
        /// The listener is readable: accept waiting clients, up to the cap.
        fn accept_some(&mut self) {
            for _ in 0..ACCEPTS_PER_TURN {
                match accept(self.listener) {
                    Ok((socket, peer)) => {
                        self.accept_failures = 0;
                        self.add(socket, peer);
                        if self.active >= self.config.max_clients {
                            self.stop_accepting();
                            (self.log)(Event::Full(self.config.max_clients));
                            return;
                        }
                    }
                    // The queue is empty: back to epoll_wait.
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                    // A signal, or a client that reset while it waited in the queue: next one.
                    Err(error)
                        if matches!(
                            error.kind(),
                            io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                        ) => {}
                    Err(error) => {
                        // EMFILE and friends: the client stays queued and the listener stays
                        // readable. We stop watching it for a moment instead of spinning.
                        self.accept_failures += 1;
                        (self.log)(Event::AcceptFailed(error, self.accept_failures));
                        self.stop_accepting();
                        self.accept_paused_until = Some(Instant::now() + ACCEPT_PAUSE);
                        return;
                    }
                }
            }
        }
        // ANCHOR_END: accept_some

        /// Takes a new client into the table and the epoll set.
        fn add(&mut self, socket: Socket, peer: SocketAddr) {
            let slot = self.free.pop().unwrap_or_else(|| {
                self.connections.push(None);
                self.connections.len() - 1
            });
            let registered = socket
                .set_nonblocking(true)
                .and_then(|()| self.epoll.add(&socket, slot as u64, Interest::Read));
            if let Err(error) = registered {
                self.free.push(slot);
                (self.log)(Event::Failed(peer, error));
                return; // `socket` is dropped: close(2)
            }
            let deadline = Instant::now() + self.config.idle_timeout;
            self.next_serial += 1;
            self.timers
                .push(Reverse((deadline, slot, self.next_serial)));
            self.connections[slot] = Some(Connection {
                socket,
                peer,
                serial: self.next_serial,
                deadline,
                timer_at: deadline,
                received: 0,
                unsent: Vec::new(),
            });
            self.active += 1;
            (self.log)(Event::Connected(peer, self.active));
        }

        fn stop_accepting(&mut self) {
            if self.accepting {
                // Cannot fail for a socket that is in the set; if it did, we would only keep
                // getting its events.
                let _ = self.epoll.delete(self.listener);
                self.accepting = false;
            }
        }

        fn start_accepting(&mut self) {
            if !self.accepting
                && self
                    .epoll
                    .add(self.listener, LISTENER, Interest::Read)
                    .is_ok()
            {
                self.accepting = true;
                // After the cap, say so once. After a failed accept we try again every
                // ACCEPT_PAUSE, and a line each time would flood the log that `AcceptFailed`'s
                // count keeps short: the next failure, or the next client, tells what happened.
                if self.accept_failures == 0 {
                    (self.log)(Event::Accepting(self.active));
                }
            }
        }

        // ANCHOR: serve
        /// A connection is ready: flush its pending reply if it has one, else read and answer.
        fn serve(&mut self, slot: usize, ready: Ready) {
            let Some(connection) = self.connections.get(slot).and_then(Option::as_ref) else {
                return; // closed earlier in this batch
            };
            let outcome = if connection.unsent.is_empty() {
                self.read_and_reply(slot)
            } else if ready.writable || ready.error || ready.hung_up {
                self.flush(slot)
            } else {
                Ok(())
            };
            if let Err(event) = outcome {
                self.close(slot, event);
            }
        }

        /// Up to [`READS_PER_TURN`] pieces: `recv(1024)`, then the reply. Stops early when the
        /// kernel has nothing more (`WouldBlock`) or when a reply does not fit (backpressure).
        fn read_and_reply(&mut self, slot: usize) -> Result<(), Event> {
            let now = Instant::now();
            let connection = self.connections[slot].as_mut().expect("a live slot");
            let peer = connection.peer;
            for _ in 0..READS_PER_TURN {
                let received = match (&connection.socket).read(&mut self.buffer) {
                    Ok(0) => return Err(Event::Finished(peer, connection.received)),
                    Ok(received) => received,
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    Err(error) => return Err(Event::Failed(peer, error)),
                };
                connection.received += received as u64;
                connection.deadline = now + self.config.idle_timeout;
                let unsent = send_reply(&connection.socket, &self.buffer[..received])
                    .map_err(|error| Event::Failed(peer, error))?;
                if !unsent.is_empty() {
                    // Backpressure: keep the rest, stop reading, wait until it can be sent.
                    connection.unsent = unsent;
                    connection.deadline = now + self.config.write_timeout;
                    self.epoll
                        .modify(&connection.socket, slot as u64, Interest::Write)
                        .map_err(|error| Event::Failed(peer, error))?;
                    self.reschedule(slot);
                    return Ok(());
                }
                if received < self.buffer.len() {
                    // A short read: the kernel gave us all it had. We do not ask again just to
                    // hear `WouldBlock` (a `recv` per message saved): if more has come meanwhile,
                    // level-triggered `epoll_wait` reports the socket again.
                    return Ok(());
                }
            }
            Ok(())
        }

        /// The client made room: send what is left of its reply; once all is gone, free the
        /// buffer and read from it again.
        fn flush(&mut self, slot: usize) -> Result<(), Event> {
            let connection = self.connections[slot].as_mut().expect("a live slot");
            let peer = connection.peer;
            match connection.socket.send(&connection.unsent) {
                Ok(sent) => {
                    connection.unsent.drain(..sent);
                }
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(error) => return Err(Event::Failed(peer, error)),
            }
            if connection.unsent.is_empty() {
                connection.unsent = Vec::new(); // gives the memory back
                connection.deadline = Instant::now() + self.config.idle_timeout;
                self.epoll
                    .modify(&connection.socket, slot as u64, Interest::Read)
                    .map_err(|error| Event::Failed(peer, error))?;
                // Sooner than the reply's deadline if the idle timeout is the shorter one.
                self.reschedule(slot);
            }
            Ok(())
        }
        // ANCHOR_END: serve

        /// Closes a connection: out of the epoll set, out of the table, `close(2)`. A descriptor
        /// and a slot are free again, so we may accept again.
        fn close(&mut self, slot: usize, event: Event) {
            if let Some(connection) = self.connections[slot].take() {
                let _ = self.epoll.delete(&connection.socket);
                drop(connection); // close(2)
                self.free.push(slot);
                self.active -= 1;
                (self.log)(event);
                if self.active < self.config.max_clients {
                    self.accept_paused_until = None;
                    self.start_accepting();
                }
            }
        }

        /// A connection's deadline moved earlier than its entry in the heap: add an entry for the
        /// new time (the old one becomes stale and is dropped when it comes up).
        fn reschedule(&mut self, slot: usize) {
            let connection = self.connections[slot].as_mut().expect("a live slot");
            if connection.deadline < connection.timer_at {
                connection.timer_at = connection.deadline;
                self.timers
                    .push(Reverse((connection.deadline, slot, connection.serial)));
            }
        }

        // ANCHOR: expire
        /// Closes the connections whose deadline has passed.
        ///
        /// The heap holds one entry per connection, at `timer_at`. Activity only moves a
        /// deadline later, and we do not touch the heap for that (it would cost a search per
        /// `recv`): when the entry comes up and the deadline has moved, we push it again for the
        /// new time. Entries of closed connections (their slot is empty, or reused by a
        /// connection with another serial) are dropped.
        fn expire(&mut self, now: Instant) {
            if self.accept_paused_until.is_some_and(|until| until <= now) {
                self.accept_paused_until = None;
                if self.active < self.config.max_clients {
                    self.start_accepting();
                }
            }
            while let Some(&Reverse((when, slot, serial))) = self.timers.peek() {
                if when > now {
                    break;
                }
                self.timers.pop();
                let Some(connection) = self.connections[slot].as_mut() else {
                    continue;
                };
                if connection.serial != serial || connection.timer_at != when {
                    continue; // a stale entry
                }
                if connection.deadline > now {
                    connection.timer_at = connection.deadline;
                    self.timers
                        .push(Reverse((connection.deadline, slot, serial)));
                    continue;
                }
                let peer = connection.peer;
                let event = if connection.unsent.is_empty() {
                    Event::Idle(peer)
                } else {
                    Event::NotReading(peer)
                };
                self.close(slot, event);
            }
        }
        // ANCHOR_END: expire
    }

    // ANCHOR: send_reply
    /// Sends `|From Server| ` + `piece` without waiting, in one `sendmsg(2)` call with two pieces
    /// of memory (a *vectored* write, like `writev(2)`): no copy into one buffer. Returns what the
    /// kernel did not take, copied into a new buffer (empty, and unallocated, if it took all).
    pub fn send_reply(socket: &Socket, piece: &[u8]) -> io::Result<Vec<u8>> {
        // EXERCISE 17.2
        let sent = match socket.send_vectored(&[IoSlice::new(PREFIX), IoSlice::new(piece)]) {
            Ok(sent) => sent,
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                0
            }
            Err(error) => return Err(error),
        };
        let mut unsent = Vec::new();
        if sent < PREFIX.len() {
            unsent.reserve_exact(PREFIX.len() - sent + piece.len());
            unsent.extend_from_slice(&PREFIX[sent..]);
            unsent.extend_from_slice(piece);
        } else if sent < PREFIX.len() + piece.len() {
            unsent.extend_from_slice(&piece[sent - PREFIX.len()..]);
        }
        Ok(unsent)
        // END EXERCISE 17.2
    }
    // ANCHOR_END: send_reply
}
