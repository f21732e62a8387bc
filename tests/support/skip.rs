//! Strict mode: a test that cannot check what it promises says so, and in CI that is a failure.
//!
//! Some tests need something this machine may lack: python3, perl, IPv6, root, a network
//! namespace. Without it such a test cannot prove anything, so "passed" would be a lie. We call
//! [`skip`] instead, which prints why on the real standard error (visible in a plain `cargo test`,
//! unlike a test's captured output), and which fails the test when `SOCKET_STEPS_STRICT=1` is set.
//! `.ci/run` sets it: there, every test checks what it says, or CI is red.

use std::io::Write;

/// The environment variable that turns every skip into a failure.
pub const STRICT: &str = "SOCKET_STEPS_STRICT";

/// Whether this run is strict (`SOCKET_STEPS_STRICT=1`): skips fail.
pub fn strict() -> bool {
    std::env::var(STRICT).is_ok_and(|value| value == "1")
}

/// Says that the running test cannot check what it promises, and why; the caller then returns.
/// In strict mode this panics instead: the test fails, with the same reason.
pub fn skip(reason: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    assert!(
        !strict(),
        "{test} cannot run here ({STRICT}=1 makes that a failure): {reason}"
    );
    // Straight to the process's standard error: the test harness captures `println!` and
    // `eprintln!` of a passing test, and a skip must not be silent.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {reason} (with {STRICT}=1 this fails)"
    );
}

/// `Some(value)` if `found` is, otherwise [`skip`]s with `reason` (and the error) and gives
/// `None`: `let Some(perl) = support::require(which("perl"), "...") else { return };`.
pub fn require<T, E: std::fmt::Display>(found: Result<T, E>, reason: &str) -> Option<T> {
    match found {
        Ok(value) => Some(value),
        Err(error) => {
            skip(&format!("{reason} ({error})"));
            None
        }
    }
}
