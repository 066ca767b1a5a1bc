//! Every sample event in `events/` through `cargo lambda invoke`, and the CloudWatch Embedded
//! Metric Format lines the function prints for them.
//!
//! `events/` holds a Lambda Function URL request event (payload format 2.0) per payload fixture,
//! made by `scripts/make_events.py` with the demo credentials (`Authorization: Bearer
//! harbor-flashduty-demo`, MSR 3's `?token=msr3-demo-token`). Each file is invoked exactly as
//! the README shows, `cargo lambda invoke harbor-flashduty --data-file events/NAME.json`, against
//! the built function running in local mode with those credentials and the Flashduty stand-in as
//! push URL. The expected outcome of each event comes from the fixture table that the core suite
//! also checks (`core/tests/core/expectations.rs`): HTTP 200 and the `event_status`, labels and
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
//! `PATH="$PWD/.venv/bin:$PATH" cargo nextest run --test e2e -E 'test(/^events::/)'`.
//!
//! * this module: `events/` and what each file must give, invoking a file, reading the answer;
//! * [`emf`]: the EMF checker; [`emf_checker`]: its own test;
//! * [`outcomes`]: every event file's outcome, and failures counted in the metrics.

mod emf;
mod emf_checker;
mod outcomes;

use crate::expectations::{self, Fx};
use crate::support::Function;
use crate::support::function::FUNCTION_NAME;
use crate::support::process::require_tool;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The credentials `scripts/make_events.py` puts into the events.
pub(crate) const DEMO_AUTH_HEADER: &str = "Bearer harbor-flashduty-demo";
pub(crate) const DEMO_URL_TOKEN: &str = "msr3-demo-token";
/// The Flashduty integration key of the stand-in (any value: the events do not carry it).
pub(crate) const INTEGRATION_KEY: &str = "e2eeventsintegrationkey";
/// `metrics::NAMESPACE` and `metrics::UNPARSED`, spelled out: the dashboard and the alarm in
/// template.yaml depend on these names.
pub(crate) const NAMESPACE: &str = "HarborFlashduty";
pub(crate) const UNPARSED: &str = "(unparsed)";

// ------------------------------------------------------------------------------------------------
// events/ and what each file must give.

pub(crate) fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

/// The names (without `.json`) of every file in `events/`, sorted.
pub(crate) fn event_names() -> Vec<String> {
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
pub(crate) enum Expect {
    /// The fixture row's outcome: its `event_status` and labels, or the built-in drop.
    Fixture(Box<Fx>),
    /// Harbor's *Test Endpoint*: empty lists, nothing sent, nothing counted.
    TestEndpoint,
}

/// The `events/` name `scripts/make_events.py` gives a fixture row: the file name without
/// `.json` (`.body.json` for a binary CloudEvents pair), MSR 3 files prefixed `msr3_`.
pub(crate) fn event_name(fx: &Fx) -> String {
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
pub(crate) fn expectations_by_event() -> BTreeMap<String, Expect> {
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
pub(crate) fn events_with_expectations() -> Vec<(String, Expect)> {
    let mut expected = expectations_by_event();
    let on_disk = event_names();
    let unexpected: Vec<&String> = on_disk
        .iter()
        .filter(|name| !expected.contains_key(*name))
        .collect();
    assert!(
        unexpected.is_empty(),
        "events/ files with no expectation: {unexpected:?}. Add the fixture's row to \
         core/tests/core/expectations.rs (or handle the hand-made event in tests/e2e/events/mod.rs)"
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
pub(crate) async fn invoke_event_file(function: &Function, name: &str) -> Value {
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
pub(crate) fn status_and_body(response: &Value) -> Result<(u64, Value), String> {
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
pub(crate) struct LogCursor {
    consumed: usize,
}

impl LogCursor {
    /// Starts after everything printed so far (start-up lines).
    pub(crate) fn new(function: &Function) -> LogCursor {
        LogCursor {
            consumed: function.logs().len(),
        }
    }

    pub(crate) fn new_lines(&mut self, function: &Function) -> Vec<String> {
        let logs = function.logs();
        let fresh = logs.get(self.consumed..).unwrap_or_default();
        let complete = fresh.rfind('\n').map_or(0, |at| at + 1);
        self.consumed += complete;
        fresh[..complete].lines().map(str::to_owned).collect()
    }
}
