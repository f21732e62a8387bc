//! Command-line conventions shared by every program in `steps/`.
//!
//! Every program describes its arguments once, declaratively: a struct with
//! `#[derive(clap::Parser)]` at the top of its file, whose doc comments are its `--help` (the way
//! mini-redis does it). Its `main` reads the command line with [`parse`]:
//!
//! ```no_run
//! use socket_steps::cli;
//!
//! /// Step 4: accept one connection.
//! #[derive(clap::Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     common: cli::Common,
//!     #[command(flatten)]
//!     listen: cli::Listen,
//!     #[command(flatten)]
//!     with_client: cli::WithClient,
//! }
//!
//! cli::run_main(|| {
//!     let args: Args = cli::parse()?;
//!     let addr = args.listen.addr()?;
//!     Ok(())
//! });
//! ```
//!
//! What every program then does, from that description alone: `--help`/`-h` prints its own usage
//! and options on standard output and exits 0; `--version` prints its version; an unknown option,
//! a surplus argument, a bad value or a non-UTF-8 text argument is one line on standard error
//! naming that program's real options, and exit status 1 (never a panic). Paths are `PathBuf`s,
//! so they may be any bytes the file system takes.
//!
//! The groups several programs share are in [`options`]: [`Listen`] (a server's `[HOST:PORT]`,
//! default `127.0.0.1:50007`), [`Connect`] (a client's), [`WithClient`], [`Messages`] (one message
//! per argument), [`UnixPath`], [`WireFlags`] (`--wire`, `--pcap FILE`), [`WriteTimeout`] and
//! [`Timeouts`]; durations are read by
//! [`duration::parse_duration`] (`10s`, `500ms`, `2m`), with bounds.
//!
//! **Adding a flag to every program is a one-line change:** add a field to [`Common`], which every
//! program flattens. A flag for some programs (say, every step binary and client) is a group of
//! its own like [`WithClient`], plus one `#[command(flatten)]` line in each of those programs.
//! A new program copies the pattern above; `tests/front_door.rs` finds it in `Cargo.toml` and
//! checks its `--help`, `--version` and errors with everybody else's.

use std::ffi::OsString;

use anyhow::anyhow;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::ArgMatches;

pub mod duration;
mod host_port;
pub mod options;

pub use host_port::{resolve, HostPort};
pub use options::{
    clients, Common, Connect, Listen, Messages, Timeouts, UnixPath, WireFlags, WithClient,
    WriteTimeout, DEFAULT_ADDR, DEFAULT_PORT,
};

/// Reads this program's command line (`std::env::args_os`) into its argument struct `T`.
///
/// `--help`, `-h` and `--version` print to standard output and end the program with status 0, as
/// command-line tools do. Anything wrong is an error of one line that names the program's
/// options ([`run_main`] prints it and exits 1).
pub fn parse<T: clap::Parser>() -> anyhow::Result<T> {
    match read(std::env::args_os()) {
        Ok(args) => Ok(args),
        Err(Stop::Show(text)) => {
            print!("{text}");
            std::process::exit(0)
        }
        Err(Stop::Wrong(error)) => Err(error),
    }
}

/// Why [`read`] did not give arguments to run with.
#[derive(Debug)]
pub enum Stop {
    /// `--help` or `--version`: this text goes to standard output, and the program ends well.
    Show(String),
    /// The arguments are wrong: this one-line error goes to standard error, exit status 1.
    Wrong(anyhow::Error),
}

/// [`parse`] without touching the process: the first item of `args` is the program's path, whose
/// file name (`step4_accept`) names the program in its usage and messages.
pub fn read<T: clap::Parser>(args: impl IntoIterator<Item = OsString>) -> Result<T, Stop> {
    let args: Vec<OsString> = args.into_iter().collect();
    let program = args
        .first()
        .map(std::path::Path::new)
        .and_then(|path| path.file_stem())
        .map_or_else(
            || "program".to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
    let mut command = T::command()
        .name(program.clone())
        .bin_name(program.clone())
        .version(env!("CARGO_PKG_VERSION"))
        // `--write-timeout=2s --write-timeout=5s`: the last one counts, as in most tools.
        .args_override_self(true)
        .after_help(format!(
            "From the crate's folder: cargo run --bin {program} -- [ARGUMENTS]"
        ));
    let matches: ArgMatches = match command.try_get_matches_from_mut(&args) {
        Ok(matches) => matches,
        Err(error) => match error.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                return Err(Stop::Show(error.render().to_string()))
            }
            _ => return Err(Stop::Wrong(one_line(&error, &mut command, &args))),
        },
    };
    T::from_arg_matches(&matches)
        .map_err(|error| Stop::Wrong(one_line(&error, &mut command, &args)))
}

/// Turns clap's error (several lines, with a usage block) into our one line: what is wrong, the
/// input quoted once and shortened, and what the program takes instead.
fn one_line(error: &clap::Error, command: &mut clap::Command, args: &[OsString]) -> anyhow::Error {
    let program = command.get_name().to_string();
    let text = |kind| match error.get(kind) {
        Some(ContextValue::String(text)) => Some(text.clone()),
        _ => None,
    };
    let options = option_list(command);
    match error.kind() {
        ErrorKind::InvalidUtf8 => {
            let (number, arg) = args
                .iter()
                .enumerate()
                .skip(1)
                .find(|(_, arg)| arg.to_str().is_none())
                .map_or((0, String::new()), |(n, arg)| {
                    (n, arg.to_string_lossy().into_owned())
                });
            anyhow!(
                "argument {number}, {}, is not UTF-8 text: {program} reads its arguments as \
                 text (only socket paths may be any bytes); write it in UTF-8",
                quote(&arg)
            )
        }
        ErrorKind::UnknownArgument => {
            let arg = text(ContextKind::InvalidArg).unwrap_or_default();
            if arg.starts_with('-') && arg.len() > 1 {
                let guess = match text(ContextKind::SuggestedArg) {
                    Some(suggested) => format!(" (did you mean `{suggested}`?)"),
                    None => String::new(),
                };
                anyhow!(
                    "{program} has no option {}{guess}; its options are {options}",
                    quote(&arg)
                )
            } else {
                anyhow!(
                    "{} is one argument too many: {program} takes {}",
                    quote(&arg),
                    usage(command)
                )
            }
        }
        // `--write-timeout` with nothing after it. Clap says "a value is required for
        // '--write-timeout <DURATION>' but none was supplied"; we say it shorter, so that the
        // line has room for the program's options.
        ErrorKind::InvalidValue
            if text(ContextKind::InvalidValue).map_or(true, |value| value.is_empty()) =>
        {
            let arg = text(ContextKind::InvalidArg).unwrap_or_default();
            let name = arg.split(' ').next().unwrap_or(&arg).to_string();
            anyhow!("{name} needs a value; {program} takes {}", usage(command))
        }
        ErrorKind::ValueValidation => {
            let arg = text(ContextKind::InvalidArg).unwrap_or_default();
            let name = arg.split(' ').next().unwrap_or(&arg).to_string();
            let value = text(ContextKind::InvalidValue).unwrap_or_default();
            let reason = std::error::Error::source(error)
                .map_or_else(|| "is not valid".to_string(), |source| source.to_string());
            anyhow!("{name}: {} {reason}", quote(&value))
        }
        _ => {
            // Clap's own first line, e.g. "a value is required for '--write-timeout <DURATION>'".
            let rendered = error.render().to_string();
            let first = rendered
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ")
                .to_string();
            anyhow!(
                "{}; {program} takes {}",
                shorten(&first, 120),
                usage(command)
            )
        }
    }
}

/// `--with-client, -h/--help, -V/--version`: every option `command` has, for error messages.
fn option_list(command: &mut clap::Command) -> String {
    command.build();
    let names: Vec<String> = command
        .get_arguments()
        .filter(|arg| !arg.is_positional())
        .map(|arg| {
            let long = arg.get_long().map(|long| format!("--{long}"));
            let short = arg.get_short().map(|short| format!("-{short}"));
            let takes_value = arg.get_action().takes_values();
            let name = match (short, long) {
                (Some(short), Some(long)) => format!("{short}/{long}"),
                (short, long) => short.or(long).unwrap_or_default(),
            };
            match arg.get_value_names().and_then(|names| names.first()) {
                Some(value) if takes_value => format!("{name}={value}"),
                _ => name,
            }
        })
        .collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => "none".to_string(),
    }
}

/// `[HOST:PORT] [MESSAGE]...`: a program's arguments in one line, for error messages.
fn usage(command: &mut clap::Command) -> String {
    command.build();
    let positionals: Vec<String> = command
        .get_positionals()
        .map(|arg| {
            let name = arg
                .get_value_names()
                .and_then(|names| names.first())
                .map_or_else(|| arg.get_id().to_string(), |name| name.to_string());
            let many = matches!(arg.get_num_args(), Some(range) if range.max_values() > 1);
            format!("[{name}]{}", if many { "..." } else { "" })
        })
        .collect();
    let arguments = if positionals.is_empty() {
        "no arguments".to_string()
    } else {
        positionals.join(" ")
    };
    format!("{arguments} and the options {}", option_list(command))
}

/// An error and its causes as one line: `what happened and what to do; caused by: the system's
/// words`. A cause the message already states is not repeated: when our advice names the error
/// (`(EADDRINUSE)`), the system's words would say it again, so only its number follows
/// (`[os error 98]`).
pub fn one_line_chain(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        let named = line.contains("(E");
        let os_code = cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::raw_os_error);
        if line.contains(&text) {
            continue;
        } else if named && cause.is::<std::io::Error>() {
            if let Some(code) = os_code {
                line.push_str(&format!(" [os error {code}]"));
            }
        } else {
            line.push_str("; caused by: ");
            line.push_str(&text);
        }
    }
    line.lines().collect::<Vec<_>>().join(" ")
}

/// How many characters of a user's input an error message quotes at most.
const QUOTED_CHARS: usize = 40;

/// `text` in backticks for a message: at most [`QUOTED_CHARS`] characters (a long input is cut,
/// with `...`), and control characters written as escapes so the message stays on one line.
pub fn quote(text: &str) -> String {
    format!("`{}`", shorten(text, QUOTED_CHARS))
}

/// `text` cut to at most `chars` characters (ending in `...` when cut), with control characters
/// escaped (`\n`).
pub fn shorten(text: &str, chars: usize) -> String {
    let escaped: String = text
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if escaped.chars().count() <= chars {
        escaped
    } else {
        let kept: String = escaped.chars().take(chars.saturating_sub(3)).collect();
        format!("{kept}...")
    }
}

/// Reads the `todo!` message of a classroom exercise: for
/// `"4.1: accept one connection — read step4-accept.md; stuck? cargo classroom hint 4.1"` it
/// returns `("4.1", "accept one connection")`.
///
/// This is the one thing the lessons know of the classroom runner (`classroom/`, which writes
/// these `todo!`s into a student copy): an exercise's message starts with its id `N.M`, a colon
/// and its title, and the title ends at ` — ` if anything follows.
pub fn exercise_todo(message: &str) -> Option<(&str, &str)> {
    let (id, rest) = message.split_once(": ")?;
    let (chapter, number) = id.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(chapter) || !digits(number) {
        return None;
    }
    Some((id, rest.split_once(" — ").map_or(rest, |(title, _)| title)))
}

/// The environment variable with which a test asks a program it starts to end when the test
/// process is gone, even killed by SIGKILL, when no `Drop` of the test runs to stop it. Its value
/// is the test process's id. Not for people: a server run by hand never sees it.
pub const END_WITH_PARENT: &str = "SOCKET_STEPS_END_WITH_PARENT";

/// With [`END_WITH_PARENT`] set, asks the kernel to kill us when our parent ends:
/// `prctl(PR_SET_PDEATHSIG, SIGKILL)` (Linux). The kernel sends it when the *thread* that started
/// us exits, which for a test is the test's own thread: the server then lives as long as the
/// test. If the test process ended before the call, nothing will send it: we exit at once.
/// (Started through a wrapper such as `sh` or `unshare`, we die with the wrapper.) Elsewhere
/// this does nothing.
fn end_with_parent() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(test) = std::env::var(END_WITH_PARENT)
        .ok()
        .and_then(|pid| pid.parse::<u32>().ok())
    {
        use rustix::process::{set_parent_process_death_signal, Signal};
        let gone = !std::path::Path::new(&format!("/proc/{test}")).exists();
        if set_parent_process_death_signal(Some(Signal::KILL)).is_err() || gone {
            std::process::exit(1);
        }
    }
}

/// Runs a binary's real `main` and turns an error into one clear message and exit status 1.
///
/// We never let an error escape as a panic or as Rust's default `Error: Os { code: 98, .. }`
/// debug print: the reader sees what happened, why, and what to do next. A `todo!()` left in a
/// classroom exercise is reported as "exercise N.M is not done yet" instead of a panic trace.
pub fn run_main(try_main: impl FnOnce() -> anyhow::Result<()>) {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        let todo = message.strip_prefix("not yet implemented: ");
        let place = info
            .location()
            .map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
        if message.starts_with("failed printing to stdout") {
            // The reader closed our output early (e.g. `| head`): stop quietly, as `cat` does.
        } else if let Some((id, title)) = todo.and_then(exercise_todo) {
            eprintln!("exercise {id} is not done yet: {title}");
            eprintln!("  write its code in place of the todo!(){place};");
            eprintln!("  stuck? `cargo classroom hint {id}`; done? `cargo classroom check {id}`");
        } else if let Some(what) = todo {
            eprintln!("not written yet{place}: {what}");
        } else {
            eprintln!("bug: this program panicked: {info}");
        }
    }));
    end_with_parent();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(try_main));
    match result {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            eprintln!("error: {}", one_line_chain(&error));
            std::process::exit(1);
        }
        Err(_) => std::process::exit(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exercise_todo_names_its_exercise() {
        assert_eq!(
            exercise_todo(
                "4.1: accept one connection — read step4-accept.md; stuck? cargo classroom hint 4.1"
            ),
            Some(("4.1", "accept one connection"))
        );
        assert_eq!(exercise_todo("4.1: no page"), Some(("4.1", "no page")));
        assert_eq!(exercise_todo("just a todo"), None);
        assert_eq!(exercise_todo("x.1: no"), None);
    }

    /// A program with each kind of argument, as the real ones have.
    #[derive(clap::Parser, Debug)]
    struct Example {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        listen: Listen,
        #[command(flatten)]
        with_client: WithClient,
        #[command(flatten)]
        write: WriteTimeout,
    }

    fn read_example(list: &[&str]) -> Result<Example, Stop> {
        read(
            ["/x/target/debug/example"]
                .iter()
                .chain(list)
                .map(OsString::from),
        )
    }

    fn wrong(list: &[&str]) -> String {
        match read_example(list) {
            Err(Stop::Wrong(error)) => {
                let message = error.to_string();
                assert!(!message.contains('\n'), "{message}");
                assert!(
                    message.len() <= 200,
                    "{} characters: {message}",
                    message.len()
                );
                message
            }
            other => panic!("{list:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn defaults_to_loopback_on_the_seed_port() {
        let parsed = read_example(&[]).unwrap();
        assert_eq!(parsed.listen.host_port.to_string(), "127.0.0.1:50007");
        assert!(!parsed.with_client.with_client);
        assert_eq!(
            parsed.listen.addr().unwrap(),
            "127.0.0.1:50007".parse().unwrap()
        );
        assert_eq!(parsed.write.write_timeout, crate::echo::WRITE_TIMEOUT);
    }

    #[test]
    fn the_defaults_in_help_are_the_library_constants() {
        #[derive(clap::Parser)]
        struct Threaded {
            #[command(flatten)]
            timeouts: Timeouts,
        }
        let Ok(parsed) = read::<Threaded>(["threaded".into()]) else {
            panic!("no arguments refused")
        };
        assert_eq!(parsed.timeouts.idle_timeout, crate::threaded::IDLE_TIMEOUT);
        assert_eq!(
            parsed.timeouts.write.write_timeout,
            crate::threaded::WRITE_TIMEOUT
        );
        assert_eq!(crate::threaded::WRITE_TIMEOUT, crate::echo::WRITE_TIMEOUT);
    }

    #[test]
    fn reads_host_port_and_flag_in_any_order() {
        let parsed = read_example(&["--with-client", "127.0.0.1:0", "--write-timeout=2s"]).unwrap();
        assert_eq!(parsed.listen.host_port.port(), 0);
        assert!(parsed.with_client.with_client);
        assert_eq!(
            parsed.write.write_timeout,
            std::time::Duration::from_secs(2)
        );
    }

    #[test]
    fn help_and_version_are_shown_not_refused() {
        for flag in ["--help", "-h"] {
            let Err(Stop::Show(help)) = read_example(&[flag]) else {
                panic!("{flag} did not show help")
            };
            assert!(
                help.contains("Usage: example [OPTIONS] [HOST:PORT]"),
                "{help}"
            );
            assert!(help.contains("--write-timeout <DURATION>"), "{help}");
            assert!(help.contains("cargo run --bin example"), "{help}");
        }
        let Err(Stop::Show(version)) = read_example(&["--version"]) else {
            panic!("--version did not show the version")
        };
        assert_eq!(
            version.trim(),
            format!("example {}", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn errors_name_the_programs_own_options() {
        let unknown = wrong(&["--nope"]);
        assert!(
            unknown.contains("example has no option `--nope`"),
            "{unknown}"
        );
        assert!(
            unknown.contains("--with-client, --write-timeout=DURATION, -h/--help and -V/--version"),
            "{unknown}"
        );
        let typo = wrong(&["--with-clinet"]);
        assert!(typo.contains("did you mean `--with-client`?"), "{typo}");
        let surplus = wrong(&["127.0.0.1:0", "extra"]);
        assert!(
            surplus.starts_with("`extra` is one argument too many: example takes [HOST:PORT]"),
            "{surplus}"
        );
        let missing = wrong(&["--write-timeout"]);
        assert!(missing.contains("--write-timeout"), "{missing}");
    }

    #[test]
    fn bad_values_are_quoted_once() {
        let timeout = wrong(&["--write-timeout=1e20"]);
        assert_eq!(timeout.matches("1e20").count(), 1, "{timeout}");
        assert!(
            timeout.starts_with("--write-timeout: `1e20` is not a duration"),
            "{timeout}"
        );
        let zero = wrong(&["--write-timeout", "0"]);
        assert!(zero.contains("no timeout at all"), "{zero}");
        let address = wrong(&["[::1"]);
        assert!(
            address.starts_with("[HOST:PORT]: `[::1` is missing the `]`"),
            "{address}"
        );
        let long = wrong(&[&format!("--write-timeout={}", "9".repeat(5000))]);
        assert!(long.contains("..."), "{long}");
    }

    #[cfg(unix)]
    #[test]
    fn a_non_utf8_argument_is_an_error_not_a_panic() {
        use std::os::unix::ffi::OsStringExt;
        let args = vec![
            OsString::from("example"),
            OsString::from_vec(b"caf\xe9:80".to_vec()),
        ];
        let Err(Stop::Wrong(error)) = read::<Example>(args) else {
            panic!("non-UTF-8 accepted")
        };
        let error = error.to_string();
        assert!(
            error.starts_with("argument 1, `caf\u{fffd}:80`, is not UTF-8 text"),
            "{error}"
        );
    }

    #[test]
    fn quoting_keeps_one_line_and_cuts_long_input() {
        assert_eq!(quote("a\nb"), "`a\\nb`");
        assert_eq!(shorten(&"x".repeat(50), 10), "xxxxxxx...");
    }
}
