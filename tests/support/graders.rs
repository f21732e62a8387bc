//! The graders of the classroom's server exercises (8.1, 8.2, 14.3, 15.1, 17.3) share one way of
//! running the student's function and the clients they play against it: this file.
//!
//! Each grader starts the student's function in a thread on a fresh listener ([`in_thread`]),
//! plays clients against it, then checks what the function returned ([`InThread::returned`]).
//! A wrong answer may never return, so every wait has a deadline, and the failure message says
//! which function did not return after what. Only the function and its arguments, and the
//! checks, are each exercise's own. Other tests play the same clients against the programs
//! (`tests/faults.rs`).

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use socket2::Socket;

/// How long a grader waits for what a wrong answer may never do (return, answer). Far longer
/// than a right answer takes on loopback (milliseconds), and shorter than [`super::LIMIT`], the
/// timeout that a grader's connections inherit ([`in_thread`]): so a wrong answer is seen as one
/// before a timeout of ours can rescue it.
pub const SOON: Duration = Duration::from_secs(10);

/// The student's function, running in a thread of its own on a fresh listener: a grader connects
/// its clients to [`addr`](InThread::addr), then asks what the function returned.
pub struct InThread<T> {
    /// Where the listener listens (127.0.0.1, a port the kernel chose).
    pub addr: SocketAddr,
    /// The function's name, for the failure messages.
    name: &'static str,
    /// What the function returned, once it has.
    returned: mpsc::Receiver<T>,
}

/// Starts `serve`, the student's function called `name`, in a thread, on a listener on
/// `127.0.0.1:0` made with the crate's own steps (so the kernel picks a free port, and tests
/// running at the same time never collide).
///
/// `accept_timeout`, when given, is the listener's `SO_RCVTIMEO`: on Linux it bounds a blocking
/// `accept`, and every connection accepted inherits it, so that a wrong answer stuck in `accept`
/// or `recv` ends by itself instead of keeping a thread for ever. Exercise 17.3 passes `None`:
/// its wrong answer serves one client at a time, and a `recv` that gives up on an idle client by
/// itself could let that answer reach the second client before the grader's deadline.
pub fn in_thread<T: Send + 'static>(
    name: &'static str,
    accept_timeout: Option<Duration>,
    serve: impl FnOnce(&Socket) -> T + Send + 'static,
) -> InThread<T> {
    use socket_steps::{step2_bind, step3_listen};
    // A backlog above any grader's clients: every client it connects waits in the accept queue.
    let listener = step3_listen::listening_socket("127.0.0.1:0".parse().unwrap(), 16).unwrap();
    let addr = step2_bind::local_addr(&listener).unwrap();
    listener.set_read_timeout(accept_timeout).unwrap();
    let (done, returned) = mpsc::channel();
    thread::spawn(move || {
        // The grader may have failed and gone already: then nobody is left to tell.
        let _ = done.send(serve(&listener));
    });
    InThread {
        addr,
        name,
        returned,
    }
}

impl<T> InThread<T> {
    /// What the function returned, waiting at most `limit`; otherwise the test fails with
    /// "`name` did not return within `limit` after `what`" (what the clients did last, e.g. "its
    /// client closed"), so the student knows which function to look at, and when it hung.
    ///
    /// A function that panicked (a `todo!()`) never returns: the test fails the same way at once,
    /// after the panic's own message.
    #[track_caller]
    pub fn returned(self, limit: Duration, what: &str) -> T {
        let name = self.name;
        self.returned
            .recv_timeout(limit)
            .unwrap_or_else(|_| panic!("{name} did not return within {limit:?} after {what}"))
    }

    /// What the function has returned already, if it has: a failure message about a client says
    /// with it whether the server gave up early, without waiting.
    pub fn returned_yet(&self) -> Option<T> {
        self.returned.try_recv().ok()
    }
}

/// A client that sends up to 10 MB and never reads: once the replies fill its receive buffer and
/// the server's send buffer, the server's `send` blocks. Without a write timeout it would block
/// for ever, and (for a server of one client at a time) so would every later client. Returns the
/// connection, still open and never read: the caller keeps it while the next client asks, so the
/// server must give up on it by itself.
///
/// We set the smallest receive buffer the kernel allows (`SO_RCVBUF`) before connect, so that it
/// also limits the TCP window: the server's replies fill it at once (setting it also turns off
/// Linux's buffer autotuning), and the window opens a few bytes at a time, so that a timeout per
/// `send` call, instead of a deadline per reply, would be renewed for ever. Then we send `chunk`
/// again and again, each send with a 500 ms timeout, until one times out (the server stopped
/// reading: its receive buffer and our send buffer are full), fails (the server gave up and
/// closed), or 10 MB went out.
pub fn flood_without_reading(addr: SocketAddr, chunk: &[u8]) -> Socket {
    let socket = Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(1).unwrap();
    socket.connect_timeout(&addr.into(), super::LIMIT).unwrap();
    socket
        .set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut sent = 0;
    while sent < 10_000_000 {
        match socket.send(chunk) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    socket
}

/// What the tutorial's own client (`tests/python/seed_client.py`, the seed's client in Python 3)
/// printed, run with `python` against the server at `addr`; the test fails if it did not succeed.
/// The grader compares the output with the seed's, in its own words.
pub fn seed_client_output(python: &str, addr: SocketAddr) -> String {
    let port = addr.port().to_string();
    let seed_client = super::python_file("seed_client.py");
    let output = super::run(python, &[&seed_client, "127.0.0.1", &port]);
    super::assert_success(&output);
    super::stdout(&output)
}

/// Closes `stream` with a reset (RST) instead of the usual end of file (FIN): with `SO_LINGER`
/// set to 0, `close` throws away what is unsent and resets the connection, so that the server's
/// next `recv` fails with ECONNRESET.
pub fn reset(stream: std::net::TcpStream) {
    let socket = Socket::from(stream);
    socket.set_linger(Some(Duration::ZERO)).unwrap();
    drop(socket);
}
