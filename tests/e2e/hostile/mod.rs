//! Hostile input through the built function over HTTP (`tests/support/function.rs`) to the
//! Flashduty stand-in: a generated set of the in-process suite's inputs (`tests/handler/hostile`,
//! generators in `tests/support/hostile`), and the two findings measured rather than judged
//! (docs/RELIABILITY.md, "Found"), in [`found`]. Figures go to `target/reliability/hostile_*.json`.
//!
//! Run with the venv tools on PATH: `make hostile` (with the in-process half), or
//! `PATH="$PWD/.venv/bin:$PATH" cargo nextest run --test e2e -E 'test(/^hostile::/)'`.

mod found;

use crate::support;
use crate::support::hostile::strategies::{arb_mutated, arb_odd_headers};
use crate::support::hostile::{
    Input, Presented, Transport, keys, present, query_string, show, show_cred,
};
use crate::support::report;
use crate::support::{FlashdutyStandIn, Function, Secrets};
use lambda_http::http::Method;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Cases sent to the real function.
const HTTP_CASES: usize = 1_500;
const HTTP_CONCURRENCY: usize = 8;

/// Generated inputs (deterministic) through the built function to the stand-in: the same
/// properties, with the oracle adjusted for HTTP (leading and trailing blanks of a header
/// value are not part of it, so a padded right credential is right; repeated headers may be
/// joined), and every 2xx checked against what the stand-in accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_over_http() {
    let secrets = Secrets::random();
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let function = Arc::new(
        Function::start_scaled(
            &[
                ("FLASHDUTY_PUSH_URL", &flashduty.push_url()),
                ("HARBOR_AUTH_HEADER", &keys().auth),
                ("URL_TOKEN", &keys().token),
            ],
            4,
        )
        .await,
    );
    // Inputs over HTTP: bodies up to 256 KiB.
    let mut runner = TestRunner::deterministic();
    let strategy = prop_oneof![3 => arb_mutated(), 1 => arb_odd_headers()];
    let mut inputs = Vec::new();
    for _ in 0..HTTP_CASES * 3 {
        if inputs.len() == HTTP_CASES {
            break;
        }
        let input = strategy
            .new_tree(&mut runner)
            .expect("a generated input")
            .current();
        // The emulator answers OPTIONS (CORS preflight) itself; HEAD has no body to check.
        if input.method != Method::HEAD
            && input.method != Method::OPTIONS
            && input.body.len() <= 256 * 1024
        {
            inputs.push(input);
        }
    }
    assert_eq!(inputs.len(), HTTP_CASES, "enough inputs");
    let inputs = Arc::new(inputs);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let client = support::http_client()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("an HTTP client");
    let mut workers = Vec::new();
    for _ in 0..HTTP_CONCURRENCY {
        let (function, inputs, next) = (
            Arc::clone(&function),
            Arc::clone(&inputs),
            Arc::clone(&next),
        );
        let client = client.clone();
        workers.push(tokio::spawn(async move {
            let mut results = Vec::new();
            for _ in 0..inputs.len() {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(input) = inputs.get(i) else { break };
                results.push((i, send_http(&client, &function, input).await));
            }
            results
        }));
    }
    let mut results = Vec::new();
    let joined = tokio::time::timeout(Duration::from_secs(180), async {
        for worker in workers {
            results.extend(worker.await.expect("an HTTP worker panicked"));
        }
    })
    .await;
    assert!(joined.is_ok(), "the HTTP cases did not finish within 180 s");
    let elapsed = started.elapsed();
    let accepted = flashduty.accepted();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let (mut forged, mut forged_accepted) = (0, 0);
    let mut failures = Vec::new();
    for (i, outcome) in &results {
        let input = &inputs[*i];
        let Some((status, content_type, body, p)) = outcome else {
            continue;
        };
        *statuses.entry(*status).or_insert(0) += 1;
        let text = String::from_utf8_lossy(body);
        // Over HTTP the blanks around a header value are not part of it.
        let trimmed_right = p
            .authorization
            .first()
            .is_some_and(|v| v.trim_ascii() == keys().auth.as_bytes());
        let maybe_right = p.right
            || trimmed_right
            || p.authorization
                .iter()
                .any(|v| v.as_slice() == keys().auth.as_bytes());
        let definitely_wrong = !maybe_right;
        let nonempty_post = input.method == Method::POST && !input.body.is_empty();
        if nonempty_post && definitely_wrong {
            forged += 1;
            if (200..300).contains(status) {
                forged_accepted += 1;
            }
        }
        let mut problems = Vec::new();
        if content_type.as_deref() != Some("application/json") {
            problems.push(format!("Content-Type {content_type:?}"));
        }
        if *status >= 500 {
            problems.push("a 5xx".to_owned());
        }
        if input.method != Method::POST && *status != 405 {
            problems.push("not 405 for another method".to_owned());
        }
        if nonempty_post && definitely_wrong && *status != 401 {
            problems.push("wrong credentials not refused with 401".to_owned());
        }
        if nonempty_post && ![200, 400, 401, 413].contains(status) {
            problems.push("a POST answered outside 200/400/401/413".to_owned());
        }
        for needle in keys()
            .needles()
            .iter()
            .chain([&secrets.integration_key.as_str()])
        {
            if text.contains(needle) {
                problems.push("a secret in the answer".to_owned());
            }
        }
        if *status == 200 {
            let answer: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            for alert in answer["alerts"].as_array().into_iter().flatten() {
                let id = alert["flashduty_request_id"].as_str().unwrap_or_default();
                if !accepted.iter().any(|a| a.request_id == id) {
                    problems.push(format!(
                        "2xx reports {id:?}, which the stand-in did not accept"
                    ));
                }
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "case {i}: HTTP {status}: {}\n  input (from {}): {} {}, headers [{}]\n  body: {:.300}\n  answer: {text:.300}",
                problems.join("; "),
                input.origin,
                input.method,
                show_cred(&input.cred),
                show(&input.headers),
                String::from_utf8_lossy(&input.body)
            ));
        }
    }
    let skipped = results.iter().filter(|(_, o)| o.is_none()).count();
    flashduty.assert_all_valid();
    report::write(
        "hostile_http",
        &json!({
            "test": "tests/e2e/hostile hostile_requests_over_http",
            "driven": "the built function under cargo lambda watch, over HTTP",
            "cases": results.len() - skipped,
            "skipped": skipped,
            "statuses": statuses.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<Map<_, _>>(),
            "forged_credentials": forged,
            "forged_accepted": forged_accepted,
            "alerts_accepted_by_flashduty": accepted.len(),
            "seconds": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
            "passed": failures.is_empty(),
        }),
    );
    println!(
        "over HTTP: {} cases ({skipped} not sendable) in {:.1} s, statuses {statuses:?}, {forged} forged credentials, {forged_accepted} accepted",
        results.len() - skipped,
        elapsed.as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        results.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(forged_accepted, 0);
}

type HttpOutcome = Option<(u16, Option<String>, Vec<u8>, Presented)>;

/// What the emulator can carry: it answers 500 itself (before the function) to a header value
/// that is not UTF-8 and to a text body that is not UTF-8, so over HTTP such bytes become `?`
/// and U+FFFD; the in-process properties cover the raw bytes.
fn emulator_safe(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|&b| if b.is_ascii() { b } else { b'?' })
        .collect()
}

/// Sends one input to the function over HTTP; `None` when reqwest cannot carry it.
async fn send_http(
    client: &reqwest::Client,
    function: &support::Function,
    input: &Input,
) -> HttpOutcome {
    let p = present(&input.cred, Transport::Direct);
    let query = query_string(&p);
    let url = if query.is_empty() {
        function.url()
    } else {
        format!("{}?{query}", function.url())
    };
    let mut headers = reqwest::header::HeaderMap::new();
    for value in &p.authorization {
        headers.append(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_bytes(&emulator_safe(value)).ok()?,
        );
    }
    for (name, value) in input.headers.iter().chain(&p.other_headers) {
        headers.append(
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).ok()?,
            reqwest::header::HeaderValue::from_bytes(&emulator_safe(value)).ok()?,
        );
    }
    let body = String::from_utf8_lossy(&input.body)
        .into_owned()
        .into_bytes();
    let method = reqwest::Method::from_bytes(input.method.as_str().as_bytes()).ok()?;
    let response = client
        .request(method, &url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("no answer over HTTP: {e}\ninput: {input:?}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let header_pairs: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response.bytes().await.ok()?.to_vec();
    support::capture::response(
        function.capture_dir(),
        "url",
        status,
        &header_pairs,
        &String::from_utf8_lossy(&body),
    );
    Some((status, content_type, body, p))
}
