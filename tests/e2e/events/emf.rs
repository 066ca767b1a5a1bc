//! The Embedded Metric Format: what a valid EMF document is, and what the function's lines must
//! count for what happened.

use super::*;
use serde_json::Map;
use std::time::{SystemTime, UNIX_EPOCH};

/// CloudWatch's standard units, the only values EMF accepts for `Unit`.
pub(crate) const EMF_UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];
pub(crate) const EMF_MAX_DIMENSIONS_PER_SET: usize = 30;
pub(crate) const EMF_MAX_METRICS_PER_DIRECTIVE: usize = 100;
pub(crate) const EMF_MAX_VALUES_PER_METRIC: usize = 100;
/// CloudWatch Logs' limit for one log event.
pub(crate) const MAX_LOG_EVENT_BYTES: usize = 256 * 1024;

/// The EMF documents among `lines`: every line that is a JSON object with a top-level `_aws`
/// member. A line that mentions `"_aws"` but is no JSON object is an error (a torn EMF line).
pub(crate) fn emf_documents(lines: &[String]) -> Result<Vec<Map<String, Value>>, String> {
    let mut documents = Vec::new();
    for line in lines {
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(object)) if object.contains_key("_aws") => documents.push(object),
            Ok(_) => {}
            Err(e) if line.contains("\"_aws\"") => {
                return Err(format!(
                    "a line mentioning \"_aws\" is not JSON ({e}): {line}"
                ));
            }
            Err(_) => {}
        }
    }
    Ok(documents)
}

/// Every violation of the EMF specification in one document (empty when it is valid).
/// `timestamps` is the window the `_aws.Timestamp` must fall in, in ms since the epoch.
pub(crate) fn emf_problems(doc: &Map<String, Value>, timestamps: (u64, u64)) -> Vec<String> {
    let mut out = Vec::new();
    let size = Value::Object(doc.clone()).to_string().len();
    if size > MAX_LOG_EVENT_BYTES {
        out.push(format!(
            "the line is {size} bytes, over CloudWatch Logs' {MAX_LOG_EVENT_BYTES}"
        ));
    }
    let Some(aws) = doc["_aws"].as_object() else {
        out.push(format!("_aws must be an object, got {}", doc["_aws"]));
        return out;
    };
    match &aws.get("Timestamp") {
        Some(Value::Number(n)) if n.is_u64() => {
            let ms = n.as_u64().unwrap_or_default();
            if ms < timestamps.0 || ms > timestamps.1 {
                out.push(format!(
                    "_aws.Timestamp {ms} is not in milliseconds since the epoch around now \
                     ({}..{})",
                    timestamps.0, timestamps.1
                ));
            }
        }
        other => out.push(format!(
            "_aws.Timestamp must be an integer number of milliseconds, got {other:?}"
        )),
    }
    let directives = match aws.get("CloudWatchMetrics") {
        Some(Value::Array(directives)) if !directives.is_empty() => directives,
        other => {
            out.push(format!(
                "_aws.CloudWatchMetrics must be a non-empty array, got {other:?}"
            ));
            return out;
        }
    };
    for (i, directive) in directives.iter().enumerate() {
        let at = format!("_aws.CloudWatchMetrics[{i}]");
        let Some(directive) = directive.as_object() else {
            out.push(format!("{at} must be an object, got {directive}"));
            continue;
        };
        match directive.get("Namespace").and_then(Value::as_str) {
            Some(ns) => {
                let len = ns.chars().count();
                if !(1..=255).contains(&len) {
                    out.push(format!(
                        "{at}.Namespace must have 1 to 255 characters, has {len}"
                    ));
                }
                if ns.starts_with(':') {
                    out.push(format!("{at}.Namespace must not start with ':': {ns:?}"));
                }
                if !ns.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
                    out.push(format!("{at}.Namespace must be printable ASCII: {ns:?}"));
                }
            }
            None => out.push(format!(
                "{at}.Namespace must be a string, got {:?}",
                directive.get("Namespace")
            )),
        }
        match directive.get("Dimensions") {
            Some(Value::Array(sets)) => {
                for (j, set) in sets.iter().enumerate() {
                    let Some(names) = set.as_array() else {
                        out.push(format!(
                            "{at}.Dimensions[{j}] must be an array of names, got {set}"
                        ));
                        continue;
                    };
                    if names.len() > EMF_MAX_DIMENSIONS_PER_SET {
                        out.push(format!(
                            "{at}.Dimensions[{j}] has {} names (at most {EMF_MAX_DIMENSIONS_PER_SET})",
                            names.len()
                        ));
                    }
                    for name in names {
                        let Some(name) = name.as_str() else {
                            out.push(format!(
                                "{at}.Dimensions[{j}] holds a non-string name {name}"
                            ));
                            continue;
                        };
                        match doc.get(name) {
                            Some(Value::String(value)) => {
                                let len = value.chars().count();
                                if !(1..=1024).contains(&len) {
                                    out.push(format!(
                                        "dimension {name} must have a value of 1 to 1024 \
                                         characters, has {len}"
                                    ));
                                }
                            }
                            Some(other) => out.push(format!(
                                "dimension {name} must have a string value, got {other}"
                            )),
                            None => out.push(format!(
                                "dimension {name} is not a top-level member of the document"
                            )),
                        }
                        if !(1..=255).contains(&name.chars().count()) {
                            out.push(format!(
                                "dimension name {name:?} must have 1 to 255 characters"
                            ));
                        }
                    }
                }
            }
            other => out.push(format!(
                "{at}.Dimensions must be an array of dimension sets, got {other:?}"
            )),
        }
        let metrics = match directive.get("Metrics") {
            Some(Value::Array(metrics)) => metrics,
            other => {
                out.push(format!("{at}.Metrics must be an array, got {other:?}"));
                continue;
            }
        };
        if metrics.len() > EMF_MAX_METRICS_PER_DIRECTIVE {
            out.push(format!(
                "{at}.Metrics has {} metrics (at most {EMF_MAX_METRICS_PER_DIRECTIVE})",
                metrics.len()
            ));
        }
        for (j, metric) in metrics.iter().enumerate() {
            let Some(metric) = metric.as_object() else {
                out.push(format!("{at}.Metrics[{j}] must be an object, got {metric}"));
                continue;
            };
            let Some(name) = metric.get("Name").and_then(Value::as_str) else {
                out.push(format!(
                    "{at}.Metrics[{j}].Name must be a string, got {:?}",
                    metric.get("Name")
                ));
                continue;
            };
            if !(1..=255).contains(&name.chars().count()) {
                out.push(format!(
                    "metric name {name:?} must have 1 to 255 characters"
                ));
            }
            if let Some(unit) = metric.get("Unit")
                && !unit.as_str().is_some_and(|u| EMF_UNITS.contains(&u))
            {
                out.push(format!(
                    "metric {name}: Unit {unit} is not a CloudWatch unit"
                ));
            }
            if let Some(resolution) = metric.get("StorageResolution")
                && resolution != &json!(1)
                && resolution != &json!(60)
            {
                out.push(format!(
                    "metric {name}: StorageResolution must be 1 or 60, got {resolution}"
                ));
            }
            match doc.get(name) {
                Some(Value::Number(_)) => {}
                Some(Value::Array(values)) => {
                    if values.len() > EMF_MAX_VALUES_PER_METRIC {
                        out.push(format!(
                            "metric {name} has {} values (at most {EMF_MAX_VALUES_PER_METRIC})",
                            values.len()
                        ));
                    }
                    if !values.iter().all(Value::is_number) {
                        out.push(format!(
                            "metric {name}: every value must be a number: {values:?}"
                        ));
                    }
                }
                Some(other) => out.push(format!(
                    "metric {name} must have a number (or an array of numbers), got {other}"
                )),
                None => out.push(format!(
                    "metric {name} is not a top-level member of the document"
                )),
            }
        }
    }
    out
}

/// The counts one Harbor event must produce.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Counted {
    Forwarded,
    Dropped,
    Failed,
}

/// Checks one document as the function's: valid EMF, namespace `HarborFlashduty`, dimension
/// sets `[FunctionName, EventType]` and `[FunctionName]`, the three counters with exactly one
/// of them 1, and `FlashdutyLatency` in milliseconds exactly for forwarded alerts.
pub(crate) fn function_emf_problems(
    doc: &Map<String, Value>,
    event_type: &str,
    counted: Counted,
    window: (u64, u64),
) -> Vec<String> {
    let mut out = emf_problems(doc, window);
    if !out.is_empty() {
        return out;
    }
    let directive = &doc["_aws"]["CloudWatchMetrics"][0];
    if directive["Namespace"] != NAMESPACE {
        out.push(format!(
            "namespace {} (expected {NAMESPACE})",
            directive["Namespace"]
        ));
    }
    let expected_sets = json!([["FunctionName", "EventType"], ["FunctionName"]]);
    if directive["Dimensions"] != expected_sets {
        out.push(format!(
            "dimension sets {} (expected {expected_sets})",
            directive["Dimensions"]
        ));
    }
    if doc.get("FunctionName") != Some(&json!(FUNCTION_NAME)) {
        out.push(format!(
            "FunctionName {:?} (expected {FUNCTION_NAME}, from AWS_LAMBDA_FUNCTION_NAME)",
            doc.get("FunctionName")
        ));
    }
    if doc.get("EventType") != Some(&json!(event_type)) {
        out.push(format!(
            "EventType {:?} (expected {event_type})",
            doc.get("EventType")
        ));
    }
    let declared: BTreeMap<&str, Option<&str>> = directive["Metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["Name"].as_str()?, m["Unit"].as_str())))
        .collect();
    for (name, is) in [
        ("AlertsForwarded", counted == Counted::Forwarded),
        ("AlertsDropped", counted == Counted::Dropped),
        ("AlertsFailed", counted == Counted::Failed),
    ] {
        let want = u64::from(is);
        if declared.get(name) != Some(&Some("Count")) {
            out.push(format!(
                "{name} is not declared with Unit Count: {directive}"
            ));
        }
        if doc.get(name).and_then(Value::as_u64) != Some(want) {
            out.push(format!("{name} {:?} (expected {want})", doc.get(name)));
        }
    }
    let latency = doc.get("FlashdutyLatency");
    if counted == Counted::Forwarded {
        if declared.get("FlashdutyLatency") != Some(&Some("Milliseconds")) {
            out.push(format!(
                "FlashdutyLatency is not declared with Unit Milliseconds: {directive}"
            ));
        }
        match latency.and_then(Value::as_f64) {
            // The stand-in is local; 20 s is the harness's request timeout, far above the budget.
            Some(ms) if (0.0..20_000.0).contains(&ms) => {}
            other => out.push(format!(
                "FlashdutyLatency {other:?} is not a plausible latency in milliseconds"
            )),
        }
    } else if latency.is_some() || declared.contains_key("FlashdutyLatency") {
        out.push(format!(
            "FlashdutyLatency must only be reported for forwarded alerts: {latency:?}"
        ));
    }
    out
}

/// A window around now for `_aws.Timestamp`: from `since` (a minute back, for clock steps)
/// to a minute ahead.
pub(crate) fn timestamp_window(since: SystemTime) -> (u64, u64) {
    let ms = |t: SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    };
    (
        ms(since).saturating_sub(60_000),
        ms(SystemTime::now()) + 60_000,
    )
}
