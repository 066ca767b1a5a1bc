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
//! `PATH="$PWD/.venv/bin:$PATH" cargo nextest run --test e2e_burst`.

mod support;

use harbor_flashduty_core::convert::{Action, convert};
use harbor_flashduty_core::rules::Rules;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::fixtures::{content_type_for, fixture};
use support::report;
use support::{Behaviour, FlashdutyStandIn, Function, Reply, Secrets};

/// Events per run.
const EVENTS: usize = 1000;
/// Requests in flight at a time.
const CONCURRENCY: usize = 16;
/// Function instances: one per request in flight, as Lambda would scale.
const INSTANCES: usize = 16;
/// The failing run: share of attempts that fail, and the seed of the sequence.
const FAIL_PERCENT: u8 = 20;
const SEED: u64 = 0xB0B5_2026;
/// Harbor retries a failed delivery twice.
const HARBOR_RETRIES: usize = 2;
/// No run may take longer than this (it takes seconds).
const RUN_LIMIT: Duration = Duration::from_secs(180);

/// The fixtures the events are made from; "payments" (the project) is replaced per event.
const TEMPLATES: [&str; 8] = [
    "harbor/default_PUSH_ARTIFACT.json",
    "harbor/cloudevents_harbor.artifact.pushed.json",
    "harbor/default_DELETE_ARTIFACT.json",
    "harbor/default_SCANNING_COMPLETED.json",
    "harbor/default_QUOTA_EXCEED.json",
    "harbor/default_REPLICATION.json",
    "harbor/default_UPLOAD_CHART.json",
    "msr3/msr3_TAG_PUSH.json",
];

/// One event to send.
struct Event {
    template: &'static str,
    body: Vec<u8>,
    content_type: &'static str,
    key: String,
}

/// Replaces every `sha256:<64 hex>` with a digest of its own for event `n`.
fn new_digests(text: &str, n: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("sha256:") {
        let (before, after) = rest.split_at(at + "sha256:".len());
        out.push_str(before);
        let hex_len = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex_len == 64 {
            out.push_str(&format!("{:016x}{:048x}", n as u64 + 1, 0xb0b5u64));
            rest = &after[64..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Events `first..first + count`, each with a project and digest of its own.
fn events(first: usize, count: usize) -> Vec<Event> {
    let rules = Rules::builtin();
    let events: Vec<Event> = (first..first + count)
        .map(|n| {
            let template = TEMPLATES[n % TEMPLATES.len()];
            let text = String::from_utf8(fixture(template)).expect("fixtures are UTF-8");
            let text = new_digests(&text.replace("payments", &format!("burst{n:05}")), n);
            let body = text.into_bytes();
            let converted = convert(&body, None, &rules)
                .unwrap_or_else(|e| panic!("event {n} from {template} does not convert: {e}"));
            let keys: Vec<String> = converted
                .into_iter()
                .filter_map(|c| match c.action {
                    Action::Send(alert) => Some(alert.alert_key),
                    Action::Drop { .. } => None,
                })
                .collect();
            assert_eq!(
                keys.len(),
                1,
                "event {n} from {template} must give exactly one alert: {keys:?}"
            );
            Event {
                template,
                body,
                content_type: content_type_for(template),
                key: keys.into_iter().next().expect("one key"),
            }
        })
        .collect();
    let mut seen = HashMap::new();
    for (i, event) in events.iter().enumerate() {
        if let Some(other) = seen.insert(event.key.clone(), i) {
            panic!(
                "events {other} and {i} share the alert key {}: the burst must be distinct",
                event.key
            );
        }
    }
    events
}

/// Sends every event `indices` refers to, `CONCURRENCY` at a time; returns the replies in the
/// order of `indices`, and the wall time.
async fn burst(
    function: &Arc<Function>,
    events: &Arc<Vec<Event>>,
    auth: &str,
    indices: Vec<usize>,
) -> (Vec<Reply>, Duration) {
    let indices = Arc::new(indices);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (function, events, indices, next) = (
            Arc::clone(function),
            Arc::clone(events),
            Arc::clone(&indices),
            Arc::clone(&next),
        );
        let auth = auth.to_owned();
        workers.push(tokio::spawn(async move {
            let mut replies = Vec::new();
            // Bounded: each worker takes at most `indices.len()` events.
            for _ in 0..indices.len() {
                let slot = next.fetch_add(1, Ordering::SeqCst);
                let Some(&i) = indices.get(slot) else { break };
                let event = &events[i];
                let reply = function
                    .post(
                        event.body.clone(),
                        &[
                            ("content-type", event.content_type),
                            ("user-agent", "Go-http-client/1.1"),
                            ("authorization", &auth),
                        ],
                    )
                    .await;
                replies.push((slot, reply));
            }
            replies
        }));
    }
    let mut all: Vec<(usize, Reply)> = Vec::new();
    let joined = tokio::time::timeout(RUN_LIMIT, async {
        for worker in workers {
            all.extend(worker.await.expect("a burst worker panicked"));
        }
    })
    .await;
    assert!(
        joined.is_ok(),
        "a burst did not finish within {RUN_LIMIT:?}"
    );
    let elapsed = started.elapsed();
    all.sort_by_key(|(slot, _)| *slot);
    assert_eq!(all.len(), indices.len(), "every event was sent once");
    (all.into_iter().map(|(_, r)| r).collect(), elapsed)
}

/// Latency percentiles in ms.
fn latencies(replies: &[Reply]) -> Value {
    let mut ms: Vec<f64> = replies.iter().map(|r| report::ms(r.elapsed)).collect();
    ms.sort_by(f64::total_cmp);
    let pick = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    json!({"p50": pick(0.5), "p95": pick(0.95), "p99": pick(0.99), "max": pick(1.0)})
}

fn statuses(replies: &[Reply]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for reply in replies {
        *counts.entry(reply.status.to_string()).or_insert(0) += 1;
    }
    counts
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    (count as f64 / elapsed.as_secs_f64() * 10.0).round() / 10.0
}

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
        "test": "tests/e2e_burst.rs burst_of_distinct_events_healthy_then_failing",
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

/// The acceptances of `key` that happened while `reply`'s request was open.
fn accepted_during<'a>(
    accepted: &'a [support::flashduty::Accepted],
    key: &str,
    reply: &Reply,
) -> Vec<&'a support::flashduty::Accepted> {
    accepted
        .iter()
        .filter(|a| {
            a.alert_key() == key
                && a.received_at >= reply.sent_at
                && a.completed_at <= reply.answered_at
        })
        .collect()
}
