//! CloudWatch Embedded Metric Format lines: metrics from log lines, with no extra AWS calls.
//!
//! One line per Harbor event, in namespace `HarborFlashduty`: `AlertsForwarded`,
//! `AlertsDropped`, `AlertsFailed` (0 or 1) and, for forwarded alerts, `FlashdutyLatency` in
//! milliseconds; by function and event type, and per function in total (what the alarm
//! watches: a per-account total would let two stacks trip each other's alarm).

use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const NAMESPACE: &str = "HarborFlashduty";

/// What happened to one event, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Forwarded,
    Dropped,
    Failed,
}

/// Builds the EMF document for one event.
pub fn emf_line(
    function: &str,
    event_type: &str,
    outcome: Outcome,
    latency: Option<Duration>,
    now: SystemTime,
) -> Value {
    let timestamp = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let count = |o: Outcome| u8::from(outcome == o);
    let mut metrics = vec![
        json!({"Name": "AlertsForwarded", "Unit": "Count"}),
        json!({"Name": "AlertsDropped", "Unit": "Count"}),
        json!({"Name": "AlertsFailed", "Unit": "Count"}),
    ];
    let mut line = json!({
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [],
        },
        "FunctionName": function,
        "EventType": event_type,
        "AlertsForwarded": count(Outcome::Forwarded),
        "AlertsDropped": count(Outcome::Dropped),
        "AlertsFailed": count(Outcome::Failed),
    });
    if let Some(latency) = latency {
        metrics.push(json!({"Name": "FlashdutyLatency", "Unit": "Milliseconds"}));
        line["FlashdutyLatency"] = json!(latency.as_secs_f64() * 1000.0);
    }
    line["_aws"]["CloudWatchMetrics"] = json!([{
        "Namespace": NAMESPACE,
        "Dimensions": [["FunctionName", "EventType"], ["FunctionName"]],
        "Metrics": metrics,
    }]);
    line
}

/// The event type reported for requests refused before their payload was read (configuration
/// errors), so that a broken deployment raises the failure alarm too.
pub const UNPARSED: &str = "(unparsed)";

/// Prints the EMF line to stdout, where Lambda's log agent picks metrics up.
pub fn emit(event_type: &str, outcome: Outcome, latency: Option<Duration>) {
    let function =
        std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "harbor-flashduty".to_owned());
    println!(
        "{}",
        emf_line(&function, event_type, outcome, latency, SystemTime::now())
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_metric_has_a_value_and_dimensions_exist() {
        let line = emf_line(
            "fn",
            "PUSH_ARTIFACT",
            Outcome::Forwarded,
            Some(Duration::from_millis(42)),
            UNIX_EPOCH,
        );
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(line[name].is_number(), "{name} has no value");
        }
        for set in directive["Dimensions"].as_array().unwrap() {
            for dim in set.as_array().unwrap() {
                assert!(line[dim.as_str().unwrap()].is_string());
            }
        }
        assert_eq!(line["AlertsForwarded"], 1);
        assert_eq!(line["AlertsFailed"], 0);
        assert_eq!(line["FlashdutyLatency"], 42.0);
    }
}
