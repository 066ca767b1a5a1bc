//! The Lambda package's end-to-end tests, one binary: the built `harbor-flashduty` binary under
//! the Lambda runtime emulator of `cargo lambda watch`, in front of an in-process Flashduty
//! stand-in and, for SSM, a `moto_server` (`tests/support`). They need the venv's tools on PATH
//! (`make venv`) and the binaries built (`cargo build --bins`).
//!
//! * [`http`]: the HTTP contract over the local Function URL (SPEC §3, §4, §6);
//! * [`invoke`]: Function URL events through `cargo lambda invoke`, text and base64 bodies;
//! * [`events`]: every sample event in `events/` and the metrics (EMF) it prints;
//! * [`ssm`]: configuration from SSM Parameter Store;
//! * [`tls`]: Flashduty and SSM over HTTPS with a test CA;
//! * [`faults`]: the fault matrix (`target/reliability/faults.json`);
//! * [`burst`]: 1 000-event bursts, healthy and failing (`target/reliability/burst.json`);
//! * [`hostile`]: hostile input over HTTP, and two findings measured.
//!
//! The in-process tests are the `handler` binary (`tests/handler`).
//!
//! Run: `make e2e`, or `PATH="$PWD/.venv/bin:$PATH" cargo nextest run --test e2e` after
//! `cargo build --bins`.

/// The fixture expectations table, shared with the core suite.
#[path = "../../core/tests/core/expectations.rs"]
#[allow(dead_code)]
mod expectations;
#[path = "../support/mod.rs"]
mod support;

mod burst;
mod events;
mod faults;
mod hostile;
mod http;
mod invoke;
mod ssm;
mod tls;
