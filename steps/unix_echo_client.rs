//! `unix_echo_client`: the seed's client over a Unix-domain socket (Unix only).
//!
//! `cargo run --bin unix_echo_client [PATH] [MESSAGE...]` (default: this user's path, see
//! `unix_domain::default_path`, and
//! `Hello network world`; `@name` for a Linux abstract name). Connects to the path instead of a
//! (host, port), then speaks the seed's protocol.

#[cfg(unix)]
fn main() {
    socket_steps::cli::run_main(unix::talk);
}

#[cfg(not(unix))]
fn main() {
    socket_steps::cli::run_main(|| anyhow::bail!("Unix-domain sockets need Unix (Linux or macOS)"));
}

#[cfg(unix)]
mod unix {
    use socket2::Socket;
    use socket_steps::cli;
    use socket_steps::client::exchange;
    use socket_steps::step1_create::describe;
    use socket_steps::{advice, narrate, udp, unix_domain};

    /// The tutorial's client over a Unix-domain socket: connect to a path instead of a
    /// (host, port), then speak the tutorial's protocol.
    #[derive(clap::Parser)]
    #[command(verbatim_doc_comment)]
    struct Args {
        #[command(flatten)]
        common: cli::Common,
        #[command(flatten)]
        path: cli::UnixPath,
        #[command(flatten)]
        messages: cli::Messages,
    }

    pub fn talk() -> anyhow::Result<()> {
        let args: Args = cli::parse()?;
        args.messages.refuse_empty()?;
        if args.path.path.is_none() {
            println!(
                "no PATH given: talking to the default, {}",
                unix_domain::default_path().display()
            );
        }
        let path = unix_domain::path_or_default(args.path.path);
        let messages = args.messages.or_seed();
        let socket = connect(&path).map_err(|error| advice::unix_connect_failed(&path, error))?;
        let fd = describe(&socket);
        println!("socket(AF_UNIX, SOCK_STREAM, 0) -> {fd}");
        println!("connect({fd}, {}) -> ok", path.display());
        if let Some(owner) = unix_domain::someone_elses(&path) {
            println!(
                "note: {} belongs to user {owner}, not to you: the answers come from that \
                 user's server",
                path.display()
            );
        }
        for message in &messages {
            let data = exchange(&socket, message.as_bytes())?;
            println!(
                "send({fd}, {}), recv({fd}, 1024) -> {}",
                narrate::bytes(message.len()),
                narrate::bytes(data.len())
            );
            println!("Client received: {}", udp::preview(&data));
        }
        println!("close({fd})");
        Ok(())
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn connect(path: &std::path::Path) -> std::io::Result<Socket> {
        match unix_domain::abstract_name(path) {
            Some(name) => unix_domain::connect_abstract(name).map(Socket::from),
            None => unix_domain::connect(path),
        }
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn connect(path: &std::path::Path) -> std::io::Result<Socket> {
        unix_domain::connect(path)
    }
}
