//! # socket-steps: socket programming, one system call at a time
//!
//! This crate teaches sockets by following a short Python tutorial step by step, in Rust. Each
//! step is a module here (the code to learn), a program in `steps/` (run it and watch what the
//! kernel does), a test file in `tests/` (proof, and the grader of the classroom exercises) and a
//! chapter of the book in `book/`.
//!
//! ## Layout
//!
//! | module | the call | run it | its tests | chapter |
//! |---|---|---|---|---|
//! | [`step1_create`] | `socket(2)` | `cargo run --bin step1_create` | `tests/step1_create.rs` | 1. Create |
//! | [`step2_bind`] | `bind(2)` | `cargo run --bin step2_bind` | `tests/step2_bind.rs` | 2. Bind |
//! | [`step3_listen`] | `listen(2)` | `cargo run --bin step3_listen` | `tests/step3_listen.rs` | 3. Listen |
//! | [`step4_accept`] | `accept(2)` | `cargo run --bin step4_accept` | `tests/step4_accept.rs` | 4. Accept |
//! | [`step5_process`] | `send(2)`, `recv(2)` | `cargo run --bin step5_process` | `tests/step5_process.rs` | 5. Process |
//! | [`step6_close`] | `close(2)`, `shutdown(2)` | `cargo run --bin step6_close` | `tests/step6_close.rs` | 6. Close |
//! | [`client`] | `connect(2)` | `cargo run --bin client` | `tests/client.rs` | 7. The client |
//! | [`echo`] | the seed's demo | `cargo run --bin echo_server`, `echo_client` | `tests/echo.rs` | 8. The echo demo |
//! | [`udp`] | `recvfrom(2)`, `sendto(2)` | `cargo run --bin udp_echo_server`, `udp_echo_client` | `tests/udp.rs` | Datagrams |
//! | `unix_domain` (Unix only) | `AF_UNIX` | `cargo run --bin unix_echo_server`, `unix_echo_client` | `tests/unix_domain.rs` | Unix-domain sockets |
//! | [`ipv6`] | `AF_INET6`, `IPV6_V6ONLY` | (tests only) | `tests/ipv6.rs` | IPv6 |
//! | [`raw`] | `SOCK_RAW` | (tests only) | `tests/raw.rs` | Raw sockets |
//! | [`wire`] | `AF_PACKET`, classic BPF | any step with `--wire` (Linux, `CAP_NET_RAW`) | `tests/wire.rs` | Reading the wire |
//! | [`experiments`] | the tutorial's claims, checked | (tests only) | `tests/experiments.rs` | Experiments |
//! | [`framing`] | messages over a byte stream | (tests only) | `tests/framing.rs` | Framing a byte stream |
//! | [`threaded`] | a thread per connection | `cargo run --bin echo_server_threaded` | `tests/many_clients.rs`, `tests/faults.rs` | Many clients |
//! | [`nonblocking`] | `O_NONBLOCK`, `EAGAIN`, `EINPROGRESS` | `cargo run --bin nonblocking` | `tests/nonblocking.rs` | Non-blocking sockets |
//! | [`readiness`] | `poll(2)`, `epoll(7)` (Linux) | `cargo run --bin event_loop` | `tests/events.rs` | Event loops |
//! | [`events`] | one thread, an `epoll` loop | `cargo run --bin echo_server_events` | `tests/events.rs`, `tests/faults.rs` | Event loops |
//! | [`asynchronous`] | tokio: a task per connection, one thread | `cargo run --bin echo_server_async` | `tests/asynchronous.rs`, `tests/faults.rs` | Async (tokio) |
//! | [`bench`](mod@bench) | measuring the servers | `cargo run --release --bin bench_echo` | `tests/bench.rs` | Performance |
//! | `c10k` (Linux only) | 10,000 connections held at once | `target/release/bench_c10k` | `tests/bench.rs` | Performance |
//!
//! Helpers that the steps share: [`cli`] (every program's arguments, described once with `clap`:
//! `HOST:PORT`, `--with-client`, durations, `--help`), [`narrate`] (the printed narration of each call, shared by the step binaries),
//! [`advice`] (turning `os error 98` into what to do next) and [`proc_net`] (reading the
//! kernel's TCP table, `/proc/net/tcp`, to show each socket's state, and its counters; Linux only)
//! and [`syn_retries`] (when an unanswered SYN is sent again, computed from the running kernel's
//! settings).
//!
//! For teachers: the classroom runner is a package of its own (`classroom/`, run as
//! `cargo classroom ...`): it makes student copies in which each exercise region of these modules
//! (`// EXERCISE 4.1` ... `// END EXERCISE 4.1`) is a `todo!()`, and grades a student's work with
//! the tests. All this crate knows of it is the `todo!` message of an exercise ([`cli::exercise_todo`]).
//!
//! Where teaching won over realism: every step calls the system call on its own through
//! [`socket2`], where a real program would write `TcpListener::bind` and let std do socket + bind
//! + listen at once. Each module shows that std spelling beside the separate calls.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod step1_create;
pub mod step2_bind;
pub mod step3_listen;
pub mod step4_accept;
pub mod step5_process;
pub mod step6_close;

pub mod asynchronous;
pub mod bench;
#[cfg(target_os = "linux")]
pub mod c10k;
pub mod client;
pub mod echo;
pub mod threaded;

pub mod events;
pub mod nonblocking;
pub mod readiness;

pub mod experiments;
pub mod framing;
pub mod ipv6;
pub mod raw;
pub mod udp;
#[cfg(unix)]
pub mod unix_domain;
pub mod wire;

pub mod advice;
pub mod cli;
pub mod narrate;
pub mod proc_net;
pub mod syn_retries;
