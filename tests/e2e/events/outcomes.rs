//! Every event file's outcome, and failures counted in the metrics.

use super::emf::*;
use super::*;
use crate::expectations::{L, Outcome};
use crate::support::FlashdutyStandIn;
use crate::support::flashduty::Behaviour;
use crate::support::process::{closed_port, random_hex};
use serde_json::Map;
use std::time::SystemTime;

/// Every problem with one event's answer, its delivery and its metrics.
pub(crate) fn event_problems(
    expect: &Expect,
    response: &Value,
    flashduty: &FlashdutyStandIn,
    accepted_before: usize,
    emf: Result<Vec<Map<String, Value>>, String>,
    window: (u64, u64),
) -> Vec<String> {
    let mut out = Vec::new();
    let (status, body) = match status_and_body(response) {
        Ok(answer) => answer,
        Err(e) => return vec![e],
    };
    if status != 200 {
        return vec![format!("expected HTTP 200, got {status}: {body}")];
    }
    let accepted = flashduty.accepted();
    let delivered = accepted.get(accepted_before..).unwrap_or_default();
    let alerts = body["alerts"].as_array().cloned().unwrap_or_default();
    let dropped = body["dropped"].as_array().cloned().unwrap_or_default();
    if body["dry_run"] != json!(false) {
        out.push(format!(
            "expected dry_run false (a push URL is set): {body}"
        ));
    }
    let emf = match emf {
        Ok(documents) => documents,
        Err(e) => {
            out.push(e);
            Vec::new()
        }
    };
    let expect_one_emf = |event_type: &str, counted: Counted, out: &mut Vec<String>| {
        if emf.len() != 1 {
            out.push(format!(
                "expected one EMF line ({counted:?} {event_type}), got {}: {emf:?}",
                emf.len()
            ));
            return;
        }
        for p in function_emf_problems(&emf[0], event_type, counted, window) {
            out.push(format!(
                "EMF: {p}\n  line: {}",
                Value::Object(emf[0].clone())
            ));
        }
    };
    let fx = match expect {
        Expect::TestEndpoint => {
            if !alerts.is_empty() || !dropped.is_empty() {
                out.push(format!("expected empty alerts and dropped lists: {body}"));
            }
            if !delivered.is_empty() {
                out.push(format!(
                    "expected nothing sent to Flashduty, it accepted {} alert(s)",
                    delivered.len()
                ));
            }
            if !emf.is_empty() {
                out.push(format!(
                    "expected no EMF line (no Harbor event), got {emf:?}"
                ));
            }
            return out;
        }
        Expect::Fixture(fx) => fx,
    };
    match fx.outcome {
        Outcome::Dropped => {
            let want = json!([{"event_type": fx.event_type, "rule": "default"}]);
            if !alerts.is_empty() || Value::Array(dropped.clone()) != want {
                out.push(format!(
                    "expected a built-in drop (alerts [], dropped {want}), got {body}"
                ));
            }
            if !delivered.is_empty() {
                out.push(format!(
                    "a dropped event reached Flashduty ({} alert(s))",
                    delivered.len()
                ));
            }
            expect_one_emf(fx.event_type, Counted::Dropped, &mut out);
        }
        Outcome::Sent(severity) => {
            if alerts.len() != 1 || !dropped.is_empty() {
                out.push(format!(
                    "expected exactly one alert and no drop, got {body}"
                ));
                return out;
            }
            let alert = &alerts[0];
            if alert["event_status"] != severity.as_str() {
                out.push(format!(
                    "event_status: expected {severity}, got {}",
                    alert["event_status"]
                ));
            }
            for p in label_problems(fx, &alert["labels"]) {
                out.push(p);
            }
            match delivered {
                [one] => {
                    if alert["flashduty_request_id"] != json!(one.request_id) {
                        out.push(format!(
                            "flashduty_request_id {} is not the request id Flashduty answered ({})",
                            alert["flashduty_request_id"], one.request_id
                        ));
                    }
                    let mut answered = alert.clone();
                    if let Some(fields) = answered.as_object_mut() {
                        fields.remove("flashduty_request_id");
                    }
                    if answered != one.body {
                        out.push(format!(
                            "the answer's alert differs from what Flashduty received:\n  answered: {answered}\n  received: {}",
                            one.body
                        ));
                    }
                }
                _ => out.push(format!(
                    "expected Flashduty to accept exactly one alert, it accepted {}",
                    delivered.len()
                )),
            }
            expect_one_emf(fx.event_type, Counted::Forwarded, &mut out);
        }
    }
    out
}

/// The row's label expectations, and the labels every alert carries (SPEC §6).
pub(crate) fn label_problems(fx: &Fx, labels: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    for (key, want) in [
        ("event_type", fx.event_type),
        ("check", fx.event_type),
        ("rule", "default"),
    ] {
        if label(key) != Some(want) {
            out.push(format!(
                "label {key}: expected {want:?}, got {:?}",
                label(key)
            ));
        }
    }
    for (key, want) in &fx.labels {
        let got = label(key);
        let ok = match want {
            L::Is(v) => got == Some(v.as_str()),
            L::Contains(v) => got.is_some_and(|g| g.contains(v.as_str())),
            L::Present => got.is_some_and(|g| !g.is_empty()),
            L::Absent => got.is_none(),
        };
        if !ok {
            out.push(format!("label {key}: expected {want:?}, got {got:?}"));
        }
    }
    out
}

/// Every `events/` file, invoked one after the other on one function instance (so each one's
/// output lines are its own), gives what the fixture table predicts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_file_gives_the_outcome_the_spec_predicts() {
    let events = events_with_expectations();
    let flashduty = FlashdutyStandIn::start_with_key(INTEGRATION_KEY).await;
    let function = Function::start(&[
        ("FLASHDUTY_PUSH_URL", &flashduty.push_url()),
        ("HARBOR_AUTH_HEADER", DEMO_AUTH_HEADER),
        ("URL_TOKEN", DEMO_URL_TOKEN),
    ])
    .await;
    let mut cursor = LogCursor::new(&function);
    let mut failures = Vec::new();
    let (mut sent, mut dropped, mut emf_lines) = (0, 0, 0);
    for (name, expect) in &events {
        let since = SystemTime::now();
        let accepted_before = flashduty.accepted_count();
        let response = invoke_event_file(&function, name).await;
        let emf = emf_documents(&cursor.new_lines(&function));
        emf_lines += emf.as_ref().map_or(0, Vec::len);
        let problems = event_problems(
            expect,
            &response,
            &flashduty,
            accepted_before,
            emf,
            timestamp_window(since),
        );
        for p in problems {
            failures.push(format!("events/{name}.json: {p}"));
        }
        match expect {
            Expect::Fixture(fx) if matches!(fx.outcome, Outcome::Sent(_)) => sent += 1,
            Expect::Fixture(_) => dropped += 1,
            Expect::TestEndpoint => {}
        }
    }
    if flashduty.accepted_count() != sent {
        failures.push(format!(
            "Flashduty accepted {} alerts in all; {sent} events expect one each",
            flashduty.accepted_count()
        ));
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) in {} events:\n{}",
        failures.len(),
        events.len(),
        failures.join("\n")
    );
    flashduty.assert_all_valid();
    eprintln!(
        "{} events invoked: {sent} forwarded, {dropped} dropped by default, {} sent nothing; \
         {emf_lines} EMF lines valid",
        events.len(),
        events.len() - sent - dropped
    );
}

// ------------------------------------------------------------------------------------------------
// Failures counted in the metrics.

/// Invokes one event and returns (status, body, the EMF documents it printed).
pub(crate) async fn invoke_and_measure(
    function: &Function,
    name: &str,
) -> (u64, Value, Vec<Map<String, Value>>, (u64, u64)) {
    let mut cursor = LogCursor::new(function);
    let since = SystemTime::now();
    let response = invoke_event_file(function, name).await;
    let (status, body) = status_and_body(&response).unwrap_or_else(|e| panic!("{name}: {e}"));
    let emf = emf_documents(&cursor.new_lines(function)).unwrap_or_else(|e| panic!("{e}"));
    (status, body, emf, timestamp_window(since))
}

pub(crate) fn assert_one_emf(
    emf: &[Map<String, Value>],
    event_type: &str,
    counted: Counted,
    window: (u64, u64),
    function: &Function,
) {
    assert_eq!(
        emf.len(),
        1,
        "expected one EMF line ({counted:?} {event_type}); function output:\n{}",
        function.logs()
    );
    let problems = function_emf_problems(&emf[0], event_type, counted, window);
    assert!(
        problems.is_empty(),
        "EMF line {}:\n{}",
        Value::Object(emf[0].clone()),
        problems.join("\n")
    );
}

/// Flashduty refuses the alert (a 400, never retried): 502, and `AlertsFailed` 1 for its type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_delivery_counts_as_failed() {
    let flashduty = FlashdutyStandIn::start_with_key(INTEGRATION_KEY).await;
    flashduty.set_default(Behaviour::Reject400);
    let function = Function::start(&[
        ("FLASHDUTY_PUSH_URL", &flashduty.push_url()),
        ("HARBOR_AUTH_HEADER", DEMO_AUTH_HEADER),
    ])
    .await;
    let (status, body, emf, window) = invoke_and_measure(&function, "default_QUOTA_EXCEED").await;
    assert_eq!(status, 502, "{body}");
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(flashduty.accepted_count(), 0);
    assert_one_emf(&emf, "QUOTA_EXCEED", Counted::Failed, window, &function);
}

/// Local mode without an auth header, URL token or `ALLOW_UNAUTHENTICATED`: the configuration
/// is refused, every request is a 503, and each counts as failed with `EventType (unparsed)`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_without_credentials_counts_as_failed_unparsed() {
    let flashduty = FlashdutyStandIn::start_with_key(INTEGRATION_KEY).await;
    let function = Function::start(&[("FLASHDUTY_PUSH_URL", &flashduty.push_url())]).await;
    let (status, body, emf, window) = invoke_and_measure(&function, "default_PUSH_ARTIFACT").await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"].is_string(), "{body}");
    flashduty.assert_nothing_pushed("no credentials configured");
    assert_one_emf(&emf, UNPARSED, Counted::Failed, window, &function);
}

/// SSM mode with the SSM endpoint unreachable: 503 and `AlertsFailed` 1, `EventType (unparsed)`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_ssm_counts_as_failed_unparsed() {
    let flashduty = FlashdutyStandIn::start_with_key(INTEGRATION_KEY).await;
    let nowhere = format!("http://127.0.0.1:{}", closed_port());
    let prefix = format!("/e2e-{}", random_hex(6));
    let function = Function::start(&[
        ("SSM_PREFIX", &prefix),
        ("AWS_ENDPOINT_URL_SSM", &nowhere),
        ("CONFIG_TTL_SECONDS", "1"),
    ])
    .await;
    let (status, body, emf, window) = invoke_and_measure(&function, "default_QUOTA_EXCEED").await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"].is_string(), "{body}");
    flashduty.assert_nothing_pushed("no configuration");
    assert_one_emf(&emf, UNPARSED, Counted::Failed, window, &function);
}
