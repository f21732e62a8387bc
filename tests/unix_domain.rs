//! Unix-domain sockets: a path for an address, a file that outlives the server, and (on Linux)
//! names without files. The book's "Unix-domain sockets" chapter includes these tests.
#![cfg(unix)]

mod echo_support;
mod support;

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

use socket_steps::step5_process::{recv, send_all};
use socket_steps::step6_close::close;
use socket_steps::unix_domain::{self, claim_path, PathState, Probe};

const PATIENCE: Duration = Duration::from_secs(10);

/// A fresh path for one test, `NAME.sock` in a new temporary directory (`tempfile`), which is
/// removed with everything in it when the test ends, passed or failed.
struct FreshPath {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl AsRef<std::path::Path> for FreshPath {
    fn as_ref(&self) -> &std::path::Path {
        &self.path
    }
}

impl std::ops::Deref for FreshPath {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.path
    }
}

fn fresh_path(name: &str) -> FreshPath {
    let dir = tempfile::tempdir().expect("a temporary directory");
    FreshPath {
        path: dir.path().join(format!("{name}.sock")),
        _dir: dir,
    }
}

/// Waits until connecting to `path` is refused: nobody listens behind the file any more.
///
/// Right after `close` this is normally true at once. We still poll (with a deadline) because
/// other tests of this file start programs: between `fork` and `exec` a child briefly holds a
/// copy of every descriptor, so the kernel closes our socket only when that copy goes.
fn wait_until_stale(path: &std::path::Path) {
    let what = format!("{} refusing connections", path.display());
    support::poll_until(&what, PATIENCE, || match unix_domain::connect(path) {
        Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => Some(()),
        _ => None,
    })
}

// ANCHOR: file_outlives
#[test]
fn the_socket_file_outlives_the_server() -> io::Result<()> {
    let path = fresh_path("outlives");
    let server = unix_domain::listening_socket(&path, 5)?;
    assert!(
        std::fs::symlink_metadata(&path)?.file_type().is_socket(),
        "bind created a socket file"
    );
    close(server);
    assert!(path.exists(), "close does not remove it");
    let error = unix_domain::bind_unix(&path).expect_err("the old file is in the way");
    assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
    // Nobody answers on it any more: connecting is refused.
    wait_until_stale(&path);
    std::fs::remove_file(&path)
}
// ANCHOR_END: file_outlives

// ANCHOR: prepare
#[test]
fn claim_path_removes_only_a_stale_socket_of_ours() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("echo.sock");
    let (lock, state) = claim_path(&path, false)?;
    assert_eq!(state, PathState::Free);
    let server = unix_domain::listening_socket(&path, 5)?;
    let mut lock = lock.expect("the lock is ours");
    lock.mark(&path)?; // this socket file is ours
    assert_eq!(
        claim_path(&path, false)?.1,
        PathState::InUse,
        "our server holds the lock: hands off"
    );
    assert!(path.exists());

    // The server stops (a crash, Ctrl-C): the kernel releases its lock, the file stays.
    drop((lock, server));
    let (_lock, state) = claim_path(&path, false)?;
    assert_eq!(state, PathState::RemovedStale, "ours, and its lock is free");
    assert!(!path.exists());
    unix_domain::listening_socket(&path, 5)?; // and bind works again

    let precious = dir.path().join("notes.txt");
    std::fs::write(&precious, "precious data")?;
    assert_eq!(
        claim_path(&precious, true)?.1,
        PathState::NotASocket,
        "a regular file is never removed, not even with --replace"
    );
    assert_eq!(std::fs::read_to_string(&precious)?, "precious data");
    Ok(())
}
// ANCHOR_END: prepare

/// A socket another program has bound but not yet listens on refuses connections, like a stale
/// file; it is not ours (no lock beside it), so it is left alone.
#[test]
fn a_socket_that_is_not_ours_is_kept_unless_replace_says_so() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("theirs.sock");
    let _bound = unix_domain::bind_unix(&path)?; // bound, not listening
    let (lock, state) = claim_path(&path, false)?;
    assert_eq!(state, PathState::NotOurs(Probe::Refused));
    assert!(path.exists(), "not removed");
    drop(lock);
    assert_eq!(
        claim_path(&path, false)?.1,
        PathState::NotOurs(Probe::Refused),
        "a lock file left by our first look does not make it ours"
    );
    let (_lock, state) = claim_path(&path, true)?;
    assert_eq!(state, PathState::Replaced);
    assert!(!path.exists());
    Ok(())
}

/// Once our stale socket file is removed (by hand, or by a cleaner of /tmp), the file system gives
/// its inode number to the next new file: a socket that another program then binds at the same
/// path may have the very device and inode numbers that our lock file records (seen on ext4:
/// our server removed that program's live socket as "a stale socket file of ours"). We make that
/// case for sure by writing the other socket's numbers into our lock file where ours were; what
/// else the lock file records about our file must still tell the two apart.
#[test]
fn a_socket_that_took_the_inode_number_of_ours_is_not_ours() -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("reused.sock");
    let (lock, _) = claim_path(&path, false)?;
    let mut lock = lock.expect("the lock is ours");
    let server = unix_domain::listening_socket(&path, 5)?;
    lock.mark(&path)?;
    let ours = std::fs::symlink_metadata(&path)?;
    let lock_path = lock.path.clone();
    drop((lock, server));
    wait_until_stale(&path);
    std::fs::remove_file(&path)?;
    // A real server runs for a while before it stops; here we wait until the file system's clock
    // (coarse: a few milliseconds) has moved on since our file was made.
    let probe = dir.path().join("clock");
    support::poll_until("the file system's clock to move", PATIENCE, || {
        std::fs::write(&probe, "").ok()?;
        let now = std::fs::metadata(&probe).ok()?;
        ((now.ctime(), now.ctime_nsec()) != (ours.ctime(), ours.ctime_nsec())).then_some(())
    });
    let _theirs = unix_domain::listening_socket(&path, 5)?;
    let theirs = std::fs::symlink_metadata(&path)?;
    // The lock file starts with the device and inode numbers: put theirs there.
    let recorded = std::fs::read_to_string(&lock_path)?;
    let rest: Vec<&str> = recorded.split_whitespace().skip(2).collect();
    let forged = [theirs.dev().to_string(), theirs.ino().to_string()]
        .into_iter()
        .chain(rest.iter().map(|s| s.to_string()))
        .collect::<Vec<_>>()
        .join(" ");
    std::fs::write(&lock_path, format!("{forged}\n"))?;
    let (_lock, state) = claim_path(&path, false)?;
    assert_eq!(
        state,
        PathState::NotOurs(Probe::Answers),
        "the other program's live socket was taken for ours (lock file: {forged})"
    );
    assert!(path.exists(), "the other program's socket file was removed");
    Ok(())
}

/// A busy server's full accept queue would make a blocking `connect` wait; our probe does not.
#[test]
fn the_probe_of_a_busy_server_does_not_wait() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("busy.sock");
    let _listener = unix_domain::listening_socket(&path, 0)?;
    // Fill the queue until a non-blocking connect is told to try again (EAGAIN).
    let mut queued = Vec::new();
    loop {
        let client = socket_steps::step1_create::create_unix_socket()?;
        client.set_nonblocking(true)?;
        match client.connect(&socket2::SockAddr::unix(&path)?) {
            Ok(()) => queued.push(client),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
            Err(error) => return Err(error),
        }
        assert!(queued.len() < 1000, "the accept queue never filled");
    }
    assert_eq!(unix_domain::probe(&path)?, Probe::Busy);
    assert_eq!(claim_path(&path, false)?.1, PathState::NotOurs(Probe::Busy));
    Ok(())
}

#[test]
fn a_unix_stream_carries_bytes_like_tcp() -> io::Result<()> {
    let path = fresh_path("stream");
    let listener = unix_domain::listening_socket(&path, 5)?;
    let client = unix_domain::connect(&path)?;
    let (connection, peer) = listener.accept()?;
    assert_eq!(
        unix_domain::describe_addr(&peer),
        "(unnamed)",
        "the client never bound a name"
    );
    connection.set_read_timeout(Some(PATIENCE))?;
    send_all(&client, b"Hello network world")?;
    assert_eq!(recv(&connection, 1024)?, b"Hello network world");
    std::fs::remove_file(&path)
}

/// `@` then any bytes is an abstract name, as any bytes are a path: `@caf\xe9` (Latin-1) made a
/// file named `@caf\xe9` in the server and was taken for an abstract name in the client's error.
#[test]
fn an_abstract_name_need_not_be_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let latin1 = std::path::Path::new(std::ffi::OsStr::from_bytes(b"@caf\xe9"));
    assert_eq!(unix_domain::abstract_name(latin1), Some(&b"caf\xe9"[..]));
    assert_eq!(
        unix_domain::abstract_name(std::path::Path::new("caf.sock")),
        None
    );
}

// ANCHOR: abstract
#[test]
#[cfg(target_os = "linux")]
fn an_abstract_name_leaves_no_file() -> io::Result<()> {
    let name = format!("socket-steps-{}-abstract", std::process::id());
    let listener = unix_domain::bind_abstract(name.as_bytes())?;
    let mut client = unix_domain::connect_abstract(name.as_bytes())?;
    let (mut connection, _) = listener.accept()?;
    connection.set_read_timeout(Some(PATIENCE))?;
    std::io::Write::write_all(&mut client, b"no file")?;
    let mut buffer = [0; 7];
    std::io::Read::read_exact(&mut connection, &mut buffer)?;
    assert_eq!(&buffer, b"no file");
    assert!(!std::path::Path::new(&name).exists() && !std::env::temp_dir().join(&name).exists());
    drop((listener, client, connection));
    // The name went away with the last socket: binding it again just works.
    bind_again(name.as_bytes())
}
// ANCHOR_END: abstract

/// Binds the abstract `name` again. Another test of this process may be starting a program at
/// this instant: between its fork and its exec, the child holds a copy of our descriptors, so the
/// name stays taken for that moment. We allow the kernel that moment, and no more.
#[cfg(target_os = "linux")]
fn bind_again(name: &[u8]) -> io::Result<()> {
    let bound =
        socket_steps::experiments::poll_until(PATIENCE, || {
            match unix_domain::bind_abstract(name) {
                Err(error) if error.kind() == io::ErrorKind::AddrInUse => None,
                other => Some(other.map(drop)),
            }
        });
    // Still taken after PATIENCE: the last try's error.
    bound.unwrap_or_else(|| unix_domain::bind_abstract(name).map(drop))
}

// ANCHOR: datagram_pair
#[test]
fn unix_datagrams_keep_boundaries_and_lose_tails() -> io::Result<()> {
    // socketpair(2): two connected sockets, no name, no file.
    let (left, right) = UnixDatagram::pair()?;
    right.set_read_timeout(Some(PATIENCE))?;
    left.send(b"one")?;
    left.send(b"two")?;
    left.send(b"0123456789")?;
    left.send(b"next")?;
    let mut buffer = [0; 4];
    let mut receive = || right.recv(&mut buffer).map(|n| buffer[..n].to_vec());
    assert_eq!(receive()?, b"one", "two sends, two receives");
    assert_eq!(receive()?, b"two");
    assert_eq!(receive()?, b"0123", "cut to the 4-byte buffer...");
    assert_eq!(receive()?, b"next", "...and the tail is gone");
    Ok(())
}
// ANCHOR_END: datagram_pair

/// A Unix-domain server, started with the tests' one harness for servers (killed when dropped,
/// so that a failing test leaves none behind); `addr` is the path it announced.
type Server = support::Server<PathBuf>;

/// Starts `unix_echo_server` with `args` (the path first) and waits until it listens.
fn start_unix_server(args: &[&str]) -> Server {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_unix_echo_server"));
    command.args(args);
    support::start_server_with(command)
}

#[test]
fn the_unix_echo_pair_talks_and_a_restart_removes_the_stale_file() {
    let path = fresh_path("echo-pair");
    let shown = path.to_str().unwrap();
    let server = start_unix_server(&[shown]);
    let output = support::run(
        env!("CARGO_BIN_EXE_unix_echo_client"),
        &[shown, "Hello network world"],
    );
    support::assert_success(&output);
    let out = support::stdout(&output);
    assert!(
        out.contains("Client received: '|From Server| Hello network world'"),
        "{out}"
    );
    server.wait_for("recv(fd 5) -> 19 bytes");

    // A second server on the same path refuses to take it over.
    let output = support::run(env!("CARGO_BIN_EXE_unix_echo_server"), &[shown]);
    let err = support::assert_clean_failure(&output);
    assert!(err.contains("another server is answering"), "{err}");

    // Kill the server: the file stays, the client is told it is stale, a new server removes it.
    server.stop();
    assert!(path.exists(), "the socket file outlived its server");
    let output = support::run(env!("CARGO_BIN_EXE_unix_echo_client"), &[shown]);
    let err = support::assert_clean_failure(&output);
    assert!(err.contains("no server listens on it"), "{err}");
    let server = start_unix_server(&[shown]);
    let output = support::run(env!("CARGO_BIN_EXE_unix_echo_client"), &[shown]);
    support::assert_success(&output);
    server.stop();
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn the_unix_server_never_removes_a_regular_file() {
    let path = fresh_path("regular");
    std::fs::write(&path, "keep me").unwrap();
    let output = support::run(
        env!("CARGO_BIN_EXE_unix_echo_server"),
        &[path.to_str().unwrap()],
    );
    let err = support::assert_clean_failure(&output);
    assert!(err.contains("is not a socket"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
    std::fs::remove_file(&path).unwrap();
}

/// A start that is refused leaves nothing behind: no `PATH.lock` beside a directory (`/tmp` would
/// get `/tmp.lock`) or a regular file, none beside a path too long to bind.
#[test]
fn a_refused_start_makes_no_lock_file() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_socket = dir.path().join("a-directory");
    std::fs::create_dir(&not_a_socket).unwrap();
    let too_long = dir.path().join("x".repeat(120));
    for (path, said) in [(&not_a_socket, "is not a socket"), (&too_long, "too long")] {
        let output = support::run(
            env!("CARGO_BIN_EXE_unix_echo_server"),
            &[path.to_str().unwrap()],
        );
        let err = support::assert_clean_failure(&output);
        assert!(err.contains(said), "{err}");
        let lock = unix_domain::lock_path(path);
        assert!(!lock.exists(), "{} was left behind", lock.display());
    }
}

#[test]
fn the_unix_client_without_a_server_says_what_to_do() {
    let path = fresh_path("missing");
    let output = support::run(
        env!("CARGO_BIN_EXE_unix_echo_client"),
        &[path.to_str().unwrap()],
    );
    let err = support::assert_clean_failure(&output);
    assert!(err.contains("there is no socket file"), "{err}");
}

/// The program refuses a socket file that another program bound, and keeps it; `--replace`
/// removes it and serves.
#[test]
fn the_unix_server_keeps_a_socket_that_is_not_ours() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("theirs.sock");
    let shown = path.to_str().unwrap();
    let _theirs = unix_domain::bind_unix(&path).unwrap(); // bound, not listening yet
    let output = support::run(env!("CARGO_BIN_EXE_unix_echo_server"), &[shown]);
    let err = support::assert_clean_failure(&output);
    assert!(
        err.contains("did not make, and nobody answers on it now"),
        "{err}"
    );
    assert!(err.contains("--replace"), "{err}");
    assert!(path.exists(), "their socket file is still there");
    let server = start_unix_server(&[shown, "--replace"]);
    let output = support::run(env!("CARGO_BIN_EXE_unix_echo_client"), &[shown]);
    support::assert_success(&output);
    server.stop();
}

/// A client that sends much and never reads its replies is given up after the write timeout, so
/// the next client is served (before the deadline existed, it waited for ever).
#[test]
fn a_client_that_never_reads_is_given_up_after_the_write_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deadline.sock");
    let shown = path.to_str().unwrap();
    let server = start_unix_server(&[shown, "--write-timeout=1s"]);
    let hog = unix_domain::connect(&path).unwrap();
    hog.set_write_timeout(Some(PATIENCE)).unwrap();
    // Much more than the buffers hold, and we never read a reply: once the server's replies fill
    // our receive buffer, its send waits, until its deadline. Our send then fails (the server
    // closed), which ends this thread.
    let hog = std::thread::spawn(move || {
        let _ = send_all(&hog, &vec![b'x'; 4_000_000]);
        hog
    });
    server.wait_for("failed: the client did not take our reply in time");
    let output = support::run(env!("CARGO_BIN_EXE_unix_echo_client"), &[shown, "next"]);
    support::assert_success(&output);
    assert!(support::stdout(&output).contains("'|From Server| next'"));
    drop(hog.join());
    server.stop();
}

/// Ctrl-Z, then `fg`, while the server waits to send a reply that the client is not reading yet.
/// On Linux the stop makes a `send` on a socket with a send timeout (`SO_SNDTIMEO`, which the
/// reply's deadline sets) fail with EINTR (signal(7)), and the server used to drop the client
/// with its replies. It must send again: every byte comes back.
#[cfg(target_os = "linux")]
#[test]
fn a_stop_and_continue_while_the_server_sends_loses_no_reply() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stopped.sock");
    let shown = path.to_str().unwrap();
    let server = start_unix_server(&[shown, "--write-timeout=60s"]);
    let client = unix_domain::connect(&path).unwrap();
    // We send, reading nothing, until our `send` would wait: then the server has stopped reading
    // us, because it waits in `send` for us to take its replies.
    client.set_nonblocking(true).unwrap();
    let chunk = [b'q'; 4096];
    let mut sent = Vec::new();
    support::poll_until("a send that would wait", PATIENCE, || {
        match client.send(&chunk) {
            Ok(n) => {
                sent.extend_from_slice(&chunk[..n]);
                None
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => Some(()),
            Err(error) => panic!("send: {error}"),
        }
    });
    let pid = server.child.id();
    support::stop_and_continue_when(pid, "the server asleep", || {
        let states = support::thread_states(pid);
        !states.is_empty() && states.iter().all(|&state| state == 'S')
    });
    // Now we read every reply; the server reads the rest of our bytes as we make room.
    client.set_nonblocking(false).unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut reply = Vec::new();
    io::Read::read_to_end(&mut &client, &mut reply).unwrap();
    echo_support::check_echo(&reply, &sent)
        .unwrap_or_else(|e| panic!("after a stop and continue: {e}"));
    server.stop();
}

/// Out of file descriptors (`EMFILE`), `accept` fails; the server says so and keeps trying
/// instead of exiting.
#[test]
fn out_of_descriptors_the_unix_server_retries_accept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emfile.sock");
    let shown = path.to_str().unwrap();
    // 0, 1, 2, the lock file and the listener: no descriptor is left for a connection.
    let mut command = std::process::Command::new("sh");
    command.arg("-c").arg(format!(
        "ulimit -n 5 && exec '{}' '{shown}'",
        env!("CARGO_BIN_EXE_unix_echo_server")
    ));
    let server: Server = support::start_server_with(command);
    let _client = unix_domain::connect(&path).unwrap(); // queued: the kernel needs no accept
    let failed = server.wait_for("accept failed");
    assert!(
        failed.contains("(failure 1 in a row); trying again"),
        "{failed}"
    );
    let mut server = server;
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited"
    );
    server.stop();
}

/// Without a path, server and client meet in `$XDG_RUNTIME_DIR` (this user's own directory), or
/// else at a per-user name in the temporary directory; the client says which.
#[test]
fn the_default_path_is_this_users_own() {
    let runtime = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_unix_echo_client"))
        .env("XDG_RUNTIME_DIR", runtime.path())
        .output()
        .unwrap();
    let expected = runtime.path().join("socket-steps.sock");
    let out = support::stdout(&output);
    assert!(
        out.contains(&format!("talking to the default, {}", expected.display())),
        "{out}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_unix_echo_client"))
        .env_remove("XDG_RUNTIME_DIR")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let out = support::stdout(&output);
    let uid = std::fs::metadata(tmp.path()).map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid()
    });
    let per_user = tmp
        .path()
        .join(format!("socket-steps-{}.sock", uid.unwrap()));
    assert!(out.contains(&per_user.display().to_string()), "{out}");
}

/// A path is any bytes the file system takes, not only UTF-8.
#[test]
fn a_path_that_is_not_utf8_works() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9.sock"));
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_unix_echo_server"));
    command.arg(&path);
    let server: Server = support::start_server_with(command);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_unix_echo_client"))
        .arg(&path)
        .output()
        .unwrap();
    support::assert_success(&output);
    server.stop();
}

// ANCHOR: permissions
#[test]
#[cfg(target_os = "linux")]
fn on_linux_connecting_needs_write_permission_on_the_socket_file() {
    // Root passes every permission check, so as root (as in CI) this runs in a child as nobody.
    support::as_nobody(|| {
        use std::os::unix::fs::PermissionsExt;
        let path = fresh_path("permissions");
        let _listener = unix_domain::listening_socket(&path, 5)?;
        // Read permission only, even for the file's owner: connect(2) is refused.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400))?;
        let error = unix_domain::connect(&path).expect_err("no write permission");
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied, "{error}");
        // Write permission: connect(2) succeeds.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        unix_domain::connect(&path)?;
        std::fs::remove_file(&path)
    });
}
// ANCHOR_END: permissions
