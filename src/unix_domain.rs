//! Unix-domain sockets: `AF_UNIX`, "for communication between processes on the same machine", as
//! the tutorial says. Unix only (Linux, macOS, the BSDs).
//!
//! The calls are the ones of TCP (socket, bind, listen, accept, connect, send, recv, close); only
//! the address changes. Instead of (host, port) it is a *path*, like `/tmp/socket-steps.sock`.
//! What surprises everybody once:
//! - `bind(2)` creates a file of type "socket" at that path (`ls -l` shows `srwxr-xr-x`), and
//!   closing the socket does **not** remove it. A server that restarts gets `AddrInUse` until the
//!   file is gone. [`claim_path`] removes it, but only when it is safe: our own server made it
//!   and has stopped (a lock beside it, `PATH.lock`, is free).
//! - On Linux, file permissions apply: a client needs write permission on the socket file to
//!   connect. Some systems ignore them (unix(7)): portable programs do not rely on them.
//! - On Linux, a name that starts with a NUL byte lives in the *abstract namespace*: no file at
//!   all, and the name disappears with the last socket ([`bind_abstract`], written `@name` by `ss`
//!   and by our binaries).
//! - `UnixDatagram` keeps message boundaries like UDP, and `UnixDatagram::pair()` (`socketpair(2)`)
//!   gives two connected sockets without any name: the usual way for a parent and its child.
//!
//! std spelling: `std::os::unix::net::{UnixListener, UnixStream, UnixDatagram}`.

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use socket2::{SockAddr, Socket};

use crate::step1_create::create_unix_socket;
use crate::step3_listen::listen;
use crate::step5_process::{recv, send_all_within, RECV_SIZE};

/// The file name our server and client meet at unless told otherwise, in [`default_path`]'s
/// directory.
pub const DEFAULT_NAME: &str = "socket-steps.sock";

/// Where `unix_echo_server` and `unix_echo_client` meet unless told otherwise: a place of this
/// user's own.
///
/// A shared place such as `/tmp/socket-steps.sock` can be taken by another user first, and our
/// client would then print that user's answers as our server's. So we use
/// `$XDG_RUNTIME_DIR/socket-steps.sock` (a directory only this user may enter, made by the login
/// session, e.g. `/run/user/1000`) and, where there is none, a per-user name in the temporary
/// directory, `/tmp/socket-steps-1000.sock` (1000 being this user's id).
pub fn default_path() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) if !dir.is_empty() && Path::new(&dir).is_dir() => {
            Path::new(&dir).join(DEFAULT_NAME)
        }
        _ => std::env::temp_dir().join(format!(
            "socket-steps-{}.sock",
            rustix::process::getuid().as_raw()
        )),
    }
}

/// What the binaries take instead of `HOST:PORT` ([`crate::cli::UnixPath`]): a path, or `@name`
/// for a Linux abstract name; without one, [`default_path`].
pub fn path_or_default(path: Option<PathBuf>) -> PathBuf {
    path.unwrap_or_else(default_path)
}

/// The user id that owns the socket file at `path`, if it is not ours: then whoever answers
/// there is another user's program.
pub fn someone_elses(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::symlink_metadata(path).ok()?.uid();
    (owner != rustix::process::getuid().as_raw()).then_some(owner)
}

/// What [`claim_path`] found at the path a server wants to bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathState {
    /// Nothing there: `bind` will create the socket file.
    Free,
    /// A socket file left by an earlier server of ours, which has stopped (its lock was free): we
    /// removed it.
    RemovedStale,
    /// A socket file that is not ours, removed because the user asked (`--replace`).
    Replaced,
    /// Another server of ours holds the lock: it is serving on this path; we left it alone.
    InUse,
    /// A socket file that is not ours (no lock file beside it): we left it alone, and tell what a
    /// probe found.
    NotOurs(Probe),
    /// Something that is not a socket (a regular file, a directory): we never remove that.
    NotASocket,
}

/// What a non-blocking `connect(2)` to a socket file found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// A server accepted the connection: somebody serves on this path.
    Answers,
    /// Somebody listens, but its accept queue is full (`EAGAIN`): a busy server.
    Busy,
    /// Refused (`ECONNREFUSED`): nobody listens, or a socket is bound there but not listening yet.
    Refused,
}

/// The lock a server holds while it serves a path: `flock(2)` on `PATH.lock`, beside the socket
/// file. The kernel releases it when the server's process ends, however it ends (Ctrl-C, a
/// crash), so a free lock means "the server that made this socket file has stopped".
#[derive(Debug)]
pub struct ServerLock {
    /// The open lock file; closing it releases the lock.
    pub file: std::fs::File,
    /// Where the lock file is: `PATH.lock`.
    pub path: PathBuf,
}

impl ServerLock {
    /// Writes into the lock file which socket file we bound at `path` (see [`file_id`]), so that
    /// a later [`claim_path`] can tell our socket file from one that somebody else put at the
    /// same path after we stopped.
    pub fn mark(&mut self, path: &Path) -> io::Result<()> {
        use std::io::Write;
        let socket_file = std::fs::symlink_metadata(path)?;
        self.file.set_len(0)?;
        writeln!(self.file, "{}", file_id(&socket_file))
    }
}

/// Which file this is, as the lock file records it: its device and inode numbers, and when its
/// inode was made or last changed (ctime). The numbers alone are not enough: once our socket file
/// is removed, the file system gives its inode number to the next new file, so a socket that
/// another program binds at the same path may well have the same device and inode numbers
/// (seen on ext4); its ctime is its own.
fn file_id(metadata: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!(
        "{} {} {}.{:09}",
        metadata.dev(),
        metadata.ino(),
        metadata.ctime(),
        metadata.ctime_nsec()
    )
}

/// The lock file of the socket file `path`: the same name with `.lock` added.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

// ANCHOR: prepare_path
/// Makes `path` ready for `bind`, safely: takes our lock, and removes a socket file only when it
/// is ours and stale (or `replace` says so).
///
/// First the lock, `PATH.lock` beside the socket file, with `flock(2)` (`LOCK_EX | LOCK_NB`: never
/// waits). If another server of ours holds it, that server is serving here: [`PathState::InUse`].
/// With the lock ours, a socket file is stale when the lock file names it: an earlier server of
/// ours bound it, wrote its device and inode numbers and its ctime there ([`ServerLock::mark`]),
/// and has stopped. Any other socket file is somebody else's: we never remove it unless
/// `replace` (`--replace`), and we tell what a non-blocking `connect` finds there ([`Probe`]). A
/// path that is not a socket is never removed, and is refused before we make a lock file beside
/// it.
///
/// Asking "does connecting fail?" is not enough: a socket that is bound but not listening yet
/// refuses too, and a busy server's full accept queue would make a blocking probe wait.
///
/// The lock file stays behind after the server, like the socket file.
///
/// This function corresponds to `open(2)`, `flock(2)`, `lstat(2)`, `connect(2)` and `unlink(2)`.
pub fn claim_path(path: &Path, replace: bool) -> io::Result<(Option<ServerLock>, PathState)> {
    // What we would never bind, we refuse before we make a lock file beside it: a path too long
    // for an address, and a path that is not a socket (`/tmp` would get a `/tmp.lock`).
    SockAddr::unix(path)?;
    if std::fs::symlink_metadata(path).is_ok_and(|metadata| !metadata.file_type().is_socket()) {
        return Ok((None, PathState::NotASocket));
    }
    let lock_path = lock_path(path);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false) // it may hold what the last server of ours bound
        .open(&lock_path)?;
    use rustix::fs::{flock, FlockOperation};
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(rustix::io::Errno::WOULDBLOCK) => return Ok((None, PathState::InUse)),
        Err(errno) => return Err(errno.into()),
    }
    let lock = ServerLock {
        file,
        path: lock_path,
    };
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Ok((Some(lock), PathState::Free))
        }
        Err(error) => return Err(error),
    };
    // Ours if the lock file names this very file, as `ServerLock::mark` wrote it.
    let recorded = std::fs::read_to_string(&lock.path).unwrap_or_default();
    let ours = recorded.trim() == file_id(&metadata);
    let state = if !metadata.file_type().is_socket() {
        PathState::NotASocket
    } else if ours {
        std::fs::remove_file(path)?;
        PathState::RemovedStale
    } else if replace {
        std::fs::remove_file(path)?;
        PathState::Replaced
    } else {
        PathState::NotOurs(probe(path)?)
    };
    Ok((Some(lock), state))
}
// ANCHOR_END: prepare_path

/// Connects to `path` without waiting (`O_NONBLOCK`), to learn whether somebody serves there.
pub fn probe(path: &Path) -> io::Result<Probe> {
    let socket = create_unix_socket()?;
    socket.set_nonblocking(true)?;
    match socket.connect(&SockAddr::unix(path)?) {
        Ok(()) => Ok(Probe::Answers),
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(Probe::Busy),
        Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => Ok(Probe::Refused),
        Err(error) => Err(error),
    }
}

// ANCHOR: bind_unix
/// Creates a Unix-domain stream socket and binds it to `path`, which creates the socket file.
/// Fails with `AddrInUse` if anything exists at `path`, even a stale socket file.
///
/// This function corresponds to the `socket(2)` and `bind(2)` system calls.
pub fn bind_unix(path: &Path) -> io::Result<Socket> {
    let socket = create_unix_socket()?;
    socket.bind(&SockAddr::unix(path)?)?;
    Ok(socket)
}
// ANCHOR_END: bind_unix

/// Steps 1 to 3 for a path: create, bind (creating the file) and listen with `backlog`.
/// This is what std's `UnixListener::bind(path)` does (with a backlog of 128).
pub fn listening_socket(path: &Path, backlog: i32) -> io::Result<Socket> {
    let socket = bind_unix(path)?;
    listen(&socket, backlog)?;
    Ok(socket)
}

/// Connects to the server listening on `path`.
///
/// This function corresponds to the `socket(2)` and `connect(2)` system calls.
pub fn connect(path: &Path) -> io::Result<Socket> {
    let socket = create_unix_socket()?;
    socket.connect(&SockAddr::unix(path)?)?;
    Ok(socket)
}

/// How a Unix-domain address is shown to the reader: the path, `@name` for an abstract name, or
/// `(unnamed)` for a socket that never bound (most clients: their kernel does not need a name
/// to send the reply back, unlike TCP's ephemeral port).
pub fn describe_addr(addr: &SockAddr) -> String {
    if let Some(path) = addr.as_pathname() {
        return path.display().to_string();
    }
    if let Some(name) = addr.as_abstract_namespace() {
        return format!("@{}", String::from_utf8_lossy(name));
    }
    "(unnamed)".to_string()
}

// ANCHOR: bind_abstract
/// Listens on `name` in Linux's abstract namespace: no file is created, nothing is left behind
/// when the socket closes, and file permissions do not apply (any local user can connect).
/// Linux only.
///
/// This function corresponds to `socket(2)`, `bind(2)` with a `sun_path` that starts with a NUL
/// byte, and `listen(2)`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn bind_abstract(name: &[u8]) -> io::Result<std::os::unix::net::UnixListener> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
    std::os::unix::net::UnixListener::bind_addr(&addr)
}

/// Connects to the abstract name `name` (Linux only).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn connect_abstract(name: &[u8]) -> io::Result<std::os::unix::net::UnixStream> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
    std::os::unix::net::UnixStream::connect_addr(&addr)
}
// ANCHOR_END: bind_abstract

/// The path to use for `text` given on the command line: `@name` means the abstract `name`,
/// whatever bytes follow the `@` (a path need not be UTF-8, nor need a name).
pub fn abstract_name(text: &Path) -> Option<&[u8]> {
    use std::os::unix::ffi::OsStrExt;
    text.as_os_str().as_bytes().strip_prefix(b"@")
}

/// What [`serve_forever`] did, for the server's log: each call, as the seed's server makes it.
#[derive(Debug)]
pub enum Event<'a> {
    /// `accept` returned a connection from `peer`.
    Accepted(&'a Socket, SockAddr),
    /// `recv` returned these bytes; none means the client closed its side (end of file).
    Received(&'a Socket, &'a [u8]),
    /// The whole reply of this many bytes was sent.
    Sent(&'a Socket, usize),
    /// The connection failed, e.g. the client did not take its reply within the write timeout;
    /// the server goes on with the next client.
    Failed(&'a Socket, io::Error),
    /// We are about to close the connection (`close(2)`).
    Closing(&'a Socket),
    /// `accept` failed, e.g. out of file descriptors (`EMFILE`), for the `n`th time in a row; we
    /// wait [`ACCEPT_RETRY`](crate::echo::ACCEPT_RETRY) and try again.
    AcceptFailed(io::Error, u64),
}

/// The seed's server loop over a Unix-domain socket: accept, then `recv(1024)` and send the
/// prefixed piece back until the client closes, then the next client. One client at a time.
///
/// Each reply must be taken within `write_timeout`, as in the TCP `echo_server`: a client that
/// sends much and never reads would otherwise keep every other client waiting. `clients` limits
/// how many clients to serve before returning (`None`: forever).
pub fn serve_forever(
    listener: &Socket,
    clients: Option<usize>,
    write_timeout: Duration,
    mut log: impl FnMut(Event),
) {
    let mut served = 0;
    while clients.map_or(true, |limit| served < limit) {
        // accept(2): socket2's `accept` gives the peer's Unix-domain address (`SockAddr`).
        let (connection, peer) = crate::echo::accept_retrying(
            || listener.accept(),
            |error, repeats| log(Event::AcceptFailed(error, repeats)),
        );
        served += 1;
        log(Event::Accepted(&connection, peer));
        if let Err(error) = serve_connection(&connection, write_timeout, &mut log) {
            log(Event::Failed(&connection, error));
        }
        log(Event::Closing(&connection));
    }
}

/// One client: `recv(1024)` until end of file, each piece sent back with the seed's prefix.
fn serve_connection(
    connection: &Socket,
    write_timeout: Duration,
    log: &mut impl FnMut(Event),
) -> io::Result<()> {
    loop {
        let piece = recv(connection, RECV_SIZE)?;
        log(Event::Received(connection, &piece));
        if piece.is_empty() {
            return Ok(());
        }
        let reply = crate::echo::reply_to(&piece);
        send_all_within(connection, &reply, write_timeout)?;
        log(Event::Sent(connection, reply.len()));
    }
}
