//! Deterministic tables in-process: sizes near and over 1 MiB, deep nesting, out-of-range
//! numbers, encodings; and the documentation envelope that fills 1 MiB with tiny events.

use super::handler;
use crate::harness::{one, runtime};
use crate::support::fixtures::fixture;
use crate::support::flashduty::validate_alert;
use crate::support::hostile::{big_envelope, keys};
use crate::support::report;
use harbor_flashduty::handler::MAX_BODY;
use serde_json::json;
use std::time::Instant;

fn padded(rel: &str, len: usize) -> Vec<u8> {
    let mut body = fixture(rel);
    body.resize(len, b' ');
    body
}

#[test]
fn huge_deep_and_out_of_range_bodies() {
    let (handler, recorder) = handler();
    let rt = runtime();
    let auth = keys().auth.as_str();
    let push = "harbor/default_PUSH_ARTIFACT.json";
    let long = |n: usize| "x".repeat(n);
    let with = |patch: &str| {
        let text = String::from_utf8(fixture(push)).expect("UTF-8 fixture");
        text.replacen("\"operator\": \"robot$payments+ci\"", patch, 1)
            .into_bytes()
    };
    /// What is sent, the body, the `Authorization` value, the statuses allowed.
    type Case<'a> = (&'a str, Vec<u8>, Option<&'a str>, &'a [u16]);
    let cases: Vec<Case> = vec![
        (
            "exactly 1 MiB, valid",
            padded(push, MAX_BODY),
            Some(auth),
            &[200],
        ),
        (
            "1 MiB - 1, valid",
            padded(push, MAX_BODY - 1),
            Some(auth),
            &[200],
        ),
        ("1 MiB + 1", padded(push, MAX_BODY + 1), Some(auth), &[413]),
        ("2 MiB", padded(push, 2 * MAX_BODY), Some(auth), &[413]),
        ("6 MiB", padded(push, 6 * MAX_BODY), Some(auth), &[413]),
        (
            "2 MiB without Authorization",
            padded(push, 2 * MAX_BODY),
            None,
            &[401],
        ),
        (
            "2 MiB with a wrong Authorization",
            padded(push, 2 * MAX_BODY),
            Some("Bearer x"),
            &[401],
        ),
        (
            "1 MiB of [",
            "[".repeat(MAX_BODY).into_bytes(),
            Some(auth),
            &[400],
        ),
        (
            "1 MiB of nested arrays",
            format!("{}{}", "[".repeat(MAX_BODY / 2), "]".repeat(MAX_BODY / 2)).into_bytes(),
            Some(auth),
            &[400],
        ),
        (
            "nested objects to 1 MiB",
            format!(
                "{}1{}",
                "{\"a\":".repeat(MAX_BODY / 6),
                "}".repeat(MAX_BODY / 6)
            )
            .into_bytes(),
            Some(auth),
            &[400],
        ),
        (
            "event_data 127 deep",
            with(&format!(
                "\"operator\": {}1{}",
                "[".repeat(127),
                "]".repeat(127)
            )),
            Some(auth),
            &[200, 400],
        ),
        (
            "operator of 1 MiB - 600 bytes",
            with(&format!("\"operator\": \"{}\"", long(MAX_BODY - 600))),
            Some(auth),
            &[200],
        ),
        (
            "operator of 1 MiB",
            with(&format!("\"operator\": \"{}\"", long(MAX_BODY))),
            Some(auth),
            &[413],
        ),
        (
            "200 000 escaped characters",
            with(&format!("\"operator\": \"{}\"", "\\u00e9".repeat(170_000))),
            Some(auth),
            &[200],
        ),
        (
            "occur_at 1e400",
            with("\"operator\": \"o\", \"occur_at\": 1e400"),
            Some(auth),
            &[400],
        ),
        (
            "occur_at i64::MAX",
            with(&format!("\"operator\": \"o\", \"occur_at\": {}", i64::MAX)),
            Some(auth),
            &[200, 400],
        ),
        (
            "occur_at u64::MAX + 1",
            with("\"operator\": \"o\", \"occur_at\": 18446744073709551616"),
            Some(auth),
            &[400],
        ),
        (
            "occur_at negative",
            with("\"operator\": \"o\", \"occur_at\": -62135596801"),
            Some(auth),
            &[200, 400],
        ),
        (
            "occur_at as a string",
            with("\"operator\": \"o\", \"occur_at\": \"1741948523\""),
            Some(auth),
            &[200, 400],
        ),
        (
            "operator a number",
            with("\"operator\": 12"),
            Some(auth),
            &[400],
        ),
        (
            "operator an object",
            with("\"operator\": {\"name\": \"x\"}"),
            Some(auth),
            &[400],
        ),
        (
            "a lone surrogate",
            with("\"operator\": \"\\ud800\""),
            Some(auth),
            &[400],
        ),
        (
            "invalid UTF-8 in a string",
            {
                let mut b = with("\"operator\": \"@@\"");
                let at = b.windows(2).position(|w| w == b"@@").expect("marker");
                b.splice(at..at + 2, [0xff, 0xfe]);
                b
            },
            Some(auth),
            &[400],
        ),
        (
            "a UTF-8 byte order mark",
            [b"\xef\xbb\xbf".as_slice(), &fixture(push)].concat(),
            Some(auth),
            &[400],
        ),
        (
            "UTF-16",
            fixture(push).iter().flat_map(|&b| [b, 0]).collect(),
            Some(auth),
            &[400],
        ),
        ("a NUL byte", b"\0".to_vec(), Some(auth), &[400]),
        ("whitespace only", b" \n\t ".to_vec(), Some(auth), &[400]),
        ("JSON null", b"null".to_vec(), Some(auth), &[400]),
        (
            "a top-level array of payloads",
            format!("[{}]", String::from_utf8_lossy(&fixture(push))).into_bytes(),
            Some(auth),
            &[400],
        ),
        (
            "two payloads back to back",
            [fixture(push), fixture(push)].concat(),
            Some(auth),
            &[400],
        ),
    ];
    let mut failures = Vec::new();
    let mut rows = Vec::new();
    for (what, body, auth, allowed) in &cases {
        recorder.take();
        let started = Instant::now();
        let (status, answer) = one(&handler, &rt, body.clone(), *auth);
        let elapsed = started.elapsed();
        let sent = recorder.take();
        rows.push(
            json!({"case": what, "bytes": body.len(), "status": status, "ms": report::ms(elapsed)}),
        );
        if !allowed.contains(&status) {
            failures.push(format!(
                "{what}: expected {allowed:?}, got {status}: {answer}"
            ));
        }
        if status == 200 {
            for alert in answer["alerts"].as_array().into_iter().flatten() {
                let mut body = alert.clone();
                body.as_object_mut()
                    .map(|o| o.remove("flashduty_request_id"));
                if let Err(why) = validate_alert(body.to_string().as_bytes()) {
                    failures.push(format!("{what}: {why}"));
                }
            }
        } else if !sent.is_empty() {
            failures.push(format!("{what}: HTTP {status} but alerts were sent"));
        }
    }
    report::write(
        "hostile_tables",
        &json!({"test": "tests/handler/hostile/tables.rs huge_deep_and_out_of_range_bodies", "cases": rows}),
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// SPEC §5 lets the documentation envelope carry several events. A body near 1 MiB made of
/// tiny events becomes thousands of alerts: measured here and over HTTP (`tests/e2e/hostile`), and reported
/// (docs/RELIABILITY.md, "Found").
#[test]
fn many_events_in_one_documentation_envelope() {
    let (handler, recorder) = handler();
    let rt = runtime();
    let (body, n) = big_envelope();
    let started = Instant::now();
    let (status, answer) = one(&handler, &rt, body.into_bytes(), Some(&keys().auth));
    let elapsed = started.elapsed();
    let sent = recorder.take().len();
    let answer_bytes = answer.to_string().len();
    report::write(
        "hostile_envelope",
        &json!({
            "events_in_body": n,
            "status": status,
            "alerts_sent": sent,
            "answer_bytes": answer_bytes,
            "ms_in_process": report::ms(elapsed),
        }),
    );
    println!(
        "documentation envelope: {n} events in 1 MiB -> HTTP {status}, {sent} alerts sent, answer {answer_bytes} bytes, {elapsed:?} in-process"
    );
    assert!(status == 200 || status == 400, "HTTP {status}");
    if status == 200 {
        assert_eq!(sent, n, "every event is one alert");
    }
}
