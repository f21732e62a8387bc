//! `unix_echo_server`: the seed's echo server over a Unix-domain socket (Unix only).
//!
//! `cargo run --bin unix_echo_server [PATH]` (default `/tmp/socket-steps.sock`; on Linux,
//! `@name` uses the abstract namespace, where no file is created). The same six steps as TCP,
//! with a path for an address. Before binding we look at the path: a socket file left by a
//! server that stopped is removed (nobody answers on it), anything else is left alone.

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
    use std::path::Path;

    use anyhow::bail;
    use socket2::{SockAddr, Socket};
    use socket_steps::cli;
    use socket_steps::step1_create::{create_unix_socket, describe};
    use socket_steps::step3_listen::{listen, SEED_BACKLOG};
    use socket_steps::step5_process::{recv, send_all, RECV_SIZE};
    use socket_steps::unix_domain::{self, PathState};
    use socket_steps::{advice, echo, udp};

    const PROGRAM: &str = env!("CARGO_BIN_NAME");

    /// The seed's echo server over a Unix-domain socket: the same calls as TCP, with a path for
    /// an address. Stop it with Ctrl-C.
    #[derive(clap::Parser)]
    #[command(verbatim_doc_comment)]
    struct Args {
        #[command(flatten)]
        common: cli::Common,
        #[command(flatten)]
        path: cli::UnixPath,
    }

    pub fn serve() -> anyhow::Result<()> {
        let args: Args = cli::parse()?;
        let path = unix_domain::path_or_default(args.path.path);
        let listener = match unix_domain::abstract_name(&path) {
            Some(name) => bind_abstract(name)?,
            None => bind_path(&path)?,
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
        loop {
            let (connection, peer) = listener.accept()?;
            let conn_fd = describe(&connection);
            println!(
                "accept({fd}) -> {conn_fd}, peer {}",
                unix_domain::describe_addr(&peer)
            );
            if let Err(error) = serve_one(&connection, &conn_fd) {
                // One client's trouble must not stop the server.
                println!("connection on {conn_fd} failed: {error}");
            }
            println!("close({conn_fd})");
        }
    }

    fn bind_path(path: &Path) -> anyhow::Result<Socket> {
        let shown = path.display();
        if path.as_os_str().is_empty() {
            bail!("an empty path is not a socket path: give one, e.g. `cargo run --bin {PROGRAM} -- /tmp/socket-steps.sock`");
        }
        let state = unix_domain::prepare_path(path)
            .map_err(|error| advice::unix_bind_failed(path, PROGRAM, error))?;
        match state {
            PathState::Free => {}
            PathState::RemovedStale => println!(
                "{shown} was a stale socket file (nobody answered on it): removed it, unlink({shown})"
            ),
            PathState::InUse => bail!(
                "another server is answering on {shown}: stop it first, or use another path, e.g. \
                 `cargo run --bin {PROGRAM} -- /tmp/socket-steps-2.sock`"
            ),
            PathState::NotASocket => bail!(
                "{shown} exists and is not a socket: we never remove that; choose another path, \
                 e.g. `cargo run --bin {PROGRAM} -- /tmp/socket-steps.sock`"
            ),
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
        listen(&socket, SEED_BACKLOG)?;
        println!("listen({fd}, {SEED_BACKLOG}) -> ok");
        Ok(socket)
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
        bail!("the abstract namespace (`@name`) exists on Linux only: give a path such as /tmp/socket-steps.sock")
    }

    /// The seed's inner loop: recv(1024), stop at EOF, send the prefixed piece back.
    fn serve_one(connection: &Socket, fd: &str) -> std::io::Result<()> {
        loop {
            let piece = recv(connection, RECV_SIZE)?;
            if piece.is_empty() {
                println!("recv({fd}) -> 0 bytes: the client closed its side");
                return Ok(());
            }
            println!(
                "recv({fd}) -> {}: {}",
                socket_steps::narrate::bytes(piece.len()),
                udp::preview(&piece)
            );
            let reply = echo::reply_to(&piece);
            send_all(connection, &reply)?;
            println!("send({fd}, {} bytes) -> all sent", reply.len());
        }
    }
}
