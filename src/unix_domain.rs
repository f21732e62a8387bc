//! Unix-domain sockets: `AF_UNIX`, "for communication between processes on the same machine", as
//! the tutorial says. Unix only (Linux, macOS, the BSDs).
//!
//! The calls are the ones of TCP (socket, bind, listen, accept, connect, send, recv, close); only
//! the address changes. Instead of (host, port) it is a *path*, like `/tmp/socket-steps.sock`.
//! What surprises everybody once:
//! - `bind(2)` creates a file of type "socket" at that path (`ls -l` shows `srwxr-xr-x`), and
//!   closing the socket does **not** remove it. A server that restarts gets `AddrInUse` until the
//!   file is gone. [`prepare_path`] removes it, but only when it is safe: it is a socket and nobody
//!   answers on it.
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
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use socket2::{SockAddr, Socket};

use crate::step1_create::create_unix_socket;
use crate::step3_listen::listen;

/// Where `unix_echo_server` and `unix_echo_client` meet unless told otherwise. `/tmp` is writable
/// by every user and cleared at boot, which suits a socket file that may be left behind.
pub const DEFAULT_PATH: &str = "/tmp/socket-steps.sock";

/// What the binaries take instead of `HOST:PORT` ([`crate::cli::UnixPath`]): a path, or `@name`
/// for a Linux abstract name; without one, [`DEFAULT_PATH`].
pub fn path_or_default(path: Option<PathBuf>) -> PathBuf {
    path.unwrap_or_else(|| PathBuf::from(DEFAULT_PATH))
}

/// What [`prepare_path`] found at the path a server wants to bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathState {
    /// Nothing there: `bind` will create the socket file.
    Free,
    /// A socket file nobody answers on, left by a server that stopped: we removed it.
    RemovedStale,
    /// A socket file on which a server answers: another server is running; we left it alone.
    InUse,
    /// Something that is not a socket (a regular file, a directory): we never remove that.
    NotASocket,
}

// ANCHOR: prepare_path
/// Makes `path` ready for `bind`: removes a *stale* socket file, and only that.
///
/// A socket file is stale when connecting to it is refused (`ECONNREFUSED`): the file is there but
/// no socket listens behind it. If a server answers, or the path is not a socket at all, we leave
/// it alone and say so: deleting another server's socket file would silently cut it off from new
/// clients, and deleting a regular file would be worse.
///
/// This function corresponds to `lstat(2)`, `connect(2)` and `unlink(2)`.
pub fn prepare_path(path: &Path) -> io::Result<PathState> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(PathState::Free),
        Err(error) => return Err(error),
    };
    if !metadata.file_type().is_socket() {
        return Ok(PathState::NotASocket);
    }
    match UnixStream::connect(path) {
        Ok(_probe) => Ok(PathState::InUse),
        Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path)?;
            Ok(PathState::RemovedStale)
        }
        Err(error) => Err(error),
    }
}
// ANCHOR_END: prepare_path

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
pub fn connect_abstract(name: &[u8]) -> io::Result<UnixStream> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
    UnixStream::connect_addr(&addr)
}
// ANCHOR_END: bind_abstract

/// The path to use for `text` given on the command line: `@name` means the abstract `name`.
pub fn abstract_name(text: &Path) -> Option<&[u8]> {
    text.to_str()?.strip_prefix('@').map(str::as_bytes)
}
