//! Figures the reliability tests write for `scripts/reliability_report.py`:
//! `target/reliability/<name>.json` (`HARBOR_FLASHDUTY_RELIABILITY_DIR` moves the directory).

use serde_json::Value;
use std::path::{Path, PathBuf};

pub const RELIABILITY_DIR_VAR: &str = "HARBOR_FLASHDUTY_RELIABILITY_DIR";

pub fn dir() -> PathBuf {
    std::env::var_os(RELIABILITY_DIR_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/reliability"))
}

/// Writes `value` (pretty JSON) to `<dir>/<name>.json` and returns the path.
pub fn write(name: &str, value: &Value) -> PathBuf {
    let dir = dir();
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let path = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(value).expect("figures serialise");
    std::fs::write(&path, text + "\n")
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

/// Milliseconds with one decimal, for the figures.
pub fn ms(duration: std::time::Duration) -> f64 {
    (duration.as_secs_f64() * 10_000.0).round() / 10.0
}
