//! Every sample event in `events/` through `cargo lambda invoke`, and the CloudWatch Embedded
//! Metric Format lines the function prints for them.
//!
//! `events/` holds a Lambda Function URL request event (payload format 2.0) per payload fixture,
//! made by `scripts/make_events.py` with the demo credentials (`Authorization: Bearer
//! harbor-flashduty-demo`, MSR 3's `?token=msr3-demo-token`). Each file is invoked exactly as
//! the README shows, `cargo lambda invoke harbor-flashduty --data-file events/NAME.json`, against
//! the built function running in local mode with those credentials and the Flashduty stand-in as
//! push URL. The expected outcome of each event comes from the fixture table that `core_fixtures`
//! also checks (`tests/common/expectations.rs`): HTTP 200 and the `event_status`, labels and
//! delivery of a forwarded alert, or the built-in drop; `empty-body.json` (Harbor's *Test
//! Endpoint*) answers 200 and sends nothing. An event file without an expectation fails.
//!
//! The function's output (the harness captures stdout and stderr together) is read after every
//! invoke; each line with a top-level `_aws` member is checked against the EMF specification
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>)
//! and its counts against what happened: a forwarded alert is `AlertsForwarded` 1 with a
//! `FlashdutyLatency`, a dropped one `AlertsDropped` 1, a refused delivery and a configuration
//! error `AlertsFailed` 1 (the latter with `EventType` `(unparsed)`).
//!
//! Run with the venv tools on PATH: `make e2e`, or
//! `PATH="$PWD/.venv/bin:$PATH" cargo nextest run --test e2e_events`.

/// The fixture expectations table, shared with the core suite.
#[path = "../core/tests/core/expectations.rs"]
#[allow(dead_code)]
mod expectations;
mod support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use expectations::{Fx, L, Outcome};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::flashduty::Behaviour;
use support::function::FUNCTION_NAME;
use support::process::{closed_port, random_hex, require_tool};
use support::{FlashdutyStandIn, Function};

/// The credentials `scripts/make_events.py` puts into the events.
const DEMO_AUTH_HEADER: &str = "Bearer harbor-flashduty-demo";
const DEMO_URL_TOKEN: &str = "msr3-demo-token";
/// The Flashduty integration key of the stand-in (any value: the events do not carry it).
const INTEGRATION_KEY: &str = "e2eeventsintegrationkey";
/// `metrics::NAMESPACE` and `metrics::UNPARSED`, spelled out: the dashboard and the alarm in
/// template.yaml depend on these names.
const NAMESPACE: &str = "HarborFlashduty";
const UNPARSED: &str = "(unparsed)";

// ------------------------------------------------------------------------------------------------
// events/ and what each file must give.

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

/// The names (without `.json`) of every file in `events/`, sorted.
fn event_names() -> Vec<String> {
    let dir = events_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("reading an events/ entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| !name.starts_with('.'))
        .map(|name| {
            name.strip_suffix(".json")
                .unwrap_or_else(|| panic!("events/{name}: only .json events belong in events/"))
                .to_owned()
        })
        .collect();
    names.sort();
    names
}

/// What one event must give. Every event answers HTTP 200: each fixture is a valid payload
/// carrying valid credentials, and the Test Endpoint's empty body is answered before both.
#[derive(Debug, Clone)]
enum Expect {
    /// The fixture row's outcome: its `event_status` and labels, or the built-in drop.
    Fixture(Box<Fx>),
    /// Harbor's *Test Endpoint*: empty lists, nothing sent, nothing counted.
    TestEndpoint,
}

/// The `events/` name `scripts/make_events.py` gives a fixture row: the file name without
/// `.json` (`.body.json` for a binary CloudEvents pair), MSR 3 files prefixed `msr3_`.
fn event_name(fx: &Fx) -> String {
    let (dir, file) = fx
        .file
        .split_once('/')
        .unwrap_or_else(|| panic!("{}: expected <dir>/<file>", fx.file));
    let stem = file
        .strip_suffix(".body.json")
        .or_else(|| file.strip_suffix(".json"))
        .unwrap_or_else(|| panic!("{}: not a .json fixture", fx.file));
    if dir == "msr3" && !stem.starts_with("msr3") {
        format!("msr3_{stem}")
    } else {
        stem.to_owned()
    }
}

/// Every event `events/` should hold, with its expectation: one per fixture row, plus the two
/// hand-made events of `scripts/make_events.py`.
fn expectations_by_event() -> BTreeMap<String, Expect> {
    let mut by_event = BTreeMap::new();
    let mut push = None;
    for fx in expectations::table() {
        if fx.file == "harbor/default_PUSH_ARTIFACT.json" {
            push = Some(fx.clone());
        }
        let name = event_name(&fx);
        let file = fx.file;
        if by_event
            .insert(name.clone(), Expect::Fixture(Box::new(fx)))
            .is_some()
        {
            panic!("two fixture rows map to events/{name}.json (the second: {file})");
        }
    }
    by_event.insert("empty-body".to_owned(), Expect::TestEndpoint);
    // The Push fixture with its body base64-encoded (`isBase64Encoded: true`).
    let push = push.expect("the table has a row for harbor/default_PUSH_ARTIFACT.json");
    by_event.insert("base64-body".to_owned(), Expect::Fixture(Box::new(push)));
    by_event
}

/// Every `events/` file has an expectation and every expectation its file; panics otherwise.
fn events_with_expectations() -> Vec<(String, Expect)> {
    let mut expected = expectations_by_event();
    let on_disk = event_names();
    let unexpected: Vec<&String> = on_disk
        .iter()
        .filter(|name| !expected.contains_key(*name))
        .collect();
    assert!(
        unexpected.is_empty(),
        "events/ files with no expectation: {unexpected:?}. Add the fixture's row to \
         tests/common/expectations.rs (or handle the hand-made event in tests/e2e_events.rs)"
    );
    let missing: Vec<&String> = expected
        .keys()
        .filter(|name| !on_disk.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "expected events missing from events/: {missing:?}. Run `python3 scripts/make_events.py`"
    );
    on_disk
        .into_iter()
        .map(|name| {
            let expect = expected.remove(&name).expect("checked above");
            (name, expect)
        })
        .collect()
}

#[test]
fn every_event_file_has_an_expectation() {
    let events = events_with_expectations();
    assert!(
        events.len() >= 50,
        "expected an event per fixture in events/, found {}",
        events.len()
    );
}

// ------------------------------------------------------------------------------------------------
// Invoking an event file and reading the answer.

/// `cargo lambda invoke harbor-flashduty --data-file events/<name>.json` against `function`,
/// run from the project directory, so the path is the one the README shows.
async fn invoke_event_file(function: &Function, name: &str) -> Value {
    let cargo_lambda = require_tool("cargo-lambda");
    let data_file = format!("events/{name}.json");
    let mut command = tokio::process::Command::new(cargo_lambda);
    command
        .args(["lambda", "invoke", FUNCTION_NAME])
        .args(["--invoke-address", "127.0.0.1"])
        .args(["--invoke-port", &function.port().to_string()])
        .args(["--data-file", &data_file])
        .args(["--output-format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .unwrap_or_else(|_| panic!("cargo lambda invoke {data_file} did not finish within 60 s"))
        .expect("running cargo lambda invoke");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo lambda invoke --data-file {data_file} failed ({}):\nstdout: {stdout}\nstderr: {}\n\
         function logs:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        function.logs()
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("cargo lambda invoke {data_file} printed no JSON ({e}): {stdout}")
    })
}

/// The status and JSON body of a Function URL response; `Err` when it is not well-formed
/// (every response is JSON with `Content-Type: application/json`, SPEC §4).
fn status_and_body(response: &Value) -> Result<(u64, Value), String> {
    let status = response["statusCode"]
        .as_u64()
        .ok_or_else(|| format!("no statusCode in the response: {response}"))?;
    let text = response["body"].as_str().unwrap_or_default();
    let bytes = if response["isBase64Encoded"] == json!(true) {
        BASE64
            .decode(text)
            .map_err(|e| format!("bad base64 body ({e}): {response}"))?
    } else {
        text.as_bytes().to_vec()
    };
    let body = serde_json::from_slice(&bytes)
        .map_err(|e| format!("the body is not JSON ({e}): {response}"))?;
    let headers = response["headers"].as_object().cloned().unwrap_or_default();
    let content_type = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .and_then(|(_, value)| value.as_str())
        .unwrap_or_default();
    if !content_type.starts_with("application/json") {
        return Err(format!(
            "Content-Type must be application/json, got {content_type:?}: {response}"
        ));
    }
    Ok((status, body))
}

/// Reads the function's output in steps: what it printed since the last call, in whole lines.
struct LogCursor {
    consumed: usize,
}

impl LogCursor {
    /// Starts after everything printed so far (start-up lines).
    fn new(function: &Function) -> LogCursor {
        LogCursor {
            consumed: function.logs().len(),
        }
    }

    fn new_lines(&mut self, function: &Function) -> Vec<String> {
        let logs = function.logs();
        let fresh = logs.get(self.consumed..).unwrap_or_default();
        let complete = fresh.rfind('\n').map_or(0, |at| at + 1);
        self.consumed += complete;
        fresh[..complete].lines().map(str::to_owned).collect()
    }
}

// ------------------------------------------------------------------------------------------------
// The Embedded Metric Format.

/// CloudWatch's standard units, the only values EMF accepts for `Unit`.
const EMF_UNITS: [&str; 27] = [
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
const EMF_MAX_DIMENSIONS_PER_SET: usize = 30;
const EMF_MAX_METRICS_PER_DIRECTIVE: usize = 100;
const EMF_MAX_VALUES_PER_METRIC: usize = 100;
/// CloudWatch Logs' limit for one log event.
const MAX_LOG_EVENT_BYTES: usize = 256 * 1024;

/// The EMF documents among `lines`: every line that is a JSON object with a top-level `_aws`
/// member. A line that mentions `"_aws"` but is no JSON object is an error (a torn EMF line).
fn emf_documents(lines: &[String]) -> Result<Vec<Map<String, Value>>, String> {
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
fn emf_problems(doc: &Map<String, Value>, timestamps: (u64, u64)) -> Vec<String> {
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
enum Counted {
    Forwarded,
    Dropped,
    Failed,
}

/// Checks one document as the function's: valid EMF, namespace `HarborFlashduty`, dimension
/// sets `[FunctionName, EventType]` and `[FunctionName]`, the three counters with exactly one
/// of them 1, and `FlashdutyLatency` in milliseconds exactly for forwarded alerts.
fn function_emf_problems(
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
fn timestamp_window(since: SystemTime) -> (u64, u64) {
    let ms = |t: SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    };
    (
        ms(since).saturating_sub(60_000),
        ms(SystemTime::now()) + 60_000,
    )
}

// ------------------------------------------------------------------------------------------------
// The events.

/// Every problem with one event's answer, its delivery and its metrics.
fn event_problems(
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
fn label_problems(fx: &Fx, labels: &Value) -> Vec<String> {
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
async fn invoke_and_measure(
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

fn assert_one_emf(
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

// ------------------------------------------------------------------------------------------------
// The EMF checker itself: it must reject what the specification rejects.

fn sample_emf() -> Map<String, Value> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let doc = json!({
        "_aws": {
            "Timestamp": now,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName", "EventType"], ["FunctionName"]],
                "Metrics": [
                    {"Name": "AlertsForwarded", "Unit": "Count"},
                    {"Name": "AlertsDropped", "Unit": "Count"},
                    {"Name": "AlertsFailed", "Unit": "Count"},
                    {"Name": "FlashdutyLatency", "Unit": "Milliseconds"}
                ]
            }]
        },
        "FunctionName": FUNCTION_NAME,
        "EventType": "PUSH_ARTIFACT",
        "AlertsForwarded": 1,
        "AlertsDropped": 0,
        "AlertsFailed": 0,
        "FlashdutyLatency": 12.5
    });
    doc.as_object().unwrap().clone()
}

#[test]
fn the_emf_checker_accepts_a_valid_document_and_rejects_each_violation() {
    let window = timestamp_window(SystemTime::now());
    let valid = sample_emf();
    assert_eq!(emf_problems(&valid, window), Vec::<String>::new());
    assert_eq!(
        function_emf_problems(&valid, "PUSH_ARTIFACT", Counted::Forwarded, window),
        Vec::<String>::new()
    );

    type Mutation = fn(&mut Value);
    let cases: [(&str, Mutation); 17] = [
        ("Timestamp in seconds", |d| {
            d["_aws"]["Timestamp"] = json!(d["_aws"]["Timestamp"].as_u64().unwrap() / 1000)
        }),
        ("Timestamp as a string", |d| {
            d["_aws"]["Timestamp"] = json!("1741948524000")
        }),
        ("Timestamp fractional", |d| {
            d["_aws"]["Timestamp"] = json!(d["_aws"]["Timestamp"].as_f64().unwrap() + 0.5)
        }),
        ("no CloudWatchMetrics", |d| {
            d["_aws"]
                .as_object_mut()
                .unwrap()
                .remove("CloudWatchMetrics");
        }),
        ("empty CloudWatchMetrics", |d| {
            d["_aws"]["CloudWatchMetrics"] = json!([])
        }),
        ("Namespace missing", |d| {
            d["_aws"]["CloudWatchMetrics"][0]
                .as_object_mut()
                .unwrap()
                .remove("Namespace");
        }),
        ("Namespace starting with ':'", |d| {
            d["_aws"]["CloudWatchMetrics"][0]["Namespace"] = json!(":Harbor")
        }),
        ("Namespace of 256 characters", |d| {
            d["_aws"]["CloudWatchMetrics"][0]["Namespace"] = json!("N".repeat(256))
        }),
        ("a dimension that is not a member", |d| {
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!([["FunctionName", "Region"]])
        }),
        ("a dimension with a number value", |d| {
            d["EventType"] = json!(7)
        }),
        ("a dimension set of 31 names", |d| {
            let names: Vec<String> = (0..31).map(|i| format!("D{i}")).collect();
            for name in &names {
                d[name.as_str()] = json!("x");
            }
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!([names]);
        }),
        ("Dimensions not an array of arrays", |d| {
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!(["FunctionName"])
        }),
        ("a metric that is not a member", |d| {
            d.as_object_mut().unwrap().remove("AlertsFailed");
        }),
        ("a metric with a string value", |d| {
            d["AlertsDropped"] = json!("0")
        }),
        ("a metric with 101 values", |d| {
            d["AlertsDropped"] = json!(vec![0; 101])
        }),
        ("an unknown Unit", |d| {
            d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Alerts")
        }),
        ("101 metrics", |d| {
            let metrics: Vec<Value> = (0..101)
                .map(|i| json!({"Name": format!("M{i}"), "Unit": "Count"}))
                .collect();
            for i in 0..101 {
                d[format!("M{i}")] = json!(1);
            }
            d["_aws"]["CloudWatchMetrics"][0]["Metrics"] = json!(metrics);
        }),
    ];
    for (what, mutate) in cases {
        let mut doc = Value::Object(valid.clone());
        mutate(&mut doc);
        let problems = emf_problems(doc.as_object().unwrap(), window);
        assert!(!problems.is_empty(), "the checker accepted {what}: {doc}");
    }

    // The function-specific counts: wrong outcome, latency on a drop, missing latency.
    assert!(!function_emf_problems(&valid, "PUSH_ARTIFACT", Counted::Dropped, window).is_empty());
    assert!(!function_emf_problems(&valid, "PULL_ARTIFACT", Counted::Forwarded, window).is_empty());
    let mut no_latency = Value::Object(valid.clone());
    no_latency
        .as_object_mut()
        .unwrap()
        .remove("FlashdutyLatency");
    no_latency["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array_mut()
        .unwrap()
        .pop();
    assert!(emf_problems(no_latency.as_object().unwrap(), window).is_empty());
    assert!(
        !function_emf_problems(
            no_latency.as_object().unwrap(),
            "PUSH_ARTIFACT",
            Counted::Forwarded,
            window
        )
        .is_empty()
    );

    // A torn EMF line is an error; other log lines are not EMF.
    let lines = [
        r#"{"level":"INFO","fields":{"message":"harbor event"}}"#.to_owned(),
        "plain text".to_owned(),
        Value::Object(valid.clone()).to_string(),
    ];
    assert_eq!(emf_documents(&lines).unwrap().len(), 1);
    assert!(emf_documents(&[r#"{"_aws": {"Timestamp": 1"#.to_owned()]).is_err());
}
