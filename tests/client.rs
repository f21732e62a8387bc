//! The client: `connect(2)` to a listening server, exchange, close.
//!
//! Grades exercises 7.1 (`ex7_1_*`) and 7.2 (`ex7_2_*`). Run: `cargo test --test client`.

mod support;

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use pretty_assertions::assert_eq;
use socket_steps::client::{connect, connect_any, exchange, request, SEED_MESSAGE};
use socket_steps::echo::{serve_forever, PREFIX, WRITE_TIMEOUT};
use socket_steps::step1_create::create_tcp_socket;
use socket_steps::step2_bind::{bind, local_addr};
use socket_steps::step3_listen::listening_socket;
use socket_steps::step5_process::{recv, send_all, RECV_SIZE};
use socket_steps::step6_close::recv_until_closed;

const CLIENT: &str = env!("CARGO_BIN_EXE_client");

/// The seed's echo server in a thread, serving `clients` clients; returns its address.
fn echo_server(clients: usize) -> SocketAddr {
    let listener = listening_socket("127.0.0.1:0".parse().unwrap(), 5).unwrap();
    let addr = local_addr(&listener).unwrap();
    thread::spawn(move || serve_forever(&listener, Some(clients), WRITE_TIMEOUT, |_| {}));
    addr
}

/// A port where nothing listens: bound (so no one else takes it) but not listening.
fn silent_port() -> (socket2::Socket, SocketAddr) {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let socket = create_tcp_socket(any).unwrap();
    bind(&socket, any).unwrap();
    let addr = local_addr(&socket).unwrap();
    (socket, addr)
}

#[test]
fn ex7_1_connect_reaches_the_listener() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let socket = connect(addr, support::LIMIT).expect("connect");
    assert_eq!(
        socket.peer_addr().unwrap().as_socket(),
        Some(addr),
        "the socket connect returned is connected to the listener (getpeername)"
    );
    let (_, peer) = listener.accept().unwrap();
    assert_eq!(
        peer,
        local_addr(&socket).unwrap(),
        "the kernel chose the client's address"
    );
}

#[test]
fn ex7_1_nothing_listening_is_connection_refused() {
    let (_holder, addr) = silent_port();
    let error = connect(addr, support::LIMIT)
        .map(|_| ())
        .expect_err("nothing listens");
    assert_eq!(
        error.kind(),
        ErrorKind::ConnectionRefused,
        "connecting where nothing listens: the kernel says ECONNREFUSED"
    );
}

/// A server for one client that answers its first `recv(1024)` as the seed's server does, then
/// waits for the client to close. Exercise 7.1's tests use it rather than
/// `echo::serve_forever`, which is built on exercise 8.1, a later one.
fn seed_answer_once() -> SocketAddr {
    let listener = listening_socket("127.0.0.1:0".parse().unwrap(), 1).unwrap();
    let addr = local_addr(&listener).unwrap();
    listener.set_read_timeout(Some(support::LIMIT)).unwrap(); // bounds accept on Linux
    thread::spawn(move || {
        let (connection, _) = socket_steps::step4_accept::accept(&listener)?;
        connection.set_read_timeout(Some(support::LIMIT))?;
        let piece = recv(&connection, RECV_SIZE)?;
        send_all(&connection, &[PREFIX, &piece].concat())?;
        recv_until_closed(&connection).map(drop)
    });
    addr
}

#[test]
fn ex7_1_exchange_with_the_seed_server() {
    let addr = seed_answer_once();
    let socket = connect(addr, support::LIMIT).unwrap();
    socket.set_read_timeout(Some(support::LIMIT)).unwrap();
    let answer = exchange(&socket, SEED_MESSAGE.as_bytes()).unwrap();
    assert_eq!(
        String::from_utf8(answer).unwrap(),
        "|From Server| Hello network world"
    );
}

#[test]
fn connect_any_tries_each_address_in_turn() {
    let (_holder, refused) = silent_port();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let good = listener.local_addr().unwrap();
    let (_, chosen) = connect_any(&[refused, good], support::LIMIT).unwrap();
    assert_eq!(chosen, good);
}

#[test]
fn the_binary_talks_to_the_seed_server() {
    let addr = echo_server(1).to_string();
    let output = support::run(CLIENT, &[&addr]);
    support::assert_success(&output);
    let text = support::stdout(&output);
    let connected = format!("connect(fd 3, {addr}) -> ok, from 127.0.0.1:");
    support::assert_contains_all(
        &text,
        &[
            connected.as_str(),
            "send(fd 3, 'Hello network world') -> 19 bytes",
            "recv(fd 3, 1024) -> '|From Server| Hello network world'",
            "close(fd 3) -> ok",
        ],
    );
}

#[test]
fn the_binary_sends_each_argument_as_one_message() {
    let addr = echo_server(1).to_string();
    let output = support::run(CLIENT, &[&addr, "你好", "x", "hello world"]);
    support::assert_success(&output);
    let text = support::stdout(&output);
    // Counts are bytes, not characters: 你好 is 6 bytes in UTF-8.
    for sent in [
        "-> 6 bytes",
        "'x') -> 1 byte\n",
        "'hello world') -> 11 bytes",
    ] {
        assert!(text.contains(sent), "no {sent:?} in:\n{text}");
    }
    assert_eq!(
        text.matches("recv(fd 3, 1024) -> '|From Server| ").count(),
        3,
        "{text}"
    );
}

#[test]
fn nothing_listening_says_to_start_a_server() {
    let (_holder, addr) = silent_port();
    let output = support::run(CLIENT, &[&addr.to_string()]);
    let error = support::assert_clean_failure(&output);
    assert!(
        error.contains(&format!("cannot connect to {addr}: nothing is listening")),
        "{error}"
    );
    assert!(error.contains("cargo run --bin echo_server"), "{error}");
}

/// The lookup runs in a network namespace of our own, against a resolver stub there: the
/// program really asks, and no query leaves this machine.
#[test]
#[cfg(target_os = "linux")]
fn an_unknown_host_is_a_resolver_error() {
    support::in_private_network(|| {
        let resolver = support::dns_stub();
        let output = support::run(CLIENT, &["no-such-host.invalid:50007"]);
        let error = support::assert_clean_failure(&output);
        assert!(
            error.contains("could not resolve the host `no-such-host.invalid`"),
            "{error}"
        );
        assert!(
            !resolver.asked().is_empty(),
            "the client asked the resolver"
        );
        Ok(())
    });
}

// ---- Exercise 7.2: the whole answer -----------------------------------------------------------

/// How long the answering server waits for the end of a request.
const REQUEST_WAIT: Duration = Duration::from_secs(5);

/// What the answering server saw of the request.
#[derive(Debug, PartialEq)]
enum Request {
    /// Every byte, then end of file.
    Whole(Vec<u8>),
    /// The bytes that came before the server gave up waiting for end of file.
    NoEnd(Vec<u8>),
}

/// A server for one client: it reads the request until end of file, then sends `answer` in the
/// pieces given and closes. Before each piece after the first, it waits until the client's
/// kernel has the previous piece (our `tx_queue` is 0: acknowledged) and the client has read it
/// (its `rx_queue` is 0), so that a client which takes one `recv` for the whole answer gets the
/// first piece alone, every time. Linux only (`/proc/net/tcp`) for more than one piece.
fn answering(answer: Vec<Vec<u8>>) -> (SocketAddr, mpsc::Receiver<io::Result<Request>>) {
    let listener = listening_socket("127.0.0.1:0".parse().unwrap(), 1).unwrap();
    let addr = local_addr(&listener).unwrap();
    listener.set_read_timeout(Some(support::LIMIT)).unwrap(); // bounds accept on Linux
    let (tell, told) = mpsc::channel();
    thread::spawn(move || {
        let served = (|| {
            let (connection, client) = socket_steps::step4_accept::accept(&listener)?;
            connection.set_read_timeout(Some(REQUEST_WAIT))?;
            let mut request = Vec::new();
            let request = loop {
                match recv(&connection, RECV_SIZE) {
                    Ok(piece) if piece.is_empty() => break Request::Whole(request),
                    Ok(piece) => request.extend_from_slice(&piece),
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                        break Request::NoEnd(request)
                    }
                    Err(e) => return Err(e),
                }
            };
            if let Request::Whole(_) = request {
                for (index, piece) in answer.iter().enumerate() {
                    if index > 0 {
                        wait_until_read(addr, client);
                    }
                    send_all(&connection, piece)?;
                }
            }
            Ok(request)
        })();
        let _ = tell.send(served);
    });
    (addr, told)
}

/// Waits until what the server at `server` sent to `client` is acknowledged and read.
fn wait_until_read(server: SocketAddr, client: SocketAddr) {
    use socket_steps::proc_net::wait_for;
    wait_for(server, Some(client), support::LIMIT, |e| e.tx_queue == 0);
    wait_for(client, Some(server), support::LIMIT, |e| e.rx_queue == 0);
}

/// `request(message)` to a server that answers with `answer` (in those pieces); returns what
/// `request` returned and what the server saw.
fn ask(message: &[u8], answer: &[&[u8]]) -> (io::Result<Vec<u8>>, Request) {
    let (addr, seen) = answering(answer.iter().map(|p| p.to_vec()).collect());
    let socket = connect(addr, support::LIMIT).unwrap();
    socket.set_read_timeout(Some(support::LIMIT)).unwrap();
    socket.set_write_timeout(Some(support::LIMIT)).unwrap();
    let got = request(&socket, message);
    let seen = seen
        .recv_timeout(support::LIMIT)
        .expect("the answering server finishes")
        .expect("the answering server works");
    (got, seen)
}

#[test]
#[cfg(target_os = "linux")]
fn ex7_2_an_answer_in_two_pieces_comes_back_whole() {
    let (first, second): (&[u8], &[u8]) = (b"|From Server| Hello ", b"network world");
    let (got, _) = ask(SEED_MESSAGE.as_bytes(), &[first, second]);
    assert_eq!(
        String::from_utf8_lossy(&got.expect("request returns the answer")),
        "|From Server| Hello network world",
        "the server sent the answer in two pieces: {} bytes, then, once your recv had taken \
         those, {} more, then closed. request must return all of it: keep receiving until a \
         recv returns no bytes (end of file)",
        first.len(),
        second.len()
    );
}

#[test]
fn ex7_2_an_answer_longer_than_one_recv_comes_back_whole() {
    let message: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let answer = [PREFIX, &message].concat();
    let (got, _) = ask(&message, &[&answer]);
    let got = got.expect("request returns the answer");
    assert!(
        got == answer,
        "the server answered {} bytes and closed; request returned {} bytes. A recv of 1024 \
         bytes cannot hold them: keep receiving until end of file",
        answer.len(),
        got.len()
    );
}

#[test]
fn ex7_2_the_server_gets_the_whole_request_and_its_end() {
    let message: Vec<u8> = (0..3000u32).map(|i| b'A' + (i % 26) as u8).collect();
    let (got, seen) = ask(&message, &[b"|From Server| ok"]);
    match seen {
        Request::Whole(request) => assert!(
            request == message,
            "the server received {} of the {} bytes sent",
            request.len(),
            message.len()
        ),
        Request::NoEnd(request) => panic!(
            "the server received {} bytes and then waited {REQUEST_WAIT:?} for end of file in \
             vain: after sending, request must close its sending side (shutdown(Write)), or \
             the server cannot know that the request is complete",
            request.len()
        ),
    }
    assert_eq!(
        got.expect("request returns the answer"),
        b"|From Server| ok"
    );
}
