//! The three hostile properties, each run against a fresh in-process handler with an oracle
//! written from SPEC §4.

use super::{build, handler};
use crate::harness::{InProcess, Recorder, runtime};
use crate::support::flashduty::validate_alert;
use crate::support::hostile::strategies::{arb_event, arb_mutated, arb_odd_headers};
use crate::support::hostile::{Input, keys, present, show, show_cred};
use crate::support::report;
use harbor_flashduty::handler::MAX_BODY;
use lambda_http::http::{self, Method};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What the request is, by construction.
struct Expect {
    post: bool,
    empty: bool,
    right: bool,
    too_large: bool,
}

/// Tallies of one property run.
#[derive(Default)]
struct Tally {
    cases: usize,
    skipped: usize,
    statuses: BTreeMap<u16, usize>,
    forged: usize,
    forged_accepted: usize,
    alerts_checked: usize,
    body_bytes: usize,
}

/// Checks one answer against SPEC §4 and the sink; returns the status.
fn check(
    expect: &Expect,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    sent: &[Value],
) -> Result<(), String> {
    let text = String::from_utf8_lossy(body);
    if content_type != Some("application/json") {
        return Err(format!(
            "Content-Type {content_type:?}, not application/json"
        ));
    }
    let answer: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the answer is not JSON ({e}): {text}"))?;
    for needle in keys().needles() {
        if text.contains(needle) {
            return Err(format!("a secret appears in the answer: {text}"));
        }
    }
    let expected = if !expect.post {
        Some(405)
    } else if expect.empty {
        Some(200)
    } else if !expect.right {
        Some(401)
    } else if expect.too_large {
        Some(413)
    } else {
        None
    };
    match expected {
        Some(want) if want != status => {
            return Err(format!("expected HTTP {want}, got {status}: {text}"));
        }
        None if status != 200 && status != 400 => {
            return Err(format!(
                "an authorised POST must give 200 or 400, got {status}: {text}"
            ));
        }
        _ => {}
    }
    if status != 200 {
        if answer["error"].as_str().is_none_or(|e| e.trim().is_empty()) {
            return Err(format!("HTTP {status} without an error sentence: {text}"));
        }
        if !sent.is_empty() {
            return Err(format!(
                "HTTP {status}, but {} alert(s) went to Flashduty",
                sent.len()
            ));
        }
        return Ok(());
    }
    let alerts = answer["alerts"]
        .as_array()
        .ok_or_else(|| format!("200 without alerts: {text}"))?;
    if !answer["dropped"].is_array() || answer["dry_run"] != json!(false) {
        return Err(format!("200 without `dropped` or with a dry run: {text}"));
    }
    if expect.empty
        && (!alerts.is_empty() || !answer["dropped"].as_array().is_some_and(Vec::is_empty))
    {
        return Err(format!(
            "the empty Test Endpoint POST reported events: {text}"
        ));
    }
    let mut reported = Vec::new();
    for alert in alerts {
        if !alert["flashduty_request_id"].is_string() {
            return Err(format!(
                "a forwarded alert without flashduty_request_id: {alert}"
            ));
        }
        let mut body = alert.clone();
        body.as_object_mut()
            .map(|o| o.remove("flashduty_request_id"));
        validate_alert(body.to_string().as_bytes())
            .map_err(|why| format!("an alert Flashduty would refuse ({why}): {body}"))?;
        reported.push(body);
    }
    if reported.as_slice() != sent {
        return Err(format!(
            "the answer reports {} alert(s), the sink got {}: {text}",
            reported.len(),
            sent.len()
        ));
    }
    Ok(())
}

/// Runs one input in-process and checks it.
fn run_one(
    rt: &tokio::runtime::Runtime,
    handler: &InProcess,
    recorder: &Recorder,
    input: &Input,
    tally: &Mutex<Tally>,
) -> Result<(), TestCaseError> {
    let presented = present(&input.cred, input.transport);
    let Some(request) = build(input, &presented) else {
        tally.lock().unwrap_or_else(|p| p.into_inner()).skipped += 1;
        return Ok(());
    };
    // What the handler will see, for the body-related expectations: an event may have turned
    // a non-UTF-8 text body into a lossy one.
    let body_len = request.body().as_ref().len();
    let expect = Expect {
        post: request.method() == Method::POST,
        empty: body_len == 0,
        right: presented.right,
        too_large: body_len > MAX_BODY,
    };
    recorder.take();
    let response = rt.block_on(handler.handle(request));
    let sent: Vec<Value> = recorder
        .take()
        .iter()
        .map(|a| serde_json::to_value(a).expect("an alert serialises"))
        .collect();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.body().as_ref().to_vec();
    {
        let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
        t.cases += 1;
        t.body_bytes += body_len;
        *t.statuses.entry(status).or_insert(0) += 1;
        if expect.post && !expect.empty && !expect.right {
            t.forged += 1;
            if (200..300).contains(&status) {
                t.forged_accepted += 1;
            }
        }
        t.alerts_checked += sent.len();
    }
    check(&expect, status, content_type.as_deref(), &body, &sent).map_err(|why| {
        TestCaseError::fail(format!(
            "{why}\ninput (from {}): {} {} via {:?}, headers [{}]\nbody: {:.2000}",
            input.origin,
            input.method,
            show_cred(&input.cred),
            input.transport,
            show(&input.headers),
            String::from_utf8_lossy(&input.body)
        ))
    })
}

/// The share of `HOSTILE_CASES` (default 105 000) a property runs.
fn cases(default: u32) -> u32 {
    const TOTAL: u32 = 105_000;
    match std::env::var("HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        Some(total) => ((u64::from(default) * total / u64::from(TOTAL)).max(1)) as u32,
        None => default,
    }
}

/// The longest a property may run (the default counts take under a minute each).
const PROPERTY_TIME_LIMIT: Duration = Duration::from_secs(600);

/// Runs `strategy` for `n` cases against a fresh in-process handler, writes the figures to
/// `target/reliability/hostile_<name>.json` and fails on the first (shrunk) counterexample.
fn property(name: &str, n: u32, strategy: impl Strategy<Value = Input>) {
    let (handler, recorder) = handler();
    let rt = runtime();
    let tally = Mutex::new(Tally::default());
    let mut runner = TestRunner::new(ProptestConfig {
        cases: n,
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    });
    let started = Instant::now();
    let result = runner.run(&strategy, |input| {
        // Bounded in time as well as in count: a run this slow means something is wrong.
        if started.elapsed() > PROPERTY_TIME_LIMIT {
            return Err(TestCaseError::fail(format!(
                "{name}: still running after {PROPERTY_TIME_LIMIT:?}"
            )));
        }
        run_one(&rt, &handler, &recorder, &input, &tally)
    });
    let elapsed = started.elapsed();
    let tally = tally.into_inner().unwrap_or_else(|p| p.into_inner());
    let path = report::write(
        &format!("hostile_{name}"),
        &json!({
            "test": format!("tests/handler/hostile/properties.rs {name}"),
            "driven": "in-process",
            "cases": tally.cases,
            "skipped": tally.skipped,
            "statuses": tally.statuses.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<Map<_, _>>(),
            "forged_credentials": tally.forged,
            "forged_accepted": tally.forged_accepted,
            "alerts_checked": tally.alerts_checked,
            "body_bytes": tally.body_bytes,
            // A panic fails the run (proptest catches it), so a passed run had none.
            "panics": if result.is_ok() { json!(0) } else { Value::Null },
            "passed": result.is_ok(),
            "seconds": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
        }),
    );
    println!(
        "{name}: {} cases ({} skipped) in {:.1} s, statuses {:?}, {} forged credentials, {} accepted -> {}",
        tally.cases,
        tally.skipped,
        elapsed.as_secs_f64(),
        tally.statuses,
        tally.forged,
        tally.forged_accepted,
        path.display()
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    assert_eq!(tally.forged_accepted, 0, "forged credentials were accepted");
    assert!(
        tally.statuses.contains_key(&200) && tally.statuses.contains_key(&401),
        "{name}: the inputs never reached both success and refusal: {:?}",
        tally.statuses
    );
}

#[test]
fn mutated_samples() {
    property("mutated_samples", cases(60_000), arb_mutated());
}

#[test]
fn odd_headers() {
    property("odd_headers", cases(30_000), arb_odd_headers());
}

#[test]
fn function_url_events() {
    property("function_url_events", cases(15_000), arb_event());
}
