//! `udp_echo_client`: the seed's client, over UDP.
//!
//! `cargo run --bin udp_echo_client [HOST:PORT] [MESSAGE...]` (default 127.0.0.1:50007 and
//! `Hello network world`). Each message is one datagram, and each answer comes back as one
//! datagram: UDP keeps the boundaries that TCP does not.
//!
//! We `connect` the UDP socket. That sends nothing; it fixes the peer, so the kernel drops
//! datagrams from anybody else, and it lets us hear an ICMP "port unreachable": with no server
//! running, `recv` fails at once with `ConnectionRefused` instead of waiting in silence.
//!
//! With `--wire` (Linux, as root) it shows the packets: none for `connect`, one datagram per
//! `send` and one per answer, and with no server the ICMP error that refused ours.

use std::time::Duration;

use anyhow::Context;
use socket_steps::cli;
use socket_steps::step1_create::{create_udp_socket, describe};
use socket_steps::wire::{refused, Wire};
use socket_steps::{advice, narrate, udp};

/// How long we wait for each answer: UDP never tells us that a datagram was lost.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// The tutorial's client, over UDP: each message is one datagram, and each answer comes back as one
/// datagram.
#[derive(clap::Parser)]
#[command(verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    connect: cli::Connect,
    #[command(flatten)]
    messages: cli::Messages,
    #[command(flatten)]
    wire: cli::WireFlags,
}

fn main() {
    cli::run_main(|| {
        let args: Args = cli::parse()?;
        let server = args.connect.addr()?;
        let messages = args.messages.or_seed();
        let mut wire = Wire::start(&args.wire.options())?;
        wire.watch(&[server.port()]);
        let socket = create_udp_socket(server)
            .with_context(|| format!("socket({}, SOCK_DGRAM) failed", udp::family_name(server)))?;
        let fd = describe(&socket);
        println!(
            "socket({}, SOCK_DGRAM, IPPROTO_UDP) -> {fd}",
            udp::family_name(server)
        );
        let socket = std::net::UdpSocket::from(socket);
        udp::connect_udp(&socket, server).map_err(|error| advice::udp_failed(server, error))?;
        println!(
            "connect({fd}, {server}) -> ok (UDP: nothing is sent; the kernel remembers the peer \
             and gave us the address {})",
            socket.local_addr()?
        );
        if wire.is_on() {
            wire.show_timed("connect"); // whatever came in the meantime: nothing
            if wire.shown().is_empty() {
                println!(
                    "    wire: no packet: no handshake; the server hears of us with our first datagram"
                );
            }
        }
        socket.set_read_timeout(Some(ANSWER_TIMEOUT))?;
        for message in &messages {
            let sent = socket
                .send(message.as_bytes())
                .map_err(|error| advice::udp_failed(server, error))?;
            println!(
                "send({fd}, {}) -> {sent}: one datagram",
                narrate::bytes(message.len())
            );
            wire.show("send", 1);
            let datagram = match udp::receive_datagram(&socket, udp::MAX_DATAGRAM) {
                Ok(datagram) => datagram,
                Err(error) => {
                    // A refusal came as an ICMP error: show it, then say what it means.
                    wire.show_until("recv", refused);
                    return Err(advice::udp_failed(server, error));
                }
            };
            println!(
                "recv({fd}) -> {} from {}",
                narrate::bytes(datagram.bytes.len()),
                datagram.from
            );
            wire.show("recv", 1);
            println!("Client received: {}", udp::preview(&datagram.bytes));
        }
        println!("close({fd})");
        Ok(())
    })
}
