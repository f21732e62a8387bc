//! Step 2: bind a socket to an address, then try the binds the kernel refuses.
//!
//! Run: `cargo run --bin step2_bind [HOST:PORT]` (default 127.0.0.1:50007; port 0 lets the OS
//! choose). Chapter 2 of the book explains the output.

use std::net::SocketAddr;

use socket_steps::cli::{self, run_main};
use socket_steps::narrate::{self, explain, title};
use socket_steps::step1_create::{create_tcp_socket, describe};
use socket_steps::step2_bind::{bind, explain_bind_error, NOT_OUR_ADDRESS};
use socket_steps::wire::Wire;

/// Step 2: bind a socket to an address, then try the binds the kernel refuses.
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
    run_main(|| {
        let args: Args = cli::parse()?;
        let addr = args.listen.addr()?;
        title("Step 2: bind");
        let mut wire = Wire::start(&args.wire.options())?;
        // ANCHOR: bind
        let socket = narrate::create(addr)?;
        bind(&socket, addr).map_err(|error| {
            socket_steps::advice::bind_failed(addr, &narrate::program_name(), error)
        })?;
        let bound = socket_steps::step2_bind::local_addr(&socket)?;
        println!("bind({}, {addr}) -> ok", describe(&socket));
        println!("getsockname({}) -> {bound}", describe(&socket));
        // ANCHOR_END: bind
        wire.watch(&[bound.port()]);
        if addr.port() == 0 {
            explain(format!(
                "we asked for port 0, so the OS chose a free port: {}",
                bound.port()
            ));
        }
        narrate::kernel(bound, None);
        explain("a socket that is only bound is not in /proc/net/tcp, which lists listening and");
        explain(
            "connected sockets: it holds its port, still in state CLOSE. listen (step 3) makes",
        );
        explain("it appear as LISTEN.");

        println!();
        println!("Now the binds the kernel refuses, on purpose:");
        // ANCHOR: refusals
        try_bind("a second socket, same address", bound, None)?;
        try_bind(
            "an address this machine does not have",
            NOT_OUR_ADDRESS.parse()?,
            None,
        )?;
        try_bind(
            "the same socket a second time",
            SocketAddr::new(bound.ip(), 0), // same family, so only "bound twice" is wrong
            Some(&socket),
        )?;
        // ANCHOR_END: refusals
        if wire.is_on() {
            wire.show_timed("bind"); // whatever came in the meantime: nothing
            if wire.shown().is_empty() {
                explain("wire: no packet for this port: bind only reserves an address in this");
                explain("machine's kernel. Packets start with a connect, or a client's SYN to a");
                explain("listening socket (step 3).");
            }
        }

        println!();
        println!("The tutorial's host '' (INADDR_ANY, 0.0.0.0) is not localhost: it is every");
        println!(
            "interface, reachable from your network. We bind 127.0.0.1 unless told otherwise."
        );
        println!("Ports below 1024 need root or CAP_NET_BIND_SERVICE: as a normal user, try");
        println!("  cargo run --bin step2_bind -- 127.0.0.1:80");
        println!();
        println!("The program ends: close(2) frees the port.");
        println!("Next: make the socket accept connections: cargo run --bin step3_listen");
        Ok(())
    })
}

/// Binds `existing` (or a new TCP socket) to `addr` and prints why the kernel refuses it.
fn try_bind(
    what: &str,
    addr: SocketAddr,
    existing: Option<&socket2::Socket>,
) -> anyhow::Result<()> {
    let fresh;
    let socket = match existing {
        Some(socket) => socket,
        None => {
            fresh = create_tcp_socket(addr)?;
            &fresh
        }
    };
    match bind(socket, addr) {
        Ok(()) => println!(
            "bind({}, {addr}) -> ok ({what}: unexpected!)",
            describe(socket)
        ),
        Err(error) => {
            println!("bind({}, {addr}) -> error: {what}", describe(socket));
            explain(explain_bind_error(&error));
        }
    }
    Ok(())
}
