//! Asking the kernel which sockets are ready: `poll(2)` and `epoll(7)`.
//!
//! A non-blocking socket ([`crate::nonblocking`]) answers `WouldBlock` instead of waiting. That
//! only helps if something tells us *when* to try again; retrying at once burns a CPU. These are
//! the system calls that do the waiting for us, for many sockets at once:
//!
//! - [`poll_one`] and [`poll`]: `poll(2)` (POSIX, every Unix; Windows has a look-alike, `WSAPoll`).
//!   We hand the kernel a list of `(fd, events we care about)`, it blocks until at least one is
//!   ready (or the timeout passes) and fills in what happened. Simple, but every call passes the
//!   whole list again and the kernel checks every entry: O(n) per call, for n sockets.
//! - [`Epoll`]: `epoll_create1(2)`, `epoll_ctl(2)` and `epoll_wait(2)` (Linux only). The list lives
//!   in the kernel; we add, modify and delete entries one at a time, and `epoll_wait` returns only
//!   the ready ones: O(ready) per call. This is what an event loop on Linux is built on, tokio's
//!   included (through `mio`).
//!
//! On the BSDs and macOS the counterpart of epoll is `kqueue(2)`/`kevent(2)`. We do not wrap it:
//! rustix exposes `kevent` only as an `unsafe` function (the kernel keeps a user pointer per
//! event), and this crate forbids `unsafe`. A portable program uses `mio` (what tokio is built on)
//! or `polling` (what async-io and smol use); both choose epoll, kqueue or Windows' IOCP/`AFD`
//! underneath. See [`KQUEUE`].
//!
//! Every function here is one system call, through [`rustix`], which makes each of them safe
//! without any `unsafe` of ours.
//!
//! Level-triggered, always: we never ask for `EPOLLET` (edge-triggered). With level triggering,
//! `epoll_wait` keeps reporting a socket for as long as it *is* readable, so a loop that reads
//! only one piece per wake-up loses nothing; edge-triggered reports only *changes*, and a loop that
//! does not read until `WouldBlock` would never hear from that socket again.

#[cfg(unix)]
use std::{io, os::fd::AsFd, time::Duration};

/// What we say on the BSDs and macOS instead of using `kqueue`: the call is named, not wrapped.
pub const KQUEUE: &str = "on the BSDs and macOS the event-loop call is kqueue(2)/kevent(2), not \
    epoll; this course wraps only epoll (Linux): rustix's kevent is an `unsafe` function and we \
    forbid `unsafe`. A portable program uses the `mio` or `polling` crate, which use kqueue there";

/// What `poll` or `epoll_wait` wants as a timeout: `None` waits for ever; a duration is rounded
/// up to whole milliseconds by the kernel.
#[cfg(unix)]
fn timespec(timeout: Option<Duration>) -> io::Result<Option<rustix::event::Timespec>> {
    timeout
        .map(|duration| {
            rustix::event::Timespec::try_from(duration)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "timeout too long"))
        })
        .transpose()
}

/// What we wait for on one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Readable: data to `recv`, the peer's end of file, or (for a listener) a client to `accept`.
    Read,
    /// Writable: room in the send buffer, or a non-blocking `connect` that finished.
    Write,
    /// Nothing: we keep the socket registered but want no events (errors are still reported).
    None,
}

/// What the kernel said about one socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ready {
    /// `POLLIN`/`EPOLLIN`: `recv` or `accept` will not block.
    pub readable: bool,
    /// `POLLOUT`/`EPOLLOUT`: `send` will take at least some bytes.
    pub writable: bool,
    /// `POLLHUP`/`EPOLLHUP`: both directions are shut (e.g. a connect that failed).
    pub hung_up: bool,
    /// `POLLERR`/`EPOLLERR`: an error is pending; `take_error` (`SO_ERROR`) says which.
    pub error: bool,
}

// ---- poll(2) ----------------------------------------------------------------------------------

// ANCHOR: poll
/// Waits until one of `sockets` is ready for what it asks, or `timeout` passes (`None`: for ever).
/// Returns what happened to each socket, in the same order (all `false` for a timeout).
///
/// This function directly corresponds to the `poll(2)` system call: the whole list goes to the
/// kernel on every call, and the kernel checks every entry.
#[cfg(unix)]
pub fn poll<S: AsFd>(
    sockets: &[(&S, Interest)],
    timeout: Option<Duration>,
) -> io::Result<Vec<Ready>> {
    use rustix::event::{PollFd, PollFlags};
    let mut fds: Vec<PollFd<'_>> = sockets
        .iter()
        .map(|(socket, interest)| {
            let flags = match interest {
                Interest::Read => PollFlags::IN,
                Interest::Write => PollFlags::OUT,
                Interest::None => PollFlags::empty(),
            };
            PollFd::new(*socket, flags)
        })
        .collect();
    rustix::event::poll(&mut fds, timespec(timeout)?.as_ref())?;
    Ok(fds
        .iter()
        .map(|fd| {
            let revents = fd.revents();
            Ready {
                readable: revents.contains(PollFlags::IN),
                writable: revents.contains(PollFlags::OUT),
                hung_up: revents.contains(PollFlags::HUP),
                error: revents.contains(PollFlags::ERR),
            }
        })
        .collect())
}
// ANCHOR_END: poll

/// [`poll`] for a single socket.
#[cfg(unix)]
pub fn poll_one(
    socket: &impl AsFd,
    interest: Interest,
    timeout: Option<Duration>,
) -> io::Result<Ready> {
    Ok(poll(&[(socket, interest)], timeout)?[0])
}

// ANCHOR: echo_with_poll
/// The seed's echo server on one thread, waiting with `poll(2)` (exercise 17.3): serves
/// `clients` clients, at the same time, each until it closes, then returns. Each `recv(1024)`
/// is answered with the seed's reply, which must be taken within `write_timeout`, or that
/// client is dropped. A client that fails (a reset) is dropped too; the others go on.
///
/// The course's servers do not use this: it is the classroom's program exercise.
#[cfg(unix)]
pub fn echo_with_poll(
    listener: &socket2::Socket,
    clients: usize,
    write_timeout: Duration,
) -> io::Result<()> {
    todo!(
        "17.3: write the seed's echo server on one thread with poll — \
         read event-loops.md; stuck? cargo classroom hint 17.3"
    )
}
// ANCHOR_END: echo_with_poll

// ---- epoll(7) ---------------------------------------------------------------------------------

/// An epoll instance: a list of watched sockets that lives in the kernel (Linux only).
///
/// Each registered socket carries a *token*, a number of our choosing that `epoll_wait` hands
/// back with its events; we use it as the index of the connection in our own table.
#[cfg(target_os = "linux")]
pub struct Epoll {
    fd: std::os::fd::OwnedFd,
    /// Where `epoll_wait` writes its events; reused from call to call.
    events: Vec<rustix::event::epoll::Event>,
}

#[cfg(target_os = "linux")]
fn epoll_flags(interest: Interest) -> rustix::event::epoll::EventFlags {
    use rustix::event::epoll::EventFlags;
    match interest {
        Interest::Read => EventFlags::IN,
        Interest::Write => EventFlags::OUT,
        Interest::None => EventFlags::empty(),
    }
}

// ANCHOR: epoll
#[cfg(target_os = "linux")]
impl Epoll {
    /// Makes a new, empty epoll instance that returns at most `batch` events per
    /// [`wait`](Epoll::wait).
    ///
    /// This function directly corresponds to `epoll_create1(EPOLL_CLOEXEC)`: the instance is
    /// itself a file descriptor.
    pub fn new(batch: usize) -> io::Result<Epoll> {
        use rustix::event::epoll;
        let fd = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        Ok(Epoll {
            fd,
            events: Vec::with_capacity(batch.max(1)),
        })
    }

    /// Starts watching `socket` for `interest`; its events will carry `token`.
    ///
    /// This function directly corresponds to `epoll_ctl(EPOLL_CTL_ADD)`.
    pub fn add(&self, socket: &impl AsFd, token: u64, interest: Interest) -> io::Result<()> {
        use rustix::event::epoll;
        todo!(
            "17.1: watch a socket with epoll_ctl(EPOLL_CTL_ADD) — \
             read event-loops.md; stuck? cargo classroom hint 17.1"
        )
    }

    /// Changes what we watch `socket` for (e.g. from readable to writable, under backpressure).
    ///
    /// This function directly corresponds to `epoll_ctl(EPOLL_CTL_MOD)`.
    pub fn modify(&self, socket: &impl AsFd, token: u64, interest: Interest) -> io::Result<()> {
        use rustix::event::epoll;
        epoll::modify(
            &self.fd,
            socket,
            epoll::EventData::new_u64(token),
            epoll_flags(interest),
        )?;
        Ok(())
    }

    /// Stops watching `socket`. (Closing a socket also removes it, once no other descriptor
    /// refers to the same open socket; we delete explicitly so that the lesson shows it.)
    ///
    /// This function directly corresponds to `epoll_ctl(EPOLL_CTL_DEL)`.
    pub fn delete(&self, socket: &impl AsFd) -> io::Result<()> {
        rustix::event::epoll::delete(&self.fd, socket)?;
        Ok(())
    }

    /// Waits until at least one watched socket is ready, or `timeout` passes (`None`: for ever),
    /// and returns the ready ones as `(token, what happened)`: an empty list after a timeout.
    /// A signal that interrupts the wait (`EINTR`) also returns an empty list.
    ///
    /// This function directly corresponds to the `epoll_wait(2)` system call.
    pub fn wait(&mut self, timeout: Option<Duration>) -> io::Result<Vec<(u64, Ready)>> {
        use rustix::event::epoll::{self, EventFlags};
        self.events.clear();
        let timeout = timespec(timeout)?;
        match epoll::wait(
            &self.fd,
            rustix::buffer::spare_capacity(&mut self.events),
            timeout.as_ref(),
        ) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Ok(Vec::new()),
            Err(error) => return Err(error.into()),
        }
        Ok(self
            .events
            .iter()
            .map(|event| {
                // `Event` is a packed struct on x86-64: we copy its fields out.
                let (flags, data) = (event.flags, event.data);
                let ready = Ready {
                    readable: flags.contains(EventFlags::IN),
                    writable: flags.contains(EventFlags::OUT),
                    hung_up: flags.contains(EventFlags::HUP),
                    error: flags.contains(EventFlags::ERR),
                };
                (data.u64(), ready)
            })
            .collect())
    }
}
// ANCHOR_END: epoll

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn epoll_reports_a_waiting_client_with_its_token() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut epoll = Epoll::new(8).unwrap();
        epoll.add(&listener, 7, Interest::Read).unwrap();
        assert!(
            epoll.wait(Some(Duration::ZERO)).unwrap().is_empty(),
            "nobody connected yet"
        );
        let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let ready = epoll.wait(Some(Duration::from_secs(10))).unwrap();
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].0, 7);
        assert!(ready[0].1.readable);
        // Level-triggered: still reported, because nobody accepted.
        assert_eq!(epoll.wait(Some(Duration::ZERO)).unwrap().len(), 1);
        epoll.delete(&listener).unwrap();
        assert!(epoll.wait(Some(Duration::ZERO)).unwrap().is_empty());
    }

    #[test]
    fn poll_times_out_then_sees_data() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let quiet = poll_one(&server, Interest::Read, Some(Duration::from_millis(1))).unwrap();
        assert_eq!(quiet, Ready::default());
        std::io::Write::write_all(&mut &client, b"x").unwrap();
        let ready = poll_one(&server, Interest::Read, Some(Duration::from_secs(10))).unwrap();
        assert!(ready.readable);
        assert!(
            poll_one(&client, Interest::Write, Some(Duration::ZERO))
                .unwrap()
                .writable
        );
    }
}
