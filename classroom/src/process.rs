//! The processes and temporary folders the runner starts, and stopping them all on Ctrl-C.
//!
//! Each cargo we start runs in its own process group (on Unix), with the test programs and the
//! servers they start: at a deadline we kill that whole group, not only cargo. A group of its own
//! also means the terminal's Ctrl-C (SIGINT to the *terminal's* process group) does not reach
//! them, so our Ctrl-C handler ([`install_ctrl_c`]) kills every group we started, and removes
//! the temporary copies we were using, before we exit.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// The process groups (= the pids of their leaders) of the cargo commands running now.
static GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// The temporary folders in use now (also removed by their `TempDir` when dropped).
static TEMP_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Ctrl-C was pressed (or `q` in watch): start nothing new.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// The exit status of a program stopped by Ctrl-C, as shells report it (128 + SIGINT).
pub const INTERRUPTED_STATUS: i32 = 130;

/// Installs the Ctrl-C handler: it stops everything we started ([`stop_everything`]), then
/// exits with status 130.
pub fn install_ctrl_c() -> anyhow::Result<()> {
    ctrlc::set_handler(|| {
        stop_everything();
        eprintln!("\nstopped: cargo and the tests it was running are stopped too.");
        // Raw mode (watch) must not outlive us.
        let _ = crossterm_restore();
        std::process::exit(INTERRUPTED_STATUS);
    })
    .context("could not install the Ctrl-C handler")
}

/// Leaves the terminal as we found it, if watch changed it.
fn crossterm_restore() -> std::io::Result<()> {
    crate::watch::restore_terminal()
}

/// Kills every process group we started and removes our temporary folders: for Ctrl-C, and for
/// `q` in watch while a check runs.
pub fn stop_everything() {
    STOPPING.store(true, Ordering::SeqCst);
    let groups: Vec<u32> = GROUPS.lock().map(|g| g.clone()).unwrap_or_default();
    for group in groups {
        kill_group(group);
    }
    let dirs: Vec<PathBuf> = TEMP_DIRS.lock().map(|d| d.clone()).unwrap_or_default();
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Whether [`stop_everything`] has run.
pub fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// A temporary folder, removed when dropped, on Ctrl-C, and (through `tempfile`) on a panic.
pub struct TempFolder {
    dir: tempfile::TempDir,
}

impl TempFolder {
    /// A new empty folder in the system's temporary folder, named `socket-steps-<what>-...`.
    pub fn new(what: &str) -> anyhow::Result<TempFolder> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("socket-steps-{what}-"))
            .tempdir()
            .context("could not make a temporary folder")?;
        if let Ok(mut dirs) = TEMP_DIRS.lock() {
            dirs.push(dir.path().to_path_buf());
        }
        Ok(TempFolder { dir })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        if let Ok(mut dirs) = TEMP_DIRS.lock() {
            dirs.retain(|d| d != self.dir.path());
        }
    }
}

/// What one cargo command did.
pub struct Run {
    /// How it exited.
    pub status: ExitStatus,
    /// All it printed on stdout (the tests' report).
    pub stdout: String,
    /// All it printed on stderr (cargo's progress, the compiler's errors).
    pub stderr: String,
    /// We stopped it at its deadline.
    pub timed_out: bool,
    /// How long it took.
    pub took: Duration,
}

/// Runs `cargo ARGS` in `dir` (with `envs`), calling `progress` with each line cargo prints on
/// stderr, and stops it (with the programs it started) after `deadline`.
pub fn cargo(
    dir: &Path,
    args: &[&str],
    envs: &[(&str, &std::ffi::OsStr)],
    deadline: Option<Duration>,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<Run> {
    if stopping() {
        bail!("stopped");
    }
    let program = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(&program);
    command
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in envs {
        command.env(key, value);
    }
    // Its own process group, so that we can stop the test programs too, not only cargo.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("could not run `{program}`"))?;
    let group = Group::register(child.id());
    let mut stdout_pipe = child.stdout.take().context("no stdout pipe")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout_pipe.read_to_string(&mut text);
        text
    });
    let stderr_pipe = child.stderr.take().context("no stderr pipe")?;
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr_pipe).lines() {
            if lines.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let mut stderr = String::new();
    let mut timed_out = false;
    loop {
        let left = deadline.map_or(Duration::from_secs(3600), |d| {
            d.saturating_sub(started.elapsed())
        });
        match received.recv_timeout(left) {
            Ok(line) => {
                progress(&line);
                stderr.push_str(&line);
                stderr.push('\n');
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                if deadline.is_some_and(|d| started.elapsed() >= d) {
                    timed_out = true;
                    stop(&mut child);
                    break;
                }
            }
        }
    }
    let status = child.wait()?;
    // The test programs may have left servers behind in the group: stop them too.
    kill_group(child.id());
    drop(group);
    let stdout = reader.join().unwrap_or_default();
    if stopping() {
        bail!("stopped");
    }
    Ok(Run {
        status,
        stdout,
        stderr,
        timed_out,
        took: started.elapsed(),
    })
}

/// A process group in [`GROUPS`] while it lives.
struct Group(u32);

impl Group {
    fn register(id: u32) -> Group {
        if let Ok(mut groups) = GROUPS.lock() {
            groups.push(id);
        }
        Group(id)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Ok(mut groups) = GROUPS.lock() {
            groups.retain(|g| *g != self.0);
        }
    }
}

/// Kills `child` and the programs it started.
fn stop(child: &mut Child) {
    kill_group(child.id());
    let _ = child.kill();
}

/// Kills the process group led by `leader`: on Unix with `kill -KILL -- -PGID`; on Windows with
/// `taskkill /T` on its process tree. (We spawn `kill` rather than call kill(2) ourselves, which
/// would take `unsafe` or one more crate.)
fn kill_group(leader: u32) {
    #[cfg(unix)]
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{leader}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    #[cfg(windows)]
    let _ = Command::new("taskkill")
        .args(["/F", "/T", "/PID", &leader.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    #[cfg(not(any(unix, windows)))]
    let _ = leader;
}
