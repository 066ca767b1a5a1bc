//! The burst's distinct events (each in a project of its own, with a digest of its own), sending
//! them `CONCURRENCY` at a time, and the figures of a run.

use super::*;
use crate::support;
use crate::support::fixtures::{content_type_for, fixture};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The fixtures the events are made from; "payments" (the project) is replaced per event.
pub(crate) const TEMPLATES: [&str; 8] = [
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
pub(crate) struct Event {
    pub(crate) template: &'static str,
    pub(crate) body: Vec<u8>,
    pub(crate) content_type: &'static str,
    pub(crate) key: String,
}

/// Replaces every `sha256:<64 hex>` with a digest of its own for event `n`.
pub(crate) fn new_digests(text: &str, n: usize) -> String {
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
pub(crate) fn events(first: usize, count: usize) -> Vec<Event> {
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
pub(crate) async fn burst(
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
pub(crate) fn latencies(replies: &[Reply]) -> Value {
    let mut ms: Vec<f64> = replies.iter().map(|r| report::ms(r.elapsed)).collect();
    ms.sort_by(f64::total_cmp);
    let pick = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    json!({"p50": pick(0.5), "p95": pick(0.95), "p99": pick(0.99), "max": pick(1.0)})
}

pub(crate) fn statuses(replies: &[Reply]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for reply in replies {
        *counts.entry(reply.status.to_string()).or_insert(0) += 1;
    }
    counts
}

pub(crate) fn per_second(count: usize, elapsed: Duration) -> f64 {
    (count as f64 / elapsed.as_secs_f64() * 10.0).round() / 10.0
}

/// The acceptances of `key` that happened while `reply`'s request was open.
pub(crate) fn accepted_during<'a>(
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
