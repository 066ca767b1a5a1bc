//! CloudWatch Embedded Metric Format lines: metrics from log lines, with no extra AWS calls.
//!
//! One line per Harbor event, in namespace `HarborFlashduty`: `AlertsForwarded`,
//! `AlertsDropped`, `AlertsFailed`, `AlertsNotSent` (each 0 or 1, exactly one of them 1) and,
//! for forwarded alerts, `FlashdutyLatency` in milliseconds; by function and event type, and
//! per function in total (what the alarm watches: a per-account total would let two stacks
//! trip each other's alarm). Which event gets which counter is decided in [`crate::observe`].

use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const NAMESPACE: &str = "HarborFlashduty";

/// The counter a line sets to 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Forwarded,
    Dropped,
    Failed,
    NotSent,
}

/// Builds the EMF document for one event.
pub fn emf_line(
    function: &str,
    event_type: &str,
    counter: Counter,
    latency: Option<Duration>,
    now: SystemTime,
) -> Value {
    let timestamp = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let count = |c: Counter| u8::from(counter == c);
    let mut metrics = vec![
        json!({"Name": "AlertsForwarded", "Unit": "Count"}),
        json!({"Name": "AlertsDropped", "Unit": "Count"}),
        json!({"Name": "AlertsFailed", "Unit": "Count"}),
        json!({"Name": "AlertsNotSent", "Unit": "Count"}),
    ];
    let mut line = json!({
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [],
        },
        "FunctionName": function,
        "EventType": event_type,
        "AlertsForwarded": count(Counter::Forwarded),
        "AlertsDropped": count(Counter::Dropped),
        "AlertsFailed": count(Counter::Failed),
        "AlertsNotSent": count(Counter::NotSent),
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
pub fn emit(event_type: &str, counter: Counter, latency: Option<Duration>) {
    let function =
        std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "harbor-flashduty".to_owned());
    println!(
        "{}",
        emf_line(&function, event_type, counter, latency, SystemTime::now())
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
            Counter::Forwarded,
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
        assert_eq!(line["AlertsNotSent"], 0);
    }

    #[test]
    fn a_not_sent_event_sets_only_its_counter() {
        let line = emf_line("fn", "PUSH_ARTIFACT", Counter::NotSent, None, UNIX_EPOCH);
        for (name, want) in [
            ("AlertsForwarded", 0),
            ("AlertsDropped", 0),
            ("AlertsFailed", 0),
            ("AlertsNotSent", 1),
        ] {
            assert_eq!(line[name], want, "{name}");
        }
        assert!(line.get("FlashdutyLatency").is_none());
    }
}
