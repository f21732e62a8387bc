//! Step 3, listen: after `listen(2)` the kernel completes handshakes into the accept queue.
//!
//! Grades exercise 3.1 (`ex3_1_*`). Run: `cargo test --test step3_listen`.

mod support;

use std::net::SocketAddr;

use socket_steps::step1_create::create_tcp_socket;
use socket_steps::step2_bind::{bind, local_addr};
use socket_steps::step3_listen::{listen, listening_socket};
use support::connect_socket as connect;

const STEP3: &str = env!("CARGO_BIN_EXE_step3_listen");

fn loopback_any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn ex3_1_a_listening_socket_accepts_handshakes_before_accept() {
    let listener = listening_socket(loopback_any_port(), 5).expect("socket, bind, listen");
    let addr = local_addr(&listener).unwrap();
    // Nobody calls accept, yet connect succeeds: the kernel completed the handshake.
    let client = connect(addr, support::LIMIT).expect("connect to a listening socket");
    assert_eq!(
        client.peer_addr().unwrap().as_socket(),
        Some(addr),
        "the client is connected to the listening socket"
    );
}

#[test]
fn ex3_1_a_socket_that_does_not_listen_refuses() {
    let socket = create_tcp_socket(loopback_any_port()).unwrap();
    bind(&socket, loopback_any_port()).unwrap();
    let addr = local_addr(&socket).unwrap();
    let refused = connect(addr, support::LIMIT).expect_err("bound but not listening");
    assert_eq!(
        refused.kind(),
        std::io::ErrorKind::ConnectionRefused,
        "connecting to a socket that is bound but does not listen: the kernel resets (ECONNREFUSED)"
    );
    listen(&socket, 1).expect("listen");
    connect(addr, support::LIMIT).expect("the same port accepts connections after listen");
}

#[test]
#[cfg(target_os = "linux")]
fn ex3_1_the_kernel_shows_listen_and_the_queue_length() {
    use socket_steps::proc_net::{state_of, wait_for, TcpState};
    let listener = listening_socket(loopback_any_port(), 5).unwrap();
    let addr = local_addr(&listener).unwrap();
    assert_eq!(
        state_of(addr, None).map(|e| (e.state, e.rx_queue)),
        Some((TcpState::Listen, 0)),
        "the socket's line in /proc/net/tcp: (state, accept queue length)"
    );
    let _first = connect(addr, support::LIMIT).unwrap();
    let _second = connect(addr, support::LIMIT).unwrap();
    let entry = wait_for(addr, None, support::LIMIT, |e| e.rx_queue == 2).unwrap();
    assert_eq!(
        entry.rx_queue, 2,
        "two connections wait in the accept queue"
    );
}

#[test]
#[cfg(target_os = "linux")]
fn the_binary_fills_the_queue_and_the_next_connect_times_out() {
    let output = support::run(STEP3, &["127.0.0.1:0", "--with-client"]);
    support::assert_success(&output);
    let text = support::stdout(&output);
    support::assert_contains_all(
        &text,
        &[
            "listen(fd 3, 2) -> ok: listening on 127.0.0.1:",
            "LISTEN, accept queue 3",
            "client 4: connect(127.0.0.1:",
            "-> timed out after 1s",
            "Linux does not refuse: it drops",
            "Next: take a connection off the queue: cargo run --bin step4_accept",
        ],
    );
    // What it says about the retries comes from this kernel's settings, not from a table.
    let settings = socket_steps::syn_retries::SynRetries::of_this_kernel().unwrap();
    assert!(
        text.contains(&format!("this kernel ({settings})")),
        "{text}"
    );
    assert!(text.contains(&settings.schedule().to_string()), "{text}");
}

#[test]
fn without_a_client_the_binary_waits_for_enter_and_ends() {
    // stdin is closed (end of file), which counts as pressing Enter.
    let output = support::run(STEP3, &["127.0.0.1:0"]);
    support::assert_success(&output);
    let text = support::stdout(&output);
    assert!(
        text.contains("cargo run --bin client -- 127.0.0.1:"),
        "{text}"
    );
    assert!(text.contains("Then press Enter here."), "{text}");
}
