//! What the real standard alert endpoint checks in a body (stricter where SPEC §6 is).

use serde_json::{Map, Value};

/// The top-level fields SPEC §6 sends. The real endpoint also knows `images` and `event_time`,
/// but our function must not send them, so the stand-in rejects them like any unknown field.
const KNOWN_FIELDS: [&str; 5] = [
    "event_status",
    "alert_key",
    "title_rule",
    "description",
    "labels",
];
const EVENT_STATUSES: [&str; 4] = ["Critical", "Warning", "Info", "Ok"];
const MAX_TITLE: usize = 512;
const MAX_ALERT_KEY: usize = 255;
const MAX_DESCRIPTION: usize = 2048;
const MAX_LABELS: usize = 50;
const MAX_LABEL_KEY: usize = 128;
const MAX_LABEL_VALUE: usize = 2048;

/// Validates a standard alert body; returns it parsed, or what is wrong with it.
///
/// Lengths are counted in characters, as the reference documents them.
pub fn validate_alert(body: &[u8]) -> Result<Value, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not valid JSON: {e}"))?;
    let object = value
        .as_object()
        .ok_or_else(|| format!("body must be a JSON object, got {value}"))?;
    if let Some(unknown) = object.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown field `{unknown}`"));
    }
    let status = required_string(object, "event_status")?;
    if !EVENT_STATUSES.contains(&status) {
        return Err(format!(
            "event_status must be one of {EVENT_STATUSES:?} (case-sensitive), got {status:?}"
        ));
    }
    let title = required_string(object, "title_rule")?;
    check_length("title_rule", title, MAX_TITLE)?;
    if title.starts_with("[TPL]") {
        return Err("title_rule must not start with [TPL] (SPEC §6)".to_owned());
    }
    let alert_key = required_string(object, "alert_key")?;
    check_length("alert_key", alert_key, MAX_ALERT_KEY)?;
    if let Some(description) = object.get("description") {
        let description = description.as_str().ok_or("description must be a string")?;
        check_length("description", description, MAX_DESCRIPTION)?;
    }
    if let Some(labels) = object.get("labels") {
        validate_labels(labels)?;
    }
    Ok(value)
}

fn required_string<'a>(object: &'a Map<String, Value>, field: &str) -> Result<&'a str, String> {
    match object.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(format!("{field} must not be empty")),
        Some(other) => Err(format!("{field} must be a string, got {other}")),
        None => Err(format!("{field} is required")),
    }
}

fn check_length(field: &str, value: &str, max: usize) -> Result<(), String> {
    let chars = value.chars().count();
    if chars > max {
        return Err(format!(
            "{field} is {chars} characters long, at most {max} allowed"
        ));
    }
    Ok(())
}

fn validate_labels(labels: &Value) -> Result<(), String> {
    let labels = labels
        .as_object()
        .ok_or_else(|| format!("labels must be an object of strings, got {labels}"))?;
    if labels.len() > MAX_LABELS {
        return Err(format!(
            "{} labels, at most {MAX_LABELS} allowed",
            labels.len()
        ));
    }
    for (key, value) in labels {
        if !is_label_name(key) {
            return Err(format!(
                "label key {key:?} does not match ^[a-zA-Z_][a-zA-Z0-9_]*$"
            ));
        }
        check_length(&format!("label key {key:?}"), key, MAX_LABEL_KEY)?;
        let value = value
            .as_str()
            .ok_or_else(|| format!("label {key:?} must be a string, got {value}"))?;
        check_length(&format!("label {key:?}"), value, MAX_LABEL_VALUE)?;
    }
    Ok(())
}

/// `^[a-zA-Z_][a-zA-Z0-9_]*$`, the Prometheus label name rule the reference cites.
fn is_label_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
