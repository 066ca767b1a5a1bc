//! Bursts: many distinct events, 16 at a time, through the built function behind its local
//! Function URL, to the Flashduty stand-in. Figures go to stdout and
//! `target/reliability/burst.json`.
//!
//! * Healthy run: 1000 distinct events (pushes, CloudEvents pushes, deletes, scans, quota,
//!   replication, chart uploads and MSR 3 tag pushes, each in a project of its own, with a
//!   digest of its own, so every alert key differs). Every one is answered 200, none 5xx, and the
//!   stand-in accepts every expected alert key exactly once, with no other delivery attempt.
//! * Failing run: 1000 more distinct events while the stand-in fails 20 % of the attempts at
//!   random (seeded: 500/502/503, 429 with and without `Retry-After`, 400, a 200 carrying an
//!   error, a 10 s hang). A 2xx must have been delivered (accepted during the request, with the
//!   request id it reports), and every request whose alert was not delivered must be answered
//!   non-2xx (502 or 503) so Harbor retries it. Then the refused ones are retried twice, as
//!   Harbor does, still against the failing stand-in.
//!
//! Lambda runs concurrent requests on separate instances, so the function runs as
//! [`INSTANCES`] instances behind one emulator (`Function::start_scaled`). The expected alert
//! keys come from the library's own conversion of each body.
//!
//! Run with the venv tools on PATH: `make e2e`, or
//! `PATH="$PWD/.venv/bin:$PATH" cargo nextest run --test e2e -E 'test(/^burst::/)'`.
//!
//! [`events`]: the distinct events, sending them, and the figures.

mod events;

use crate::support::report;
use crate::support::{Behaviour, FlashdutyStandIn, Function, Reply, Secrets};
use events::*;
use harbor_flashduty_core::convert::{Action, convert};
use harbor_flashduty_core::rules::Rules;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// Events per run.
pub(crate) const EVENTS: usize = 1000;
/// Requests in flight at a time.
pub(crate) const CONCURRENCY: usize = 16;
/// Function instances: one per request in flight, as Lambda would scale.
pub(crate) const INSTANCES: usize = 16;
/// The failing run: share of attempts that fail, and the seed of the sequence.
pub(crate) const FAIL_PERCENT: u8 = 20;
pub(crate) const SEED: u64 = 0xB0B5_2026;
/// Harbor retries a failed delivery twice.
pub(crate) const HARBOR_RETRIES: usize = 2;
/// No run may take longer than this (it takes seconds).
pub(crate) const RUN_LIMIT: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_of_distinct_events_healthy_then_failing() {
    let secrets = Secrets::random();
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let function = Arc::new(
        Function::start_scaled(
            &[
                ("FLASHDUTY_PUSH_URL", &flashduty.push_url()),
                ("HARBOR_AUTH_HEADER", &secrets.auth_header),
            ],
            INSTANCES,
        )
        .await,
    );
    let mut violations = Vec::new();

    // ---- Healthy run --------------------------------------------------------------------
    let healthy = Arc::new(events(0, EVENTS));
    let (replies, elapsed) = burst(
        &function,
        &healthy,
        &secrets.auth_header,
        (0..EVENTS).collect(),
    )
    .await;
    let accepted = flashduty.accepted();
    let pushes = flashduty.push_count();
    let mut times_accepted: HashMap<&str, usize> = HashMap::new();
    for a in &accepted {
        *times_accepted.entry(a.alert_key()).or_insert(0) += 1;
    }
    for (i, (event, reply)) in healthy.iter().zip(&replies).enumerate() {
        if reply.status != 200 {
            violations.push(format!(
                "healthy run, event {i} ({}): HTTP {} {}",
                event.template, reply.status, reply.raw
            ));
        }
        let times = times_accepted.get(event.key.as_str()).copied().unwrap_or(0);
        if times != 1 {
            violations.push(format!(
                "healthy run, event {i} ({}): alert {} delivered {times} times, not once",
                event.template, event.key
            ));
        }
    }
    if accepted.len() != EVENTS || pushes != EVENTS {
        violations.push(format!(
            "healthy run: the stand-in received {pushes} attempts and accepted {}, expected exactly {EVENTS}",
            accepted.len()
        ));
    }
    let server_errors = replies.iter().filter(|r| r.status >= 500).count();
    let healthy_max = replies.iter().map(|r| r.elapsed).max().unwrap_or_default();
    if healthy_max >= Duration::from_secs(3) {
        violations.push(format!(
            "healthy run: the slowest answer took {healthy_max:?}; Harbor waits 3 s"
        ));
    }
    let healthy_figures = json!({
        "events": EVENTS,
        "concurrency": CONCURRENCY,
        "instances": INSTANCES,
        "statuses": statuses(&replies),
        "server_errors": server_errors,
        "delivered_exactly_once": healthy.iter().filter(|e| times_accepted.get(e.key.as_str()) == Some(&1)).count(),
        "flashduty_attempts": pushes,
        "duration_s": (elapsed.as_secs_f64() * 100.0).round() / 100.0,
        "throughput_rps": per_second(EVENTS, elapsed),
        "latency_ms": latencies(&replies),
    });
    flashduty.assert_all_valid();

    // ---- Failing run --------------------------------------------------------------------
    flashduty.set_default(Behaviour::FailRandomly {
        percent: FAIL_PERCENT,
        seed: SEED,
    });
    let failing = Arc::new(events(EVENTS, EVENTS));
    let pushes_before = flashduty.push_count();
    let (replies, elapsed) = burst(
        &function,
        &failing,
        &secrets.auth_header,
        (0..EVENTS).collect(),
    )
    .await;
    let accepted = flashduty.accepted();
    let check = |i: usize, reply: &Reply, round: &str, violations: &mut Vec<String>| -> bool {
        let event = &failing[i];
        let during: Vec<_> = accepted_during(&accepted, &event.key, reply);
        let delivered = !during.is_empty();
        if reply.is_success() {
            let id = reply.body["alerts"][0]["flashduty_request_id"]
                .as_str()
                .unwrap_or_default();
            if !delivered {
                violations.push(format!(
                    "{round}, event {i} ({}): HTTP {} but alert {} was not accepted during the request (LOST)",
                    event.template, reply.status, event.key
                ));
            } else if !during.iter().any(|a| a.request_id == id) {
                violations.push(format!(
                    "{round}, event {i}: reports flashduty_request_id {id:?}, not one the stand-in accepted"
                ));
            }
        } else {
            if ![502, 503].contains(&reply.status) {
                violations.push(format!(
                    "{round}, event {i}: a failed delivery must be 502 or 503, got {} {}",
                    reply.status, reply.raw
                ));
            }
            if delivered {
                violations.push(format!(
                    "{round}, event {i}: HTTP {} although the stand-in accepted alert {} during the request",
                    reply.status, event.key
                ));
            }
        }
        reply.is_success()
    };
    let mut refused: Vec<usize> = Vec::new();
    for (i, reply) in replies.iter().enumerate() {
        if !check(i, reply, "failing run", &mut violations) {
            refused.push(i);
        }
    }
    let first_refused = refused.len();
    let first_statuses = statuses(&replies);
    let first_latency = latencies(&replies);
    let attempts_first = flashduty.push_count() - pushes_before;
    let injected = flashduty.pushes()[pushes_before..]
        .iter()
        .filter(|p| p.behaviour != Behaviour::Accept)
        .count();

    // Harbor retries each refused delivery (twice at most), still against the failing stand-in.
    let mut retries_sent = 0;
    for round in 1..=HARBOR_RETRIES {
        if refused.is_empty() {
            break;
        }
        let (replies, _) = burst(&function, &failing, &secrets.auth_header, refused.clone()).await;
        retries_sent += replies.len();
        let accepted_now = flashduty.accepted();
        let mut still = Vec::new();
        for (&i, reply) in refused.iter().zip(&replies) {
            let event = &failing[i];
            let delivered = !accepted_during(&accepted_now, &event.key, reply).is_empty();
            if reply.is_success() != delivered
                || (!reply.is_success() && ![502, 503].contains(&reply.status))
            {
                violations.push(format!(
                    "Harbor retry {round}, event {i}: HTTP {}, delivered during the request: {delivered}",
                    reply.status
                ));
            }
            if !reply.is_success() {
                still.push(i);
            }
        }
        refused = still;
    }
    let accepted = flashduty.accepted();
    let mut failing_times: HashMap<&str, usize> = HashMap::new();
    for a in &accepted {
        *failing_times.entry(a.alert_key()).or_insert(0) += 1;
    }
    let delivered_at_least_once = failing
        .iter()
        .filter(|e| failing_times.contains_key(e.key.as_str()))
        .count();
    let duplicates = failing
        .iter()
        .filter(|e| failing_times.get(e.key.as_str()).is_some_and(|&n| n > 1))
        .count();
    if injected == 0 {
        violations.push(format!(
            "the stand-in injected no failure (seed {SEED:#x}): the failing run proved nothing"
        ));
    }
    flashduty.assert_all_valid();

    let failing_figures = json!({
        "events": EVENTS,
        "concurrency": CONCURRENCY,
        "instances": INSTANCES,
        "fail_percent": FAIL_PERCENT,
        "seed": format!("{SEED:#x}"),
        "flashduty_attempts": attempts_first,
        "failures_injected": injected,
        "statuses": first_statuses,
        "answered_2xx": EVENTS - first_refused,
        "answered_non_2xx": first_refused,
        "lost": violations.iter().filter(|v| v.contains("(LOST)")).count(),
        "duration_s": (elapsed.as_secs_f64() * 100.0).round() / 100.0,
        "throughput_rps": per_second(EVENTS, elapsed),
        "latency_ms": first_latency,
        "harbor_retries_sent": retries_sent,
        "undelivered_after_harbor_retries": refused.len(),
        "delivered_at_least_once": delivered_at_least_once,
        "delivered_more_than_once": duplicates,
    });
    let figures = json!({
        "test": "tests/e2e/burst burst_of_distinct_events_healthy_then_failing",
        "function": "debug build under cargo lambda watch --only-lambda-apis, loopback",
        "healthy": healthy_figures,
        "failing": failing_figures,
        "violations": violations.len(),
    });
    let path = report::write("burst", &figures);
    println!(
        "burst -> {}\nhealthy: {EVENTS} events in {:.2} s = {} requests/s, latency {}\n\
         failing ({FAIL_PERCENT}% of attempts): {} refused of {EVENTS} ({} failures injected), \
         {} requests/s; after Harbor's retries {} undelivered",
        path.display(),
        figures["healthy"]["duration_s"],
        figures["healthy"]["throughput_rps"],
        figures["healthy"]["latency_ms"],
        first_refused,
        injected,
        figures["failing"]["throughput_rps"],
        refused.len(),
    );
    assert!(
        violations.is_empty(),
        "{} violation(s):\n{}",
        violations.len(),
        violations
            .iter()
            .take(50)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    drop(function);
}
