//! Helpers shared by the core test modules. Nothing here calls into the code under test
//! beyond the public API.

#![allow(dead_code)]

use harbor_flashduty_core::alert::Alert;
use harbor_flashduty_core::convert::{Action, Converted, convert};
use harbor_flashduty_core::payload::{CloudEventAttributes, PayloadError, parse};
use harbor_flashduty_core::rules::Rules;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `tests/fixtures`.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("tests")
        .join("fixtures")
}

/// Reads a fixture by its path relative to `tests/fixtures` (`harbor/default_PUSH_ARTIFACT.json`).
pub fn read_fixture(rel: &str) -> Vec<u8> {
    let path = fixtures_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

pub fn json_fixture(rel: &str) -> Value {
    serde_json::from_slice(&read_fixture(rel))
        .unwrap_or_else(|e| panic!("fixture {rel} is not JSON: {e}"))
}

/// Every `*.json` file under `tests/fixtures/harbor` and `tests/fixtures/msr3` (not `raw/`),
/// as paths relative to `tests/fixtures`, sorted.
pub fn all_json_fixtures() -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["harbor", "msr3"] {
        let entries = std::fs::read_dir(fixtures_dir().join(dir))
            .unwrap_or_else(|e| panic!("read_dir {dir}: {e}"));
        for entry in entries {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            if entry.file_type().unwrap().is_file() && name.ends_with(".json") {
                out.push(format!("{dir}/{name}"));
            }
        }
    }
    out.sort();
    out
}

/// The Slack notify body: the fixture file minus its leading `#` comment lines.
pub fn slack_body() -> Vec<u8> {
    let text = String::from_utf8(read_fixture("harbor/raw/slack_PUSH_ARTIFACT_body.txt")).unwrap();
    let body: String = text
        .lines()
        .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        body.starts_with("{\"blocks\""),
        "unexpected Slack fixture layout: {body:.40}"
    );
    body.into_bytes()
}

/// CloudEvents attributes from a flat `{"ce-...": "..."}` headers object.
pub fn attributes_from_headers(headers: &Value) -> CloudEventAttributes {
    let map: BTreeMap<String, String> = headers
        .as_object()
        .expect("headers object")
        .iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                v.as_str().expect("header value is a string").to_owned(),
            )
        })
        .collect();
    CloudEventAttributes::from_headers(|name| map.get(name).map(String::as_str))
        .expect("ce-specversion header")
}

/// Binary-mode form of a structured CloudEvent: (attributes as headers would carry them, body).
pub fn to_binary(structured: &Value) -> (CloudEventAttributes, Vec<u8>) {
    let mut headers = Map::new();
    for attr in [
        "specversion",
        "id",
        "source",
        "type",
        "time",
        "operator",
        "requestid",
    ] {
        if let Some(v) = structured.get(attr).and_then(Value::as_str) {
            headers.insert(format!("ce-{attr}"), json!(v));
        }
    }
    headers.insert("content-type".into(), json!("application/json"));
    let body = serde_json::to_vec(&structured["data"]).unwrap();
    (attributes_from_headers(&Value::Object(headers)), body)
}

pub fn builtin() -> Rules {
    Rules::builtin()
}

pub fn rules(json: &str) -> Rules {
    Rules::from_json(json).unwrap_or_else(|e| panic!("rules should parse: {e}\n{json}"))
}

pub fn convert_bytes(body: &[u8], rules: &Rules) -> Vec<Converted> {
    convert(body, None, rules)
        .unwrap_or_else(|e| panic!("convert failed: {e}\n{}", String::from_utf8_lossy(body)))
}

pub fn convert_value(payload: &Value, rules: &Rules) -> Vec<Converted> {
    convert_bytes(&serde_json::to_vec(payload).unwrap(), rules)
}

/// The one decision for a payload that holds one event.
pub fn one(payload: &Value, rules: &Rules) -> Converted {
    let mut all = convert_value(payload, rules);
    assert_eq!(all.len(), 1, "expected exactly one event from {payload}");
    all.remove(0)
}

/// The alert for a payload that must produce one.
pub fn sent(payload: &Value, rules: &Rules) -> Alert {
    match one(payload, rules).action {
        Action::Send(alert) => alert,
        Action::Drop { by } => panic!("expected an alert, but it was dropped by {by:?}: {payload}"),
    }
}

/// `Some(rule)` when the payload's event is dropped.
pub fn dropped_by(payload: &Value, rules: &Rules) -> Option<String> {
    match one(payload, rules).action {
        Action::Send(_) => None,
        Action::Drop { by } => Some(by),
    }
}

/// The alert key of the one event in `body` (computed whether or not a rule would drop it).
pub fn key_of_bytes(body: &[u8], binary: Option<&CloudEventAttributes>) -> String {
    let events = parse(body, binary)
        .unwrap_or_else(|e| panic!("parse failed: {e}\n{}", String::from_utf8_lossy(body)));
    assert_eq!(events.len(), 1, "expected one event");
    harbor_flashduty_core::alert::alert_key(&events[0])
}

pub fn key_of(payload: &Value) -> String {
    key_of_bytes(&serde_json::to_vec(payload).unwrap(), None)
}

/// The CloudEvents `type` Harbor 2.8+ gives a Default type, where there is one.
pub fn cloudevents_type(default_type: &str) -> Option<&'static str> {
    Some(match default_type {
        "PUSH_ARTIFACT" => "harbor.artifact.pushed",
        "PULL_ARTIFACT" => "harbor.artifact.pulled",
        "DELETE_ARTIFACT" => "harbor.artifact.deleted",
        "SCANNING_COMPLETED" => "harbor.scan.completed",
        "SCANNING_FAILED" => "harbor.scan.failed",
        "SCANNING_STOPPED" => "harbor.scan.stopped",
        "QUOTA_EXCEED" => "harbor.quota.exceeded",
        "QUOTA_WARNING" => "harbor.quota.warned",
        "REPLICATION" => "harbor.replication.status.changed",
        "TAG_RETENTION" => "harbor.tag_retention.finished",
        _ => return None,
    })
}

/// The Harbor 1.9/1.10 camelCase type of a Default type, where there is one.
pub fn legacy_type(default_type: &str) -> Option<&'static str> {
    Some(match default_type {
        "PUSH_ARTIFACT" => "pushImage",
        "PULL_ARTIFACT" => "pullImage",
        "DELETE_ARTIFACT" => "deleteImage",
        "UPLOAD_CHART" => "uploadChart",
        "DOWNLOAD_CHART" => "downloadChart",
        "DELETE_CHART" => "deleteChart",
        "SCANNING_COMPLETED" => "scanningCompleted",
        "SCANNING_FAILED" => "scanningFailed",
        "QUOTA_EXCEED" | "QUOTA_WARNING" => "projectQuota",
        _ => return None,
    })
}

/// A structured CloudEvent carrying a Default payload's event, as Harbor 2.8+ would send it.
pub fn default_to_cloudevent(default: &Value, ce_type: &str, id: &str) -> Value {
    let occur_at = default["occur_at"].as_i64().expect("occur_at");
    let mut ce = json!({
        "specversion": "1.0",
        "id": id,
        "source": "/projects/5/webhook/policies/3",
        "type": ce_type,
        "datacontenttype": "application/json",
        "time": rfc3339(occur_at),
        "data": default["event_data"].clone(),
        "requestid": "0f0e0d0c-0b0a-0908-0706-050403020100",
    });
    if let Some(op) = default.get("operator") {
        ce["operator"] = op.clone();
    }
    ce
}

/// Unix seconds to RFC 3339 in UTC (`2025-03-14T10:45:00Z`), computed here independently of
/// the code under test (Howard Hinnant's civil-from-days).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Flashduty label names: `^[a-zA-Z_][a-zA-Z0-9_]*$`.
pub fn is_label_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Every Flashduty limit of SPEC section 6 that holds for any alert; `Err` says which broke.
pub fn check_limits(alert: &Alert) -> Result<(), String> {
    let chars = |s: &str| s.chars().count();
    if alert.alert_key.is_empty() {
        return Err("alert_key is empty".into());
    }
    if chars(&alert.alert_key) > 255 {
        return Err(format!(
            "alert_key has {} characters (> 255)",
            chars(&alert.alert_key)
        ));
    }
    if chars(&alert.title_rule) > 512 {
        return Err(format!(
            "title_rule has {} characters (> 512)",
            chars(&alert.title_rule)
        ));
    }
    if alert.title_rule.starts_with("[TPL]") {
        return Err(format!(
            "title_rule starts with [TPL]: {:?}",
            alert.title_rule
        ));
    }
    if chars(&alert.description) > 2048 {
        return Err(format!(
            "description has {} characters (> 2048)",
            chars(&alert.description)
        ));
    }
    if alert.labels.len() > 50 {
        return Err(format!("{} labels (> 50)", alert.labels.len()));
    }
    for (k, v) in &alert.labels {
        if chars(k) > 128 {
            return Err(format!("label key {k:?} longer than 128 characters"));
        }
        if !is_label_name(k) {
            return Err(format!("label key {k:?} is not a valid label name"));
        }
        if chars(v) > 2048 {
            return Err(format!(
                "label {k:?} value has {} characters (> 2048)",
                chars(v)
            ));
        }
    }
    Ok(())
}

/// Checks limits of every alert of a conversion result; errors must have a message.
pub fn check_result(result: &Result<Vec<Converted>, PayloadError>) -> Result<(), String> {
    match result {
        Ok(converted) => {
            for c in converted {
                if let Action::Send(alert) = &c.action {
                    check_limits(alert).map_err(|e| format!("{e}\nalert: {alert:#?}"))?;
                }
            }
            Ok(())
        }
        Err(e) => {
            if e.to_string().trim().is_empty() {
                Err(format!("empty error message for {e:?}"))
            } else {
                Ok(())
            }
        }
    }
}

/// Sets a JSON pointer path (creating nothing): panics if the path does not exist.
pub fn set(value: &mut Value, pointer: &str, new: Value) {
    match value.pointer_mut(pointer) {
        Some(slot) => *slot = new,
        None => panic!("no {pointer} in the payload"),
    }
}

/// Moves a Default/CloudEvents event's repository to `project/name`.
pub fn set_repository(event_data: &mut Value, project: &str, name: &str) {
    let repo = &mut event_data["repository"];
    repo["namespace"] = json!(project);
    repo["name"] = json!(name);
    repo["repo_full_name"] = json!(format!("{project}/{name}"));
    if let Some(resources) = event_data
        .get_mut("resources")
        .and_then(Value::as_array_mut)
    {
        for r in resources {
            if let Some(url) = r
                .get("resource_url")
                .and_then(Value::as_str)
                .filter(|u| !u.contains("://"))
            {
                let host = url
                    .split('/')
                    .next()
                    .unwrap_or("harbor.example.com")
                    .to_owned();
                let reference = url
                    .rsplit_once('@')
                    .map(|(_, d)| format!("@{d}"))
                    .or_else(|| url.rsplit_once(':').map(|(_, t)| format!(":{t}")))
                    .unwrap_or_default();
                r["resource_url"] = json!(format!("{host}/{project}/{name}{reference}"));
            }
        }
    }
}
