//! Step 5: process a connection with send and recv, and see that TCP is a stream of bytes.
//!
//! Run: `cargo run --bin step5_process [HOST:PORT] [--with-client] [--wire] [--pcap FILE]`.
//! Without `--with-client` it serves one client from another terminal as the seed's server does;
//! with it, it plays both sides in one program. With `--wire` it shows the packets too (Linux, as
//! root). Chapter 5 of the book explains the output.

use std::net::SocketAddr;

use socket2::Socket;
use socket_steps::cli::{self, run_main};
use socket_steps::client::LONG_MESSAGE_LEN;
use socket_steps::echo::{python_repr, reply_to};
use socket_steps::narrate::{self, explain, title};
use socket_steps::step1_create::describe;
use socket_steps::step3_listen::SEED_BACKLOG;
use socket_steps::step5_process::{recv, send, send_all, RECV_SIZE};
use socket_steps::wire::Wire;
use socket_steps::{advice, client, step2_bind};

/// Step 5: process a connection with send and recv, and see that TCP is a stream of bytes.
///
/// Without --with-client it serves one client from another terminal as the tutorial's server does;
/// with it, it plays both sides in one program.
#[derive(clap::Parser)]
#[command(verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    listen: cli::Listen,
    #[command(flatten)]
    with_client: cli::WithClient,
    #[command(flatten)]
    wire: cli::WireFlags,
}

fn main() {
    run_main(|| {
        let args: Args = cli::parse()?;
        title("Step 5: process (send and recv)");
        let mut wire = Wire::start(&args.wire.options())?;
        let (listener, bound) = narrate::listening_socket(args.listen.addr()?, SEED_BACKLOG)?;
        wire.watch(&[bound.port()]);
        let target = narrate::reachable(bound); // where our own client connects
        if args.with_client.with_client {
            let client = client::connect(target, client::CONNECT_TIMEOUT)
                .map_err(|error| advice::connect_failed(target, error))?;
            println!(
                "client: connect({target}) -> ok, from {}",
                step2_bind::local_addr(&client)?
            );
            wire.show("connect", 3);
            let (connection, peer) = narrate::accept(&listener)?;
            play_both_sides(&client, &connection, bound, peer, &mut wire)?;
            if wire.is_on() {
                close_both(connection, client, &mut wire);
            }
        } else {
            println!("Waiting for one client. In another terminal run:");
            println!("{}", narrate::client_command(bound, "--long"));
            explain(format!(
                "--long sends {LONG_MESSAGE_LEN} bytes: watch recv({RECV_SIZE}) take them in pieces."
            ));
            let (connection, peer) = narrate::accept(&listener)?;
            wire.show("connect", 3);
            serve_like_the_seed(&connection, peer, &mut wire)?;
            drop(connection);
            wire.show("close", 2);
        }
        println!();
        println!("Next: end a connection properly: cargo run --bin step6_close");
        Ok(())
    })
}

/// The end of the program, narrated for the wire: the server closes first, then the client.
fn close_both(connection: Socket, client: Socket, wire: &mut Wire) {
    println!();
    let (s, c) = (describe(&connection), describe(&client));
    drop(connection);
    println!("server: close({s})");
    wire.show("close", 2); // our FIN, and the client's kernel's ACK
    drop(client);
    println!("client: close({c})");
    wire.show("close", 2); // the client's FIN, and our kernel's ACK
}

// ANCHOR: serve
/// The seed's inner loop: `recv(1024)`, stop at end of file, send the prefixed reply.
fn serve_like_the_seed(
    connection: &Socket,
    peer: SocketAddr,
    wire: &mut Wire,
) -> anyhow::Result<()> {
    let fd = describe(connection);
    loop {
        let piece = recv(connection, RECV_SIZE)?;
        println!(
            "recv({fd}, {RECV_SIZE}) -> {}: {}",
            narrate::bytes(piece.len()),
            narrate::shortened(&piece)
        );
        // What came before the data: the client's segment and our kernel's ACK (or its FIN).
        wire.show("recv", 2);
        if piece.is_empty() {
            explain(format!(
                "0 bytes: {peer} closed its side (end of file). We stop."
            ));
            return Ok(());
        }
        let reply = reply_to(&piece);
        let sent = send(connection, &reply)?;
        println!("send({fd}, {} bytes) -> {sent}", reply.len());
        wire.show("send", 2); // our segment, the client's ACK
    }
}
// ANCHOR_END: serve

// ANCHOR: both_sides
/// With `--with-client`: we are the client and the server, one call at a time.
fn play_both_sides(
    client: &Socket,
    connection: &Socket,
    bound: SocketAddr,
    peer: SocketAddr,
    wire: &mut Wire,
) -> anyhow::Result<()> {
    let (c, s) = (describe(client), describe(connection));
    println!();
    let hello = client::SEED_MESSAGE.as_bytes();
    println!(
        "client: send({c}, {}) -> {}",
        python_repr(hello),
        send(client, hello)?
    );
    wire.show("send", 2); // one segment of 19 bytes, and its ACK
    let piece = recv(connection, RECV_SIZE)?;
    println!(
        "server: recv({s}, {RECV_SIZE}) -> {}: {}",
        narrate::bytes(piece.len()),
        python_repr(&piece)
    );
    let reply = reply_to(&piece);
    println!(
        "server: send({s}, {} bytes) -> {}",
        reply.len(),
        send(connection, &reply)?
    );
    wire.show("send", 2);
    let answer = recv(client, RECV_SIZE)?;
    println!("client: recv({c}, {RECV_SIZE}) -> {}", python_repr(&answer));
    explain("send returns a count of BYTES, not characters:");
    let chinese = "你好".as_bytes();
    println!("client: send({c}, \"你好\") -> {}", send(client, chinese)?);
    wire.show("send", 2); // 6 bytes: len 6
    let piece = recv(connection, RECV_SIZE)?;
    println!(
        "server: recv({s}, {RECV_SIZE}) -> {}: {}",
        narrate::bytes(piece.len()),
        python_repr(&piece)
    );

    println!();
    explain(format!(
        "a message longer than recv's {RECV_SIZE} comes out in pieces; the rest waits"
    ));
    explain("in the kernel's receive buffer for the next recv:");
    let long = vec![b'x'; LONG_MESSAGE_LEN];
    send_all(client, &long)?;
    println!("client: send all {LONG_MESSAGE_LEN} bytes");
    wire.show("send", 2);
    let everything = LONG_MESSAGE_LEN as u32;
    narrate::kernel_when(bound, Some(peer), |e| e.rx_queue >= everything);
    let mut left = LONG_MESSAGE_LEN;
    while left > 0 {
        let piece = recv(connection, RECV_SIZE)?;
        left -= piece.len();
        println!(
            "server: recv({s}, {RECV_SIZE}) -> {} bytes, {left} still buffered",
            piece.len()
        );
        wire.show("recv", 0); // recv takes from the buffer: nothing goes on the wire
    }
    narrate::kernel(bound, Some(peer));
    Ok(())
}
// ANCHOR_END: both_sides
