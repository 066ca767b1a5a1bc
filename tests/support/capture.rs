//! What every end-to-end test exposed, kept for `scripts/scan_secrets.py` (`make secrets-scan`).
//!
//! Per test, under `target/e2e-capture/<test binary>.<test name>/`:
//!
//! * `secrets.txt`: one JSON object per line, `{"kind": "...", "value": "..."}`, for every secret
//!   the test generated or configured: the [`Secrets`](super::Secrets) of the test, the
//!   stand-in's integration key, the push URL, auth header and URL token handed to the function
//!   as environment variables, and every SecureString put into moto (except `rules`, which is
//!   not a secret).
//! * `logs.txt`: everything every function instance of the test printed (stdout and stderr),
//!   appended when the [`Function`](super::Function) is dropped.
//! * `responses.txt`: one JSON object per line for every answer the function gave (status,
//!   headers, body) over its URL or through `cargo lambda invoke`. Requests are not recorded:
//!   they carry the secrets on purpose.
//!
//! The scanner then checks every secret of every test against every capture of every test.
//!
//! The directory of a test is emptied the first time the test writes to it in a process, so a
//! rerun replaces the previous capture. The test is named after the thread running it (libtest
//! names it after the test); calls from a tokio worker thread use the name first seen in the
//! process, which is exact under `cargo nextest` (one test per process).
//! `HARBOR_FLASHDUTY_CAPTURE_DIR` moves the root (default `<package>/target/e2e-capture`).

use serde_json::{Value, json};
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

pub const CAPTURE_DIR_VAR: &str = "HARBOR_FLASHDUTY_CAPTURE_DIR";

/// Secrets shorter than this cannot be searched for meaningfully; the scanner reports them.
pub const MIN_SECRET_LEN: usize = 8;

/// `target/e2e-capture` of this package, or `HARBOR_FLASHDUTY_CAPTURE_DIR`.
pub fn root() -> PathBuf {
    std::env::var_os(CAPTURE_DIR_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-capture"))
}

/// `<test binary>.<test name>` of the running test.
pub fn test_id() -> String {
    static FIRST: OnceLock<String> = OnceLock::new();
    let thread = std::thread::current();
    let from_thread = thread
        .name()
        .filter(|name| *name != "main" && !name.starts_with("tokio-"))
        .map(str::to_owned);
    let name = match from_thread {
        Some(name) => {
            let _ = FIRST.set(name.clone());
            name
        }
        None => FIRST
            .get()
            .cloned()
            .unwrap_or_else(|| format!("pid{}", std::process::id())),
    };
    let id = format!("{}.{}", binary_name(), name.replace("::", "."));
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The test binary without Cargo's hash suffix: `e2e-0123abcd` is `e2e`.
fn binary_name() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let stem = exe
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tests".to_owned());
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name.to_owned()
        }
        _ => stem,
    }
}

/// The capture directory of the running test, emptied on its first use in this process.
pub fn test_dir() -> PathBuf {
    static PREPARED: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    let dir = root().join(test_id());
    let mut prepared = lock(PREPARED.get_or_init(Default::default));
    if prepared.insert(dir.clone()) {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| {
            panic!("cannot create the capture directory {}: {e}", dir.display())
        });
        for file in ["secrets.txt", "logs.txt", "responses.txt"] {
            File::create(dir.join(file))
                .unwrap_or_else(|e| panic!("cannot create {}/{file}: {e}", dir.display()));
        }
    }
    dir
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Appends `text` to `<dir>/<file>` under one process-wide lock, so lines never interleave.
fn append(dir: &Path, file: &str, text: &str) {
    static WRITE: Mutex<()> = Mutex::new(());
    let _guard = lock(&WRITE);
    let path = dir.join(file);
    let mut out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    out.write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Records a secret of the running test (`kind` names it in the scanner's report).
pub fn secret(kind: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    record_secret_in(&test_dir(), kind, value);
}

pub(crate) fn record_secret_in(dir: &Path, kind: &str, value: &str) {
    let line = json!({"kind": kind, "value": value});
    append(dir, "secrets.txt", &format!("{line}\n"));
}

/// The environment variables whose values are secrets, and their kinds.
pub const SECRET_ENV: [(&str, &str); 3] = [
    ("FLASHDUTY_PUSH_URL", "push URL"),
    ("HARBOR_AUTH_HEADER", "auth header"),
    ("URL_TOKEN", "URL token"),
];

/// Records the secret variables of a function's environment.
pub fn secret_env(dir: &Path, env: &[(&str, &str)]) {
    for (name, value) in env {
        if let Some((_, kind)) = SECRET_ENV.iter().find(|(n, _)| n == name)
            && !value.trim().is_empty()
        {
            record_secret_in(dir, kind, value);
        }
    }
}

/// Records one answer of the function: status, headers and body, never the request.
pub fn response(dir: &Path, via: &str, status: u16, headers: &[(String, String)], body: &str) {
    let headers: Vec<Value> = headers.iter().map(|(n, v)| json!([n, v])).collect();
    let line = json!({"via": via, "status": status, "headers": headers, "body": body});
    append(dir, "responses.txt", &format!("{line}\n"));
}

/// Appends what a function instance printed, under a header line naming the instance.
pub fn logs(dir: &Path, instance: &str, text: &str) {
    let mut block = format!("=== {instance} ===\n{text}");
    if !block.ends_with('\n') {
        block.push('\n');
    }
    append(dir, "logs.txt", &block);
}
