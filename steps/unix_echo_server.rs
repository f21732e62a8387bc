//! `unix_echo_server`: the seed's echo server over a Unix-domain socket (Unix only).
//!
//! `cargo run --bin unix_echo_server [PATH] [--replace] [--write-timeout=DURATION]` (default: a
//! path of this user's own, see `unix_domain::default_path`; on Linux, `@name` uses the abstract
//! namespace, where no file is created). The same six steps as TCP, with a path for an address.
//! Before binding we take a lock beside the path (`PATH.lock`) and look at the path: a socket
//! file left by an earlier server of ours is removed, anything else is left alone unless
//! `--replace` says to remove a socket file.

#[cfg(unix)]
fn main() {
    socket_steps::cli::run_main(unix::serve);
}

#[cfg(not(unix))]
fn main() {
    socket_steps::cli::run_main(|| anyhow::bail!("Unix-domain sockets need Unix (Linux or macOS)"));
}

#[cfg(unix)]
mod unix {
    use std::os::fd::AsRawFd;
    use std::path::Path;

    use anyhow::bail;
    use socket2::{SockAddr, Socket};
    use socket_steps::cli;
    use socket_steps::step1_create::{create_unix_socket, describe};
    use socket_steps::step3_listen::{listen, SEED_BACKLOG};
    use socket_steps::unix_domain::{self, Event, PathState, Probe, ServerLock};
    use socket_steps::{advice, echo, narrate, udp};

    const PROGRAM: &str = env!("CARGO_BIN_NAME");

    /// The tutorial's echo server over a Unix-domain socket: the same calls as TCP, with a path for
    /// an address. Stop it with Ctrl-C.
    ///
    /// While it serves, it holds a lock on PATH.lock; a socket file whose lock is free was left
    /// by a server of ours that stopped, and is removed. It never removes anything else, unless
    /// --replace asks it to remove a socket file.
    #[derive(clap::Parser)]
    #[command(verbatim_doc_comment)]
    struct Args {
        #[command(flatten)]
        common: cli::Common,
        #[command(flatten)]
        path: cli::UnixPath,
        /// Remove a socket file at PATH even if another program made it
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        write: cli::WriteTimeout,
    }

    pub fn serve() -> anyhow::Result<()> {
        let args: Args = cli::parse()?;
        let path = unix_domain::path_or_default(args.path.path);
        // `_lock` is held until the program ends: it says "this path is served".
        let (listener, _lock) = match unix_domain::abstract_name(&path) {
            Some(name) => (bind_abstract(name)?, None),
            None => bind_path(&path, args.replace)?,
        };
        let fd = describe(&listener);
        println!(
            "listening on {} ({fd}, AF_UNIX, SOCK_STREAM)",
            path.display()
        );
        let leftover = if unix_domain::abstract_name(&path).is_some() {
            ""
        } else {
            " (its socket file stays behind; the next start removes it)"
        };
        println!(
            "In another terminal run: cargo run --bin unix_echo_client -- {}. Stop the server \
             with Ctrl-C{leftover}.",
            path.display()
        );
        unix_domain::serve_forever(&listener, None, args.write.write_timeout, |event| {
            log(&fd, event)
        });
        Ok(())
    }

    /// Prints what the server loop on the listener `fd` did, one line per call.
    fn log(fd: &str, event: Event) {
        match event {
            Event::Accepted(connection, peer) => println!(
                "accept({fd}) -> {}, peer {}",
                describe(connection),
                unix_domain::describe_addr(&peer)
            ),
            Event::Received(connection, []) => println!(
                "recv({}) -> 0 bytes: the client closed its side",
                describe(connection)
            ),
            Event::Received(connection, piece) => println!(
                "recv({}) -> {}: {}",
                describe(connection),
                narrate::bytes(piece.len()),
                udp::preview(piece)
            ),
            Event::Sent(connection, bytes) => println!(
                "send({}, {}) -> all sent",
                describe(connection),
                narrate::bytes(bytes)
            ),
            // One client's trouble must not stop the server.
            Event::Failed(connection, error) => {
                println!("connection on {} failed: {error}", describe(connection))
            }
            Event::Closing(connection) => println!("close({})", describe(connection)),
            Event::AcceptFailed(error, repeats) if echo::worth_logging(repeats) => {
                println!("accept failed: {error} (failure {repeats} in a row); trying again")
            }
            Event::AcceptFailed(..) => {}
        }
    }

    fn bind_path(path: &Path, replace: bool) -> anyhow::Result<(Socket, Option<ServerLock>)> {
        let shown = path.display();
        if path.as_os_str().is_empty() {
            bail!("an empty path is not a socket path: give one, e.g. `cargo run --bin {PROGRAM} -- echo.sock`");
        }
        let (lock, state) = unix_domain::claim_path(path, replace)
            .map_err(|error| advice::unix_bind_failed(path, PROGRAM, error))?;
        let elsewhere = format!("use another path, e.g. `cargo run --bin {PROGRAM} -- other.sock`");
        let lock_shown = unix_domain::lock_path(path);
        let lock_shown = lock_shown.display();
        match state {
            PathState::InUse => bail!(
                "another server is answering on {shown} (it holds {lock_shown}): stop it first, \
                 or {elsewhere}"
            ),
            PathState::NotASocket => {
                bail!("{shown} exists and is not a socket: we never remove that; {elsewhere}")
            }
            PathState::NotOurs(probe) => {
                let found = match probe {
                    Probe::Answers => "another program serves on it",
                    Probe::Busy => "another program listens on it (its queue is full)",
                    Probe::Refused => "nobody answers on it now",
                };
                bail!(
                    "{shown} is a socket that {PROGRAM} did not make, and {found}; we leave it \
                     alone: {elsewhere}, or add --replace to remove it"
                )
            }
            _ => {}
        }
        if let Some(lock) = &lock {
            println!(
                "open({}) and flock(fd {}, LOCK_EX | LOCK_NB) -> ok: while we hold this lock, \
                 {shown} is ours",
                lock.path.display(),
                lock.file.as_raw_fd()
            );
        }
        match state {
            PathState::RemovedStale => println!(
                "{shown} was a stale socket file of ours (its lock was free: its server has \
                 stopped): removed it, unlink({shown})"
            ),
            PathState::Replaced => println!(
                "{shown} was a socket file that is not ours: removed it as --replace asks, \
                 unlink({shown})"
            ),
            _ => {}
        }
        let socket = create_unix_socket()?;
        let fd = describe(&socket);
        println!("socket(AF_UNIX, SOCK_STREAM, 0) -> {fd}");
        SockAddr::unix(path) // fails if the path is too long for sun_path
            .and_then(|addr| socket.bind(&addr))
            .map_err(|error| advice::unix_bind_failed(path, PROGRAM, error))?;
        println!(
            "bind({fd}, {shown}) -> ok: the socket file {shown} now exists (see `ls -l {shown}`)"
        );
        let mut lock = lock;
        if let Some(lock) = &mut lock {
            // So that the next start knows this file for ours once we have stopped.
            lock.mark(path)?;
        }
        listen(&socket, SEED_BACKLOG)?;
        println!("listen({fd}, {SEED_BACKLOG}) -> ok");
        Ok((socket, lock))
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn bind_abstract(name: &[u8]) -> anyhow::Result<Socket> {
        let shown = String::from_utf8_lossy(name);
        let listener = unix_domain::bind_abstract(name).map_err(|error| {
            advice::unix_bind_failed(Path::new(&format!("@{shown}")), PROGRAM, error)
        })?;
        let socket = Socket::from(listener);
        println!(
            "socket, bind and listen on the abstract name @{shown} -> {}: no file is created, \
             and the name disappears when this server stops (`ss -xl` lists it)",
            describe(&socket)
        );
        Ok(socket)
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn bind_abstract(_name: &[u8]) -> anyhow::Result<Socket> {
        bail!(
            "the abstract namespace (`@name`) exists on Linux only: give a path such as echo.sock"
        )
    }
}
