//! The fault matrix: the built function, behind its local Function URL, against every failure of
//! Flashduty and SSM it must survive, with the figures written to `target/reliability/faults.json`.
//!
//! Each case gets its own Flashduty stand-in (`tests/support/flashduty.rs`) and function; the
//! SSM cases share one `moto_server` (a prefix each) and reach it through their own loopback
//! proxy (`tests/support/proxy.rs`), which can refuse connections, hang or throttle. For every
//! request of every case the test checks
//!
//! * the status the case expects and an answer within Harbor's 3 s;
//! * the invariant of SPEC §4, "2xx if and only if Flashduty accepted the alert or a rule
//!   dropped it": the alert keys the request must produce come from the library's own
//!   conversion (`harbor_flashduty_core::convert`) of the same body and rules; *accepted* means the
//!   stand-in accepted every one of them between the request being sent and answered (a hang
//!   that completes later does not count), and a 2xx must name the request id of that
//!   acceptance;
//! * what the case adds: how many attempts reached Flashduty, that `Retry-After` was waited
//!   for, that a failed SSM refresh logged a warning and kept the last good configuration.
//!
//! Single-request cases of the same faults exist in `http` and `ssm`; this test is
//! the table that covers them all at once, with timings, and adds SSM hanging or throttling and
//! recovery after an SSM outage at cold start.
//!
//! Run with the venv tools on PATH: `make e2e`, or
//! `PATH="$PWD/.venv/bin:$PATH" cargo nextest run --test e2e -E 'test(/^faults::/)'`.
//!
//! * [`cases`]: the table of faults; [`run`]: running a case and judging it.

mod cases;
mod run;

use crate::support;
use crate::support::proxy::Mode;
use crate::support::report;
use crate::support::{Behaviour, Moto, Reply};
use cases::cases;
use run::{SharedMoto, run_local, run_ssm, verdict};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) const QUOTA_EXCEEDED: &str = "harbor/default_QUOTA_EXCEED.json";
pub(crate) const PULL: &str = "harbor/default_PULL_ARTIFACT.json";
/// Harbor waits 3 s for an answer (SPEC §4).
pub(crate) const HARBOR_TIMEOUT: Duration = Duration::from_secs(3);
/// `CONFIG_TTL_SECONDS` of the SSM cases, so refreshes happen within the test.
pub(crate) const TTL: Duration = Duration::from_secs(1);
/// Rules in effect before a refresh fails: they add a label, so the test can tell them apart.
pub(crate) const RULES_V1: &str = r#"{"labels": {"rules_version": "1"}}"#;
pub(crate) const RULES_V2: &str = r#"{"labels": {"rules_version": "2"}}"#;
/// Rules that fail validation: an unknown severity (SPEC §7).
pub(crate) const RULES_INVALID: &str =
    r#"{"rules": [{"name": "broken", "when": {"event": "PUSH_ARTIFACT"}, "severity": "Severe"}]}"#;

/// How many delivery attempts the faulted request must make.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Attempts {
    Exactly(usize),
    AtLeast(usize),
    Any,
}

/// What fails.
#[derive(Clone, Debug)]
pub(crate) enum Fault {
    /// Local mode; the stand-in plays `script`, then `default`.
    Flashduty {
        script: Vec<Behaviour>,
        default: Behaviour,
        fixture: &'static str,
    },
    /// Local mode; the push URL points at a port nothing listens on.
    ConnectionRefused,
    /// SSM mode; SSM is in `mode` when the function starts, then comes back.
    SsmAtColdStart(Mode),
    /// SSM mode; SSM goes into `mode` after a good load and the TTL passes.
    SsmAtRefresh(Mode),
    /// SSM mode; the rules parameter becomes invalid after a good load.
    RulesInvalidAtRefresh,
}

pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) what: &'static str,
    pub(crate) fault: Fault,
    pub(crate) expect: u16,
    pub(crate) attempts: Attempts,
    /// The retry must come at least this long after the first attempt.
    pub(crate) min_retry_gap: Option<Duration>,
}

/// One request of a case, as measured.
pub(crate) struct Sent {
    pub(crate) label: String,
    pub(crate) reply: Reply,
    /// The alert keys the body must produce under the rules in effect (empty: dropped).
    pub(crate) keys: Vec<String>,
    /// Delivery attempts (pushes) the stand-in received while the request was open.
    pub(crate) attempts: usize,
    /// Whether every expected key was accepted while the request was open.
    pub(crate) delivered: bool,
    pub(crate) invariant: Result<(), String>,
}

/// The outcome of one case.
pub(crate) struct Row {
    pub(crate) case: &'static str,
    pub(crate) what: &'static str,
    pub(crate) expect: u16,
    /// The request the fault applies to.
    pub(crate) main: usize,
    pub(crate) sent: Vec<Sent>,
    pub(crate) warning_logged: Option<bool>,
    pub(crate) problems: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix() {
    // Names this test's capture directory from the test thread (tests/support/capture.rs).
    support::capture::test_dir();
    let started = Instant::now();
    let cases = Arc::new(cases());
    let moto = Moto::start().await;
    let addr: SocketAddr = moto
        .url()
        .trim_start_matches("http://")
        .parse()
        .expect("moto listens on ip:port");
    let shared = Arc::new(SharedMoto { moto, addr });

    // Two lanes: local-mode cases and SSM cases, each in order, side by side.
    let local = {
        let cases = Arc::clone(&cases);
        tokio::spawn(async move {
            let mut rows = Vec::new();
            for (i, case) in cases.iter().enumerate() {
                if matches!(
                    case.fault,
                    Fault::Flashduty { .. } | Fault::ConnectionRefused
                ) {
                    rows.push((i, run_local(case).await));
                }
            }
            rows
        })
    };
    let ssm = {
        let cases = Arc::clone(&cases);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let mut rows = Vec::new();
            for (i, case) in cases.iter().enumerate() {
                if !matches!(
                    case.fault,
                    Fault::Flashduty { .. } | Fault::ConnectionRefused
                ) {
                    rows.push((i, run_ssm(case, &shared).await));
                }
            }
            rows
        })
    };
    let lanes = tokio::time::timeout(Duration::from_secs(240), async {
        let mut rows = local.await.expect("local-mode lane");
        rows.extend(ssm.await.expect("SSM lane"));
        rows
    })
    .await
    .expect("the fault matrix did not finish within 240 s");
    let mut rows = lanes;
    rows.sort_by_key(|(i, _)| *i);

    let mut failures = Vec::new();
    let mut table = Vec::new();
    let mut figures = Vec::new();
    let (mut requests, mut lost, mut invariant_broken) = (0, 0, 0);
    for (i, row) in &rows {
        let case = &cases[*i];
        let problems = verdict(case, row);
        let main = &row.sent[row.main];
        requests += row.sent.len();
        for sent in &row.sent {
            // Lost: answered 2xx although an alert that had to be sent was not accepted.
            if sent.reply.is_success() && !sent.keys.is_empty() && !sent.delivered {
                lost += 1;
            }
            if sent.invariant.is_err() {
                invariant_broken += 1;
            }
        }
        table.push(format!(
            "{:<36} {:>4} {:>8.1} ms {:>3} attempt(s) {}",
            row.case,
            main.reply.status,
            report::ms(main.reply.elapsed),
            main.attempts,
            if problems.is_empty() { "ok" } else { "FAIL" }
        ));
        figures.push(json!({
            "case": row.case,
            "fault": row.what,
            "expected_status": row.expect,
            "status": main.reply.status,
            "time_ms": report::ms(main.reply.elapsed),
            "attempts": main.attempts,
            "warning_logged": row.warning_logged,
            "ok": problems.is_empty(),
            "problems": problems,
            "requests": row.sent.iter().map(|s| json!({
                "label": s.label,
                "status": s.reply.status,
                "time_ms": report::ms(s.reply.elapsed),
                "attempts": s.attempts,
                "expected_alerts": s.keys.len(),
                "delivered": s.delivered,
                "invariant_held": s.invariant.is_ok(),
            })).collect::<Vec<Value>>(),
        }));
        for problem in problems {
            failures.push(format!("{}: {problem}", row.case));
        }
    }
    let max_ms = rows
        .iter()
        .flat_map(|(_, row)| row.sent.iter())
        .map(|s| report::ms(s.reply.elapsed))
        .fold(0.0, f64::max);
    let path = report::write(
        "faults",
        &json!({
            "test": "tests/e2e/faults fault_matrix",
            "function": "debug build under cargo lambda watch --only-lambda-apis, loopback",
            "harbor_timeout_ms": HARBOR_TIMEOUT.as_millis() as u64,
            "faults": cases.len(),
            "requests": requests,
            "lost": lost,
            "invariant_broken": invariant_broken,
            "max_time_ms": max_ms,
            "duration_s": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            "cases": figures,
        }),
    );
    println!(
        "fault matrix ({} cases, {requests} requests, {:.1} s) -> {}\n{}",
        cases.len(),
        started.elapsed().as_secs_f64(),
        path.display(),
        table.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} problem(s) in the fault matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
