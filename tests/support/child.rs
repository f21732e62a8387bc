//! Running one test's probe in a child process that differs from us in one way: a network
//! namespace of its own ([`in_private_network`]), or the unprivileged user ([`as_nobody`]).
//!
//! The child is this very test program, started again with `--exact NAME` so that it runs only
//! the test that asked, and with [`CHILD`] set to that name. The test calls the same helper
//! again in the child, which now runs the probe instead of starting another child. So a test
//! reads as one piece: everything it checks is inside the probe, and the parent only checks that
//! the child ran that test and passed. Code before the helper call runs in both processes.
//!
//! Why a child: a test process cannot enter a new namespace or drop root safely (that needs
//! `unsafe`, forbidden here, and would change every other test running in the same process).

use std::io;
use std::path::Path;
use std::process::{Command, Stdio};

use super::{is_root, skip, unprivileged, wait_with_limit};

/// Set, in the child, to the name of the test it runs.
pub const CHILD: &str = "SOCKET_STEPS_CHILD_TEST";

/// Set, in the child, when it runs in a network namespace of its own.
pub const PRIVATE_NETWORK: &str = "SOCKET_STEPS_PRIVATE_NETWORK";

/// The running test's full name: the test harness names each test's thread after it.
fn this_test() -> String {
    let thread = std::thread::current();
    match thread.name() {
        Some(name) if name != "main" => name.to_string(),
        _ => panic!("a child test is started from a #[test] function, whose thread has its name"),
    }
}

/// Whether this process is the child started for the running test.
fn we_are_the_child() -> bool {
    std::env::var(CHILD).is_ok_and(|name| name == this_test())
}

/// Whether this process is a child in a network namespace of its own (see [`in_private_network`]):
/// per-namespace sysctls and counters here are ours alone.
pub fn in_a_private_network() -> bool {
    std::env::var(PRIVATE_NETWORK).is_ok_and(|value| value == "1") && we_are_the_child()
}

/// Runs `command` (this test program, arguments still to add) as the child for the running test,
/// checks that it ran exactly that test and passed, and returns its standard output.
fn run_this_test(mut command: Command, how: &str) -> String {
    let test = this_test();
    let child = command
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, &test)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start the child {how}: {error}"));
    let output = wait_with_limit(child, &format!("{test} {how}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Shown by the harness when this test fails, or with `--nocapture`.
    println!("--- the child {how}:\n{stdout}{stderr}---");
    assert!(
        output.status.success(),
        "{test} failed {how}:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "the child {how} did not run {test}:\n{stdout}"
    );
    stdout
}

/// This test program's path.
fn this_program() -> String {
    let exe = std::env::current_exe().expect("the test program's path");
    exe.to_str()
        .expect("a UTF-8 path to the test program")
        .to_string()
}

// ANCHOR: in_private_network
/// Runs `probe` in a child process in a network namespace of its own (`unshare --net`), whose
/// only interface is its own loopback, brought up with `ip link set lo up`. Returns the child's
/// output (in the child itself, an empty string).
///
/// Nothing the probe sends can leave the machine, and whatever it changes — per-namespace sysctls
/// such as `net.ipv4.tcp_max_syn_backlog` or `ip_local_port_range`, routes, counters in
/// `/proc/net/netstat` that on the host already read in the thousands — is the namespace's alone,
/// and goes when the child exits. The child also gets a mount namespace (`--mount`) in which
/// `/etc/resolv.conf` says `nameserver 127.0.0.1` and `/etc/nsswitch.conf` says `hosts: files
/// dns`: every name lookup goes to port 53 on the namespace's loopback, where nothing answers
/// unless the probe starts [`super::dns_stub`]. No query reaches a real resolver.
///
/// Needs `unshare`, `ip` and `mount` (util-linux, iproute2) and root, or, for an ordinary user, a
/// kernel that allows user namespaces (then `--map-root-user`). Without them the test [`skip`]s.
pub fn in_private_network(probe: impl FnOnce() -> io::Result<()>) -> String {
    if we_are_the_child() {
        assert!(
            in_a_private_network(),
            "the child runs in a namespace of its own"
        );
        probe().expect("the probe, in a private network namespace");
        return String::new();
    }
    if let Err(why) = namespaces_work() {
        skip(&format!("cannot make a private network namespace: {why}"));
        return String::new();
    }
    run_this_test(unshare(&this_program()), "in a private network namespace")
}
// ANCHOR_END: in_private_network

/// The shell script the namespace's first process runs before it becomes the test program.
const PREPARE_NAMESPACE: &str = r#"set -e
ip link set lo up
if [ -e /etc/resolv.conf ]; then mount --bind "$0/resolv.conf" /etc/resolv.conf; fi
if [ -e /etc/nsswitch.conf ]; then mount --bind "$0/nsswitch.conf" /etc/nsswitch.conf; fi
exec "$@""#;

/// `unshare --net --mount` running [`PREPARE_NAMESPACE`], then `program`.
fn unshare(program: &str) -> Command {
    let mut command = Command::new("unshare");
    if !is_root() {
        command.arg("--map-root-user");
    }
    command
        .args(["--net", "--mount", "--", "sh", "-c", PREPARE_NAMESPACE])
        .arg(resolver_files())
        .arg(program)
        .env(PRIVATE_NETWORK, "1");
    command
}

/// A directory with the namespace's `resolv.conf` and `nsswitch.conf`, written once per process.
///
/// `tempfile` names it so that no one else can have made it first (a fixed name could be a
/// directory of another user's, holding resolver files of theirs). A static is never dropped,
/// so it stays after the tests: two small files.
fn resolver_files() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("socket-steps-namespace-")
            .tempdir()
            .expect("a directory for the namespace's resolver files");
        std::fs::write(dir.path().join("resolv.conf"), "nameserver 127.0.0.1\n").unwrap();
        std::fs::write(dir.path().join("nsswitch.conf"), "hosts: files dns\n").unwrap();
        dir
    })
    .path()
}

/// Whether `unshare` can make the namespaces here (checked once per process): `Err` says why not.
fn namespaces_work() -> Result<(), String> {
    static WORKS: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    WORKS
        .get_or_init(|| {
            let output = unshare("true")
                .env_remove(PRIVATE_NETWORK)
                .stdin(Stdio::null())
                .output()
                .map_err(|error| format!("cannot run unshare (util-linux): {error}"))?;
            if output.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
            }
        })
        .clone()
}

/// Runs `probe` as the unprivileged user `nobody` (uid and gid 65534) in a child process, when
/// the tests run as root (as in CI); an ordinary user runs it right here. Returns the child's
/// output (empty when the probe ran here).
///
/// Dropping root in the test process itself would take `unsafe` and change every other test, so
/// the child is this test program, started as `nobody` by [`unprivileged`] (which runs a copy
/// that `nobody` can reach when the checkout is in a private directory).
pub fn as_nobody(probe: impl FnOnce() -> io::Result<()>) -> String {
    if we_are_the_child() || !is_root() {
        probe().expect("the probe, without privilege");
        return String::new();
    }
    run_this_test(unprivileged(&this_program()), "as user nobody")
}

// ANCHOR: namespace_settings
/// Runs `ip ARGS` (iproute2) and fails the test if it fails. Only inside a private network
/// namespace ([`in_private_network`]): there, links, addresses and routes are the test's own.
pub fn ip(args: &[&str]) {
    assert!(
        in_a_private_network(),
        "`ip {}` changes the network: only inside support::in_private_network",
        args.join(" ")
    );
    let output = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run ip (iproute2): {error}"));
    assert!(
        output.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Sets the sysctl `name` (e.g. `net.ipv4.tcp_syncookies`) to `value`, by writing its file under
/// `/proc/sys`. Only inside a private network namespace, where `net.*` settings are the
/// namespace's own: the host's are never touched.
pub fn sysctl(name: &str, value: &str) {
    assert!(
        in_a_private_network() && name.starts_with("net."),
        "sysctl {name}: only a net.* setting, only inside support::in_private_network"
    );
    let path = format!("/proc/sys/{}", name.replace('.', "/"));
    std::fs::write(&path, value).unwrap_or_else(|error| panic!("sysctl {name}={value}: {error}"));
}
// ANCHOR_END: namespace_settings

/// Whether this process is the child that [`spawn_this_test`] started for the running test.
pub fn in_this_tests_child() -> bool {
    we_are_the_child()
}

/// The running test, started again in a child process by [`spawn_this_test`]; killed if
/// dropped before [`ChildTest::finish`].
pub struct ChildTest {
    child: Option<std::process::Child>,
    /// The child's standard output, line by line (see [`super::read_lines`]).
    pub lines: std::sync::mpsc::Receiver<String>,
}

impl ChildTest {
    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Waits for the child to end (at most [`super::LIMIT`]) and checks that it ran this test
    /// and passed.
    pub fn finish(mut self) {
        let child = self.child.take().expect("running");
        let output = wait_with_limit(child, "the child");
        assert!(
            output.status.success(),
            "the child failed: {:?}",
            output.status
        );
        // The rest of its output, up to its end: the test harness's summary.
        let rest: Vec<String> =
            std::iter::from_fn(|| self.lines.recv_timeout(super::LIMIT).ok()).collect();
        assert!(
            rest.iter().any(|line| line.contains("1 passed")),
            "the child did not run the test:\n{}",
            rest.join("\n")
        );
    }
}

impl Drop for ChildTest {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts the running test again in a child process, with `env` set, and returns it while it
/// runs: for experiments where the parent acts on the child as it goes (stops it, signals it).
/// In the child, [`in_this_tests_child`] is true.
pub fn spawn_this_test(env: &[(&str, &str)]) -> ChildTest {
    let test = this_test();
    let mut child = Command::new(this_program())
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, &test)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {test} again: {error}"));
    let lines = super::read_lines(child.stdout.take().expect("piped"));
    ChildTest {
        child: Some(child),
        lines,
    }
}
