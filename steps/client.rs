//! The client side: create, connect, send, recv, close.
//!
//! Run a server first (e.g. `cargo run --bin echo_server`), then
//! `cargo run --bin client [HOST:PORT] [MESSAGE...]` (one message per argument). Chapter 7 of the book explains the output.

use std::io;
use std::time::Duration;

use anyhow::Context;
use socket2::Socket;
use socket_steps::cli::{self, run_main};
use socket_steps::client::LONG_MESSAGE_LEN;
use socket_steps::echo::python_repr;
use socket_steps::narrate::{self, explain, title};
use socket_steps::step1_create::describe;
use socket_steps::step5_process::{recv, send_all, RECV_SIZE};
use socket_steps::wire::{closed, Wire};
use socket_steps::{advice, client, step2_bind, step6_close};

/// How long the client waits quietly for a reply before it says that it is waiting, and why.
const QUIET: Duration = Duration::from_secs(1);

/// The client side: create, connect, send, recv, close, each call narrated.
///
/// Run a server first (e.g. cargo run --bin echo_server).
#[derive(clap::Parser)]
#[command(verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    connect: cli::Connect,
    #[command(flatten)]
    messages: cli::Messages,
    /// Send one long message instead (2500 bytes, more than one recv(1024) takes), then read
    /// every reply until the server closes (implies --until-eof)
    #[arg(long, conflicts_with = "messages")]
    long: bool,
    /// After the messages, shut down our sending side (shutdown(SHUT_WR)) and recv until the
    /// server closes its side: the end of file
    #[arg(long)]
    until_eof: bool,
    /// How long to wait for each reply (e.g. 30s, 500ms)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = cli::duration::parse_duration)]
    reply_timeout: Duration,
    #[command(flatten)]
    wire: cli::WireFlags,
}

fn main() {
    run_main(|| {
        let args: Args = cli::parse()?;
        args.messages.refuse_empty()?;
        title("The client");
        // ANCHOR: connect
        let addrs = args.connect.addrs()?;
        let mut wire = Wire::start(&args.wire.options())?;
        wire.watch(&[addrs[0].port()]);
        let (socket, server) =
            client::connect_any(&addrs, client::CONNECT_TIMEOUT).map_err(|error| {
                wire.show("connect", 2); // a refused connect: our SYN, the server's RST
                advice::connect_failed(addrs[0], error)
            })?;
        let fd = describe(&socket);
        let local = step2_bind::local_addr(&socket)?;
        println!(
            "socket({}, SOCK_STREAM, IPPROTO_TCP) -> {fd}",
            narrate::family(server)
        );
        println!("connect({fd}, {server}) -> ok, from {local}");
        wire.show("connect", 3);
        // ANCHOR_END: connect
        explain("the kernel chose our address: the server's IP route and an ephemeral port.");
        narrate::kernel(local, Some(server));

        // ANCHOR: exchange
        let messages = match args.long {
            true => vec!["x".repeat(LONG_MESSAGE_LEN)],
            false => args.messages.or_seed(),
        };
        let patience = args.reply_timeout;
        let mut open = true; // until the server closes or resets the connection
        for message in messages {
            send_all(&socket, message.as_bytes())?;
            println!(
                "send({fd}, {}) -> {}",
                narrate::shortened(message.as_bytes()),
                narrate::bytes(message.len())
            );
            wire.show("send", 2); // our segment and the server's ACK
            open = show_reply(&socket, &fd, patience, &mut wire)?;
            if !open {
                break;
            }
        }
        if open && (args.until_eof || args.long) {
            step6_close::finish_sending(&socket).context("shutdown failed")?;
            println!(
                "shutdown({fd}, SHUT_WR) -> ok: we send no more, the server reads end of file"
            );
            wire.show("shutdown", 2); // our FIN, and its ACK
            while show_reply(&socket, &fd, patience, &mut wire)? {}
        }
        step6_close::close(socket);
        println!("close({fd}) -> ok");
        // Our FIN, the server's FIN with its ACK of ours (or each on its own), our last ACK.
        wire.show_until("close", closed);
        // ANCHOR_END: exchange
        println!();
        println!("Next: the tutorial's whole demo: cargo run --bin echo_server, then in another");
        println!("terminal cargo run --bin echo_client");
        Ok(())
    })
}

/// One `recv` of the server's reply, narrated; whether the connection is still open.
///
/// After [`QUIET`] without a reply we say that we are waiting, and why, then wait until
/// `patience` is over: in two terminals, a server that has not accepted us (step 3) or does not
/// read never replies, and a silent client looks hung.
fn show_reply(
    socket: &Socket,
    fd: &str,
    patience: Duration,
    wire: &mut Wire,
) -> anyhow::Result<bool> {
    let quiet = QUIET.min(patience);
    socket.set_read_timeout(Some(quiet))?;
    let mut received = recv(socket, RECV_SIZE);
    if matches!(&received, Err(error) if timed_out(error)) && patience > quiet {
        println!("recv({fd}, {RECV_SIZE}) ... no reply after {quiet:?}; waiting up to {patience:?} (Ctrl-C stops)");
        explain("a server that has not accepted us yet (step 3) or is not reading cannot reply:");
        explain("our connect and send succeeded because the server's kernel took them for it.");
        socket.set_read_timeout(Some(patience - quiet))?;
        received = recv(socket, RECV_SIZE);
    }
    match received {
        Ok(reply) if reply.is_empty() => {
            println!("recv({fd}, {RECV_SIZE}) -> 0 bytes: end of file");
            explain("the server closed its side: nothing more will come.");
            wire.show("recv", 0);
            Ok(false)
        }
        Ok(reply) => {
            match reply.len() > 40 {
                true => println!(
                    "recv({fd}, {RECV_SIZE}) -> {}: {}",
                    narrate::bytes(reply.len()),
                    narrate::shortened(&reply)
                ),
                false => println!("recv({fd}, {RECV_SIZE}) -> {}", python_repr(&reply)),
            }
            wire.show("recv", 2); // the reply was on its way already; our ACK
            Ok(true)
        }
        Err(error) if error.kind() == io::ErrorKind::ConnectionReset => {
            println!("recv({fd}, {RECV_SIZE}) -> error: connection reset");
            explain("the server closed without reading what we sent, so its kernel");
            explain("answered with a reset (RST) instead of a normal end of file.");
            Ok(false)
        }
        Err(error) if timed_out(&error) => {
            println!("recv({fd}, {RECV_SIZE}) -> no reply within {patience:?}");
            explain("the server has not answered: it may never have accepted us (step 3),");
            explain("or, on Linux, its accept queue was full when our handshake's");
            explain("last packet arrived, and its kernel dropped it: our connect and");
            explain("send still succeed.");
            Ok(false)
        }
        Err(error) => Err(error).context("recv failed"),
    }
}

/// Whether a `recv` with a read timeout gave up: `EAGAIN` on Unix, `WSAETIMEDOUT` on Windows.
fn timed_out(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
