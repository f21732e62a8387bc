//! The newcomer's way through the steps: a server in one terminal, and in another the command
//! that the server prints. Each test starts the server, reads that command from its output, runs
//! it exactly as printed (our `client`, or Debian's `nc -N`), and checks that it ends as the
//! server says, within a deadline.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use support::Server;

const CLIENT: &str = env!("CARGO_BIN_EXE_client");

/// The words of the command in the server's line that contains `start` (e.g. `nc -N`), up to
/// `end` if given: `  or: nc -N 127.0.0.1 4242   (type...` gives `["nc", "-N", "127.0.0.1", "4242"]`.
fn suggested(server: &Server, start: &str, end: &str) -> Vec<String> {
    let line = support::wait_for_line(&server.lines, start);
    let from = &line[line.find(start).expect("found")..];
    let command = from.split(end).next().expect("split gives one piece");
    command.split_whitespace().map(String::from).collect()
}

/// Runs the `nc` command a server printed, with `input` on its standard input and then end of
/// file, as a reader types a line and Ctrl-D; returns what nc printed. `nc` must end by itself.
fn run_nc(words: &[String], input: &str) -> String {
    assert_eq!(words[..2], ["nc", "-N"], "the suggested command: {words:?}");
    let mut nc = Command::new(&words[0])
        .args(&words[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nc");
    let mut stdin = nc.stdin.take().expect("piped stdin");
    stdin.write_all(input.as_bytes()).expect("write to nc");
    drop(stdin); // end of file, as Ctrl-D
    let output = support::wait_with_limit(nc, "the suggested nc command");
    support::assert_success(&output);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs the `cargo run --bin client -- ARGS` a server printed, as the built client with ARGS.
fn run_client(server: &Server, extra: &[&str]) -> String {
    let words = suggested(server, "cargo run --bin client -- ", "\n");
    // `cargo run --bin client -- ARGS`: everything after `--` is the client's.
    let mut args: Vec<&str> = words[5..].iter().map(String::as_str).collect();
    args.extend_from_slice(extra);
    let output = support::run(CLIENT, &args);
    support::assert_success(&output);
    support::stdout(&output)
}

fn start(program: &str) -> Server {
    let exe = std::path::Path::new(CLIENT)
        .with_file_name(format!("{program}{}", std::env::consts::EXE_SUFFIX));
    support::start_server(&exe.to_string_lossy(), &["127.0.0.1:0"])
}

#[test]
fn the_echo_servers_nc_command_ends_with_the_reply() {
    let Some(_) = support::netcat() else { return };
    let mut server = start("echo_server");
    let nc = suggested(&server, "nc -N", ",");
    assert_eq!(run_nc(&nc, "hello\n"), "|From Server| hello\n");
    server.child.kill().expect("stop the server");
}

#[test]
fn step5s_nc_command_ends_with_the_reply() {
    let Some(_) = support::netcat() else { return };
    let mut server = start("step5_process");
    let nc = suggested(&server, "nc -N", "(");
    assert_eq!(run_nc(&nc, "hello\n"), "|From Server| hello\n");
    assert!(server.wait_for_exit(), "step 5 ends after its one client");
}

#[test]
fn step6s_nc_command_ends_when_the_server_closes() {
    let Some(_) = support::netcat() else { return };
    let mut server = start("step6_close");
    let nc = suggested(&server, "nc -N", "(");
    assert_eq!(run_nc(&nc, "hello\n"), "|From Server| hello\n");
    assert!(server.wait_for_exit(), "step 6 ends after its one client");
}

/// Step 5 in two terminals shows what its `--with-client` run shows: a long message taken by
/// `recv(1024)` in pieces, and the client reading every reply until end of file.
#[test]
fn step5s_client_command_shows_the_long_message_in_pieces() {
    let mut server = start("step5_process");
    let client = run_client(&server, &[]);
    assert!(client.contains("-> 2500 bytes"), "{client}");
    assert!(client.contains("shutdown(fd 3, SHUT_WR) -> ok"), "{client}");
    assert!(client.contains("-> 0 bytes: end of file"), "{client}");
    assert!(server.wait_for_exit(), "step 5 ends after its one client");
    let pieces: Vec<String> = server
        .lines
        .try_iter()
        .filter(|line| line.starts_with("recv("))
        .collect();
    assert!(
        pieces.len() >= 4,
        "a long message in pieces, then end of file: {pieces:#?}"
    );
    assert!(pieces[0].contains("-> 1024 bytes"), "{pieces:#?}");
    assert!(pieces.last().unwrap().contains("-> 0 bytes"), "{pieces:#?}");
}

/// Step 6 in two terminals: the client command it prints sees the server's end of file.
#[test]
fn step6s_client_command_sees_the_end_of_file() {
    let mut server = start("step6_close");
    let client = run_client(&server, &[]);
    assert!(
        client.contains("recv(fd 3, 1024) -> '|From Server| Hello network world'"),
        "{client}"
    );
    assert!(
        client.contains("recv(fd 3, 1024) -> 0 bytes: end of file"),
        "{client}"
    );
    assert!(server.wait_for_exit(), "step 6 ends after its one client");
}

/// Step 3 in two terminals: nothing accepts, so the client says that it is waiting, and why,
/// instead of waiting silently. (We shorten its patience; by default it is 30 s.)
#[test]
fn against_step3_the_client_says_it_is_waiting_and_why() {
    let mut server = start("step3_listen");
    let client = run_client(&server, &["--reply-timeout=1500ms"]);
    support::assert_contains_all(
        &client,
        &[
            "recv(fd 3, 1024) ... no reply after 1s; waiting up to 1.5s (Ctrl-C stops)",
            "a server that has not accepted us yet (step 3) or is not reading cannot reply:",
            "recv(fd 3, 1024) -> no reply within 1.5s",
        ],
    );
    drop(server.stdin.take()); // Enter (here: end of file) lets step 3 go on and finish
    assert!(server.wait_for_exit(), "step 3 ends after Enter");
}
