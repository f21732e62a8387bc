//! Many clients on one thread, with async Rust: the seed's echo server on tokio.
//!
//! The threaded server ([`crate::threaded`]) waits for each client in a blocked thread: the
//! kernel parks the thread in `recv(2)` until bytes come. Here one thread waits for *all* clients
//! at once. Each client is a *task* (a future that tokio polls), and each `.await` that cannot
//! finish yet hands control back to the runtime, which asks the kernel which sockets are ready
//! (`epoll_wait(2)` on Linux, `kqueue` on BSD and macOS, IOCP on Windows, all through the `mio`
//! crate) and resumes the tasks whose sockets are. The protocol is the seed's, byte for byte:
//! `recv` at most 1024 bytes ([`RECV_SIZE`]), answer [`reply_to`] that piece.
//!
//! Every `.await` of this file, and the readiness event under it:
//! - `listener.accept().await`: try `accept4(2)`; if no client waits (`EAGAIN`), sleep until
//!   `epoll_wait` reports the listener readable (`EPOLLIN`).
//! - `stream.readable().await`: sleep until `epoll_wait` reports the connection readable
//!   (`EPOLLIN`: bytes, the end of the stream, or an error), then [`TcpStream::try_read`] is one
//!   `recv(2)` that does not wait.
//! - `stream.write_all(..).await`: `send(2)` at once; only if the kernel's send buffer is full
//!   (`EAGAIN`) sleep until `epoll_wait` reports it writable (`EPOLLOUT`).
//! - `timeout(limit, ..).await`: the same wait, but also an entry in tokio's timer wheel; the
//!   runtime passes the nearest deadline to `epoll_wait` as its timeout.
//!
//! The book's chapter "Async (tokio)" follows these awaits with `strace`. The limits of the
//! threaded server stay, but cost less: a cap on connections (a semaphore, as tokio's mini-redis
//! does), an idle timeout and a deadline per reply, each a `tokio::time::timeout` instead of a
//! socket option.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::timeout;

use crate::echo::reply_to;
use crate::step5_process::RECV_SIZE;

// ANCHOR: limits
/// How many clients we serve at once, by default: ten thousand ("C10K"). A connection costs a
/// task of a few hundred bytes and a file descriptor, not a thread, so the limit that matters is
/// the open-file limit (`ulimit -n`), which must be above this.
pub const MAX_CLIENTS: usize = 10_000;

/// Our listen backlog. Linux lowers it to `net.core.somaxconn` (4096 by default).
pub const BACKLOG: i32 = 1024;

/// How long a client may stay quiet before we close its connection, as in the threaded server.
pub const IDLE_TIMEOUT: Duration = crate::threaded::IDLE_TIMEOUT;

/// How long one reply may wait for a client that does not read.
pub const WRITE_TIMEOUT: Duration = crate::threaded::WRITE_TIMEOUT;
// ANCHOR_END: limits

/// The async server's limits: the threaded server's three (with [`MAX_CLIENTS`] as the cap
/// in `echo_server_async`).
pub use crate::threaded::Config;

/// What happened, for the server's log: the threaded server's events, so that both logs read
/// the same.
pub use crate::threaded::Event;

/// The log: called from every task, so it must be shareable (`Send + Sync`).
pub type Log = Arc<dyn Fn(Event) + Send + Sync>;

// ANCHOR: runtime
/// Runs `serve_forever` on a tokio runtime with one thread (the one that calls this function):
/// what `#[tokio::main(flavor = "current_thread")]` writes for you. One thread, like the
/// event-loop server, so that the two compare fairly; tokio's multi-threaded runtime
/// (`rt-multi-thread`) would run tasks on every core.
///
/// `listener` is a listening socket made by the earlier steps; we only switch it to
/// non-blocking mode and hand it to tokio, which registers it with `epoll`.
pub fn run(
    listener: socket2::Socket,
    config: &Config,
    clients: Option<usize>,
    log: Log,
) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io() // the reactor: epoll (Linux), kqueue (BSD, macOS), IOCP (Windows)
        .enable_time() // the timer wheel behind `timeout` and `sleep`
        .build()?;
    runtime.block_on(async {
        listener.set_nonblocking(true)?; // fcntl(2): O_NONBLOCK, so no call ever waits
        let listener = TcpListener::from_std(listener.into())?; // epoll_ctl(2): EPOLL_CTL_ADD
        serve_forever(listener, config, clients, log).await;
        Ok(())
    })
}
// ANCHOR_END: runtime

// ANCHOR: serve_forever
/// The accept loop: take a slot (at most `config.max_clients`), `accept().await` a client,
/// `spawn` a task that serves it, and go straight back to `accept`. One thread runs every task.
///
/// `clients` limits how many clients to accept before returning (`None`: forever). Failures go
/// to `log` and never stop the server.
pub async fn serve_forever(
    listener: TcpListener,
    config: &Config,
    clients: Option<usize>,
    log: Log,
) {
    let slots = Arc::new(Semaphore::new(config.max_clients));
    let mut accepted = 0;
    let mut failures_in_a_row = 0;
    while clients.map_or(true, |limit| accepted < limit) {
        if slots.available_permits() == 0 {
            log(Event::Full(config.max_clients));
        }
        // Waits (without a thread, without a system call) until a task gives its slot back.
        let slot = Arc::clone(&slots)
            .acquire_owned()
            .await
            .expect("we never close the semaphore");
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                failures_in_a_row += 1;
                log(Event::AcceptFailed(error, failures_in_a_row));
                // EMFILE does not go away by itself: pause (the other tasks go on meanwhile).
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        failures_in_a_row = 0;
        accepted += 1;
        let active = config.max_clients - slots.available_permits();
        log(Event::Connected(peer, active));
        let (log, timeouts) = (
            Arc::clone(&log),
            (config.idle_timeout, config.write_timeout),
        );
        tokio::spawn(async move {
            log(serve_with_timeouts(stream, peer, timeouts).await);
            drop(slot); // the slot goes back; `stream` was dropped: close(2)
        });
    }
}
// ANCHOR_END: serve_forever

// ANCHOR: serve_connection
/// Serves one client with the seed's protocol: wait until it is readable, `recv` at most 1024
/// bytes, send back the prefixed piece; stop at the end of the stream. Gives up on a client that
/// is quiet for `idle`, or does not take a reply within `write`.
///
/// What lives across an `.await` lives in the task, for as long as the client is connected. So
/// the 1024-byte buffer lives only between `readable()` and the reply: an idle client's task
/// holds no buffer at all, as the event-loop server's connections hold none.
pub async fn serve_connection(
    stream: &mut TcpStream,
    (idle, write): (Duration, Duration),
) -> io::Result<u64> {
    let mut total = 0;
    loop {
        // EPOLLIN, or the idle timeout, whichever comes first.
        timeout(idle, stream.readable()).await.map_err(quiet)??;
        let reply = {
            let mut buffer = [0; RECV_SIZE];
            match stream.try_read(&mut buffer) {
                Ok(0) => return Ok(total), // the end of the stream: the client closed
                Ok(received) => {
                    total += received as u64;
                    reply_to(&buffer[..received])
                }
                // Readiness can be stale (another wake-up took the bytes): wait again.
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return Err(error),
            }
        };
        // send(2) at once; EPOLLOUT only if the kernel's send buffer is full.
        timeout(write, stream.write_all(&reply))
            .await
            .map_err(quiet)??;
    }
}
// ANCHOR_END: serve_connection

/// A `tokio::time::timeout` that expired, as an `io::Error` the threaded server would report.
fn quiet(_: tokio::time::error::Elapsed) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the client was quiet, or did not read",
    )
}

async fn serve_with_timeouts(
    mut stream: TcpStream,
    peer: SocketAddr,
    timeouts: (Duration, Duration),
) -> Event {
    match serve_connection(&mut stream, timeouts).await {
        Ok(bytes) => Event::Finished(peer, bytes),
        Err(error) if error.kind() == io::ErrorKind::TimedOut => Event::TimedOut(peer),
        Err(error) => Event::Failed(peer, error),
    }
}
