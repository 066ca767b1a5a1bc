//! Child processes that cannot outlive the test, tool lookup, ports and scratch directories.

use std::fs::File;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Finds `name` on `PATH` or fails the test with a message naming the tool and how to get it.
///
/// Never skips: an end-to-end suite that silently passes without its tools proves nothing.
pub fn require_tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
        .unwrap_or_else(|| {
            panic!(
                "required tool `{name}` was not found on PATH.\n\
                 The end-to-end tests need `cargo-lambda` and `moto_server` from the project's \
                 venv: run them with `make e2e` (it creates .venv and puts .venv/bin first on \
                 PATH), or `PATH=\"$PWD/.venv/bin:$PATH\" cargo nextest run --test e2e`.\n\
                 PATH was: {}",
                path.to_string_lossy()
            )
        })
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A loopback port that was free a moment ago (bound to port 0, read back, released).
///
/// There is a small window in which another process could take it; the callers that hand the
/// port to a child process retry with a fresh port when the child fails to bind.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("binding 127.0.0.1:0 to find a free port")
}

/// A loopback port nothing listens on, so connecting to it is refused at once.
pub fn closed_port() -> u16 {
    free_port()
}

/// `n` random bytes as lowercase hex, from the OS. Used for per-test secrets and names.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    File::open("/dev/urandom")
        .and_then(|mut urandom| urandom.read_exact(&mut bytes))
        .expect("reading /dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Polls until something accepts TCP connections on `127.0.0.1:port`.
///
/// Fails early (with `Err`) when `child` exits, which usually means it could not bind the port.
pub async fn wait_until_listening(
    port: u16,
    timeout: Duration,
    child: &mut ChildGuard,
) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + timeout;
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Some(status) = child.exited() {
            return Err(format!(
                "{} exited ({status}) before listening on {addr}",
                child.name
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{} did not listen on {addr} within {timeout:?}",
                child.name
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A child process in its own process group, with stdout and stderr captured to one file.
///
/// Dropping the guard kills the whole group with `SIGKILL` and reaps the child, so nothing is
/// left behind when a test passes, fails or panics.
pub struct ChildGuard {
    name: String,
    child: Child,
    log: PathBuf,
    killed: bool,
}

impl ChildGuard {
    /// Spawns `command` with stdin closed and stdout+stderr appended to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> ChildGuard {
        let stdout = File::options()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("cannot create log file {}: {e}", log.display()));
        let stderr = stdout.try_clone().expect("duplicating the log file handle");
        command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0);
        die_with_the_test(&mut command);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        ChildGuard {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
            killed: false,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` once the process has exited (it is reaped then).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Everything the process printed so far (stdout and stderr interleaved).
    pub fn output(&self) -> String {
        std::fs::read(&self.log)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Kills the process group and reaps the child. Idempotent.
    pub fn kill(&mut self) {
        if self.killed {
            return;
        }
        self.killed = true;
        if let Ok(pgid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) has no memory-safety preconditions. The group id is the pid of our
            // own child, which stays reserved until we reap it below.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes the child get `SIGKILL` when the thread that spawned it (the test's thread) ends.
///
/// `Drop` does not run when the test process itself is killed (a nextest timeout, Ctrl-C); the
/// children would then outlive it, since they sit in process groups of their own.
#[cfg(target_os = "linux")]
fn die_with_the_test(command: &mut Command) {
    // SAFETY: the closure runs between fork and exec and only calls prctl(2), which is
    // async-signal-safe, allocates nothing and touches no lock.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_the_test(_command: &mut Command) {}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A scratch directory for logs and temporary files, deleted on drop unless the test is
/// panicking: then it is kept and its path printed, so the logs can be read after a failure.
pub struct ScratchDir {
    dir: Option<tempfile::TempDir>,
}

impl ScratchDir {
    pub fn new(label: &str) -> ScratchDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("harbor-flashduty-e2e-{label}-"))
            .tempdir()
            .expect("creating a scratch directory");
        ScratchDir { dir: Some(dir) }
    }

    pub fn path(&self) -> &Path {
        self.dir
            .as_ref()
            .expect("scratch directory is present until drop")
            .path()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take()
            && std::thread::panicking()
        {
            let kept = dir.keep();
            eprintln!("e2e: kept scratch directory with logs: {}", kept.display());
        }
    }
}
