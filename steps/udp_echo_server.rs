//! `udp_echo_server`: the seed's echo server, over UDP.
//!
//! `cargo run --bin udp_echo_server [HOST:PORT]` (default 127.0.0.1:50007). Only two steps before
//! serving: create a `SOCK_DGRAM` socket and bind it. No listen, no accept: every client's
//! datagrams arrive on the same socket, each with its sender's address, and we answer each one
//! with `|From Server| ` in front, sent back to that address. The buffer is the seed's 1024
//! bytes: send a longer datagram and watch its tail disappear. With `--wire` (Linux, as root) it
//! shows each datagram on the wire too: one per `sendto`, and no handshake.

use socket_steps::cli;
use socket_steps::step1_create::{create_udp_socket, describe};
use socket_steps::step2_bind::bind;
use socket_steps::wire::{datagram_to, Wire};
use socket_steps::{advice, narrate, udp};

/// The tutorial's echo server, over UDP: create, bind, then answer each datagram.
///
/// No listen, no accept: every client's datagrams arrive on the same socket. Stop it with Ctrl-C.
#[derive(clap::Parser)]
#[command(verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    listen: cli::Listen,
    #[command(flatten)]
    wire: cli::WireFlags,
}

fn main() {
    cli::run_main(|| {
        let args: Args = cli::parse()?;
        let addr = args.listen.addr()?;
        let mut wire = Wire::start(&args.wire.options())?;
        let socket = create_udp_socket(addr)?;
        let fd = describe(&socket);
        println!(
            "socket({}, SOCK_DGRAM, IPPROTO_UDP) -> {fd}",
            udp::family_name(addr)
        );
        bind(&socket, addr)
            .map_err(|error| advice::udp_bind_failed(addr, env!("CARGO_BIN_NAME"), error))?;
        let socket = std::net::UdpSocket::from(socket);
        let local = socket.local_addr()?;
        println!("bind({fd}, {local}) -> ok");
        wire.watch(&[local.port()]);
        println!(
            "listening on {local} (UDP: no listen(2), no accept(2); every datagram arrives on {fd})"
        );
        if let Some(warning) = narrate::every_network(local) {
            println!("{warning}");
        }
        let reach = narrate::reachable(local); // 0.0.0.0 is where we listen, not a destination
        println!(
            "In another terminal run: cargo run --bin udp_echo_client -- {reach} Hello. \
             Stop the server with Ctrl-C."
        );
        udp::serve_forever(&socket, None, |event| match event {
            udp::Event::Received(datagram) => {
                println!(
                    "recv_from({fd}) -> {} from {}: {}",
                    narrate::bytes(datagram.bytes.len()),
                    datagram.from,
                    udp::preview(&datagram.bytes)
                );
                wire.show_until("recv_from", datagram_to(local.port()));
                if datagram.truncated {
                    println!(
                        "  MSG_TRUNC: the datagram was longer than our {} bytes; the kernel \
                         discarded its tail (UDP keeps nothing for the next call)",
                        udp::RECV_SIZE
                    );
                }
            }
            udp::Event::Replied(datagram, length, sent) => {
                println!("send_to({fd}, {length} bytes, {}) -> {sent}", datagram.from);
                wire.show("send_to", 1);
            }
            udp::Event::ReplyFailed(datagram, error) => {
                println!("send_to({fd}, {}) failed: {error}", datagram.from)
            }
            udp::Event::ReceiveFailed(error) => println!(
                "recv_from({fd}) failed: {error}. An earlier reply was refused (its sender had \
                 gone); we go on with the next datagram"
            ),
        })?;
        Ok(())
    })
}
