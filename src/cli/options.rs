//! The argument groups that several programs share. A program's own `#[derive(clap::Parser)]`
//! struct takes each group it needs with `#[command(flatten)]`; the doc comment of each field is
//! its line in `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::duration::parse_duration;
use super::HostPort;

/// The seed tutorial's port: `myPort = 50007`.
pub const DEFAULT_PORT: u16 = 50007;

/// Where our servers listen unless told otherwise: this machine only.
///
/// The seed binds `''` (INADDR_ANY, every interface): any computer on your network could connect.
/// We bind 127.0.0.1 (loopback) so that a lesson never opens a port to the world by accident;
/// pass `0.0.0.0:50007` to choose "every interface" explicitly.
pub const DEFAULT_ADDR: &str = "127.0.0.1:50007";

/// Flags that every program has. Add a field here, and every program has that flag.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Common {}

/// A server's address: `[HOST:PORT]`.
#[derive(clap::Args, Debug, Clone)]
pub struct Listen {
    /// Where to listen; port 0 lets the OS choose, 0.0.0.0 or [::] opens it to every network
    #[arg(value_name = "HOST:PORT", default_value = DEFAULT_ADDR)]
    pub host_port: HostPort,
}

impl Listen {
    /// The address to bind: the first that `HOST:PORT` resolves to.
    pub fn addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.host_port.resolve()?[0])
    }
}

/// A client's server: `[HOST:PORT]`.
#[derive(clap::Args, Debug, Clone)]
pub struct Connect {
    /// The server to connect to, e.g. 127.0.0.1:50007 or [::1]:50007
    #[arg(value_name = "HOST:PORT", default_value = DEFAULT_ADDR)]
    pub host_port: HostPort,
}

impl Connect {
    /// Every address `HOST:PORT` resolves to, to try in turn.
    pub fn addrs(&self) -> anyhow::Result<Vec<SocketAddr>> {
        self.host_port.resolve()
    }

    /// The first address `HOST:PORT` resolves to.
    pub fn addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.addrs()?[0])
    }
}

/// `--with-client`: a step that waits for a peer starts its own client instead.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct WithClient {
    /// Start our own client too, so that the step runs in one terminal
    #[arg(long)]
    pub with_client: bool,
}

/// `--wire` and `--pcap FILE`: show the packets the program's calls cause (see [`crate::wire`]).
/// Every step binary that talks over TCP, the client and the echo demo take them.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct WireFlags {
    /// Show the packets each call causes, under the call (Linux; needs CAP_NET_RAW, e.g. sudo)
    #[arg(long)]
    pub wire: bool,
    /// Write those packets to FILE too, for tcpdump -r FILE or Wireshark
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
}

impl WireFlags {
    /// What the wire view should do.
    pub fn options(&self) -> crate::wire::WireOptions {
        crate::wire::WireOptions {
            print: self.wire,
            pcap: self.pcap.clone(),
        }
    }
}

/// A client's `[MESSAGE]...`: one message per argument.
#[derive(clap::Args, Debug, Clone)]
pub struct Messages {
    /// What to send, one message per argument [default: "Hello network world"]
    #[arg(value_name = "MESSAGE")]
    pub messages: Vec<String>,
}

impl Messages {
    /// For a client of a byte stream (TCP, a Unix stream socket): refuses an empty message. A
    /// stream has no empty message: `send` of 0 bytes sends nothing, so no reply would come and
    /// the client would wait for one in silence. (A UDP datagram may be empty: that client
    /// does not call this.)
    pub fn refuse_empty(&self) -> anyhow::Result<()> {
        match self.messages.iter().position(String::is_empty) {
            Some(index) => anyhow::bail!(
                "MESSAGE {} is empty: over a stream an empty send sends nothing, so no reply \
                 would come; give some text (udp_echo_client sends an empty datagram)",
                index + 1
            ),
            None => Ok(()),
        }
    }

    /// The messages given, or the seed's one message.
    pub fn or_seed(&self) -> Vec<String> {
        if self.messages.is_empty() {
            vec![crate::client::SEED_MESSAGE.to_string()]
        } else {
            self.messages.clone()
        }
    }
}

/// A Unix-domain socket's `[PATH]`. Any bytes the file system takes, not only UTF-8.
#[derive(clap::Args, Debug, Clone)]
pub struct UnixPath {
    /// The socket file, or @NAME for Linux's abstract namespace (no file)
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
}

/// `--write-timeout`: how long a client has to take each reply.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct WriteTimeout {
    /// How long a client has to take each reply (e.g. 10s, 500ms, 2m)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub write_timeout: Duration,
}

/// The timeouts of a server that serves many clients at once (`echo_server_threaded`,
/// `echo_server_events`). Each of those declares its own `--max-clients`, whose default differs,
/// read by [`clients`].
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct Timeouts {
    /// Close a client that sends nothing for this long (e.g. 30s, 2m)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// How long a client has to take each reply.
    #[command(flatten)]
    pub write: WriteTimeout,
}

/// The most clients we let one server hold at once: more than any open-file limit allows.
pub const MOST_CLIENTS: usize = 1_000_000;

/// Reads `--max-clients`: a whole number from 1 to [`MOST_CLIENTS`], for
/// `#[arg(long, value_parser = cli::clients)]`.
pub fn clients(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MOST_CLIENTS).contains(&n) => Ok(n),
        _ if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() => Err(format!(
            "is not between 1 and {MOST_CLIENTS}: each client holds a file descriptor"
        )),
        _ => Err(format!(
            "is not a number of clients: write a whole number from 1 to {MOST_CLIENTS}"
        )),
    }
}
