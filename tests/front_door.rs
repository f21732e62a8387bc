//! Every program's front door: `--help`, `--version` and wrong arguments, for every program that
//! `Cargo.toml` lists, so that a new program is checked the day it is added.
//!
//! Each program describes its arguments with `clap` (see `src/cli/mod.rs`). Here we check what a
//! user sees: help and version on standard output with exit status 0; for anything wrong, one
//! line on standard error that names the program's real options, exit status 1, never a panic.
//! The wrong argument vectors below are refused before any socket exists, so no test here
//! touches the network.

mod support;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Output;

/// Programs whose arguments are not read by `socket_steps::cli` (none since the classroom
/// runner moved to its own package, `classroom/`, with its own tests).
const NOT_OURS: &[&str] = &[];

/// Every `[[bin]]` of `Cargo.toml`, by name, but those whose arguments are not ours.
fn programs() -> Vec<String> {
    let mut names = support::programs();
    names.retain(|name| !NOT_OURS.contains(&name.as_str()));
    names
}

fn exe(program: &str) -> PathBuf {
    support::program(program)
}

fn run(program: &str, args: &[OsString]) -> Output {
    support::run_os(&exe(program).to_string_lossy(), args)
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// Asserts a clean refusal of one line, and returns it.
fn refused(program: &str, args: &[OsString]) -> String {
    let output = run(program, args);
    let error = support::assert_clean_failure(&output);
    let shown = format!("{program} {args:?}");
    assert!(
        output.stdout.is_empty(),
        "{shown} printed on stdout:\n{}",
        support::stdout(&output)
    );
    assert_eq!(
        error.lines().count(),
        1,
        "{shown}: more than one line:\n{error}"
    );
    assert!(
        error.chars().count() <= 250,
        "{shown}: {} characters:\n{error}",
        error.len()
    );
    error
}

/// The help text of `program` (checked: stdout, exit 0).
fn help(program: &str, flag: &str) -> String {
    let output = run(program, &os(&[flag]));
    support::assert_success(&output);
    assert!(output.stderr.is_empty(), "{program} {flag} wrote on stderr");
    let help = support::stdout(&output);
    assert!(
        help.contains(&format!("Usage: {program}")),
        "{program} {flag}:\n{help}"
    );
    help
}

/// The `--long` options that `--help` lists: the first word of each line of its option table.
fn options_in_help(help: &str) -> Vec<String> {
    help.lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with('-'))
        .filter_map(|line| line.split_whitespace().find(|word| word.starts_with("--")))
        .map(|word| word.trim_end_matches(',').to_string())
        .collect()
}

#[test]
fn every_program_prints_its_own_help_on_stdout() {
    for program in programs() {
        let long = help(&program, "--help");
        let short = help(&program, "-h");
        assert!(
            long.contains(&format!("cargo run --bin {program}")),
            "{long}"
        );
        assert!(
            short.len() <= long.len(),
            "{program}: -h is longer than --help"
        );
        // The steps' flag only where it means something.
        let waits_for_a_peer = [
            "step3_listen",
            "step4_accept",
            "step5_process",
            "step6_close",
        ];
        assert_eq!(
            long.contains("--with-client"),
            waits_for_a_peer.contains(&program.as_str()),
            "{program}:\n{long}"
        );
    }
}

#[test]
fn every_program_prints_its_version() {
    for program in programs() {
        let output = run(&program, &os(&["--version"]));
        support::assert_success(&output);
        assert_eq!(
            support::stdout(&output),
            format!("{program} {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn an_unknown_option_is_answered_with_the_programs_real_options() {
    for program in programs() {
        let error = refused(&program, &os(&["--no-such-option"]));
        assert!(
            error.contains(&format!("{program} has no option `--no-such-option`")),
            "{error}"
        );
        for option in options_in_help(&help(&program, "--help")) {
            assert!(
                error.contains(&option),
                "{program}: {option} is not named in:\n{error}"
            );
        }
    }
}

#[test]
fn a_surplus_argument_is_refused() {
    for program in programs() {
        let help = help(&program, "-h");
        if help.contains("[MESSAGE]...") {
            continue; // every further argument is a message
        }
        let first = if help.contains("[PATH]") {
            "some.sock"
        } else {
            "127.0.0.1:0"
        };
        let mut args = vec![first, "surplus"];
        if !help.contains("[HOST:PORT]") && !help.contains("[PATH]") {
            args.remove(0); // takes no arguments at all
        }
        let error = refused(&program, &os(&args));
        assert!(
            error.contains("`surplus` is one argument too many"),
            "{error}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_non_utf8_text_argument_is_a_clear_error() {
    use std::os::unix::ffi::OsStringExt;
    let latin1 = OsString::from_vec(b"caf\xe9".to_vec());
    for program in programs() {
        let mut args = vec![latin1.clone()];
        if help(&program, "-h").contains("[PATH]") {
            // A path may be any bytes: the text comes after it.
            args.insert(0, "some.sock".into());
        }
        let error = refused(&program, &args);
        assert!(
            error.contains("is not UTF-8 text") || error.contains("is one argument too many"),
            "{program}: {error}"
        );
    }
}

#[test]
fn hostile_arguments_are_refused_without_a_panic() {
    let huge = "9".repeat(5000);
    let options = [
        "-Z".to_string(),
        "--with-client=yes".to_string(),
        "--quick=1".to_string(),
        "--write-timeout=1e20".to_string(),
        "--write-timeout=1e19".to_string(),
        "--write-timeout=18446744073709551615".to_string(),
        "--write-timeout=0".to_string(),
        "--write-timeout=-1".to_string(),
        "--write-timeout=inf".to_string(),
        "--write-timeout=NaN".to_string(),
        format!("--write-timeout={huge}"),
        "--idle-timeout=1e20".to_string(),
        "--idle-timeout=0".to_string(),
        "--max-clients=0".to_string(),
        format!("--max-clients={huge}"),
        "--max-clients=-3".to_string(),
        "--write-timeout".to_string(),
        format!("--{}", "x".repeat(5000)),
        "--line\nbreak".to_string(),
    ];
    let addresses = [
        "[::1",
        "[fe80::1",
        "::1:80",
        "[::1]",
        "[::1]x",
        "127.0.0.1:99999",
        "127.0.0.1:-1",
        ":80",
        "localhost",
        &format!("{huge}:{huge}"),
    ];
    for program in programs() {
        let takes_address = help(&program, "-h").contains("[HOST:PORT]");
        for arg in &options {
            refused(&program, &os(&[arg]));
        }
        if takes_address {
            for address in addresses {
                let error = refused(&program, &os(&[address]));
                assert!(error.starts_with("error: [HOST:PORT]: `"), "{error}");
            }
        }
    }
}

/// An empty MESSAGE is refused by every client of a byte stream, before it connects: over TCP
/// or a Unix stream socket an empty `send` sends nothing, and the client would wait for a reply
/// in silence (30 s). The UDP client sends it: an empty datagram is a message.
#[test]
fn a_stream_client_refuses_an_empty_message() {
    for program in programs() {
        let help = help(&program, "-h");
        if !help.contains("[MESSAGE]...") || program.starts_with("udp_") {
            continue;
        }
        let to = if help.contains("[PATH]") {
            "no-such.sock"
        } else {
            "127.0.0.1:9"
        };
        let error = refused(&program, &os(&[to, "first", ""]));
        assert!(error.contains("MESSAGE 2 is empty"), "{program}: {error}");
    }
}

#[test]
fn both_servers_take_the_same_durations() {
    for program in ["echo_server", "echo_server_threaded"] {
        let error = refused(program, &os(&["--write-timeout=0"]));
        assert!(error.contains("the shortest is 1ms"), "{error}");
        let error = refused(program, &os(&["--write-timeout=25h"]));
        assert!(error.contains("the longest is 24h"), "{error}");
    }
}

/// The list of programs has one source, the `[[bin]]`s of `Cargo.toml`; the README's table of
/// programs and the crate's map (`src/lib.rs`) are written by hand, so we check that each names
/// every program.
#[test]
fn the_readme_and_the_crate_map_name_every_program() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |file: &str| std::fs::read_to_string(root.join(file)).expect(file);
    let (readme, lib) = (read("README.md"), read("src/lib.rs"));
    let map: String = lib.lines().filter(|l| l.starts_with("//! |")).collect();
    let mut missing = Vec::new();
    for program in support::programs() {
        // A row of the README's table of programs: `cargo run --bin NAME ...` or a built
        // `target/release/NAME`.
        let row = |line: &&str| {
            let command = line.split(" | ").next().unwrap_or_default();
            command.split([' ', '`', '/']).any(|word| word == program)
                && (command.contains("--bin") || command.contains("target/"))
        };
        if !readme
            .lines()
            .filter(|l| l.starts_with("| `"))
            .any(|l| row(&l))
        {
            missing.push(format!(
                "README.md's table of programs has no row for {program}"
            ));
        }
        if !map.contains(&format!("{program}`")) {
            missing.push(format!("src/lib.rs's Layout table does not name {program}"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
