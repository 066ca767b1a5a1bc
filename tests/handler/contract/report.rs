//! The success answer's JSON shape (SPEC §4): `{"alerts": [<alert body>...], "dropped":
//! [{"event_type", "rule"}...], "dry_run": <bool>}`, for every fixture of the core suite's table
//! (`core/tests/core/expectations.rs`) in a dry run, and for a drop by a user rule. The core
//! suite checks what each alert says; here the answer that carries it.

use super::{Contract, PULL, PUSH, alert_body, assert_success};
use crate::expectations::{self, Outcome};
use crate::harness::Options;
use crate::support::fixtures::all_json_fixtures;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The fixtures these tests and the e2e suite use are exactly the files of the core table.
#[test]
fn every_fixture_is_a_file_of_the_core_table() {
    let mut listed = BTreeSet::new();
    for fx in expectations::table() {
        listed.insert(fx.file.to_owned());
        listed.extend(fx.headers.map(str::to_owned));
    }
    let on_disk: BTreeSet<String> = all_json_fixtures().into_iter().collect();
    assert_eq!(
        on_disk, listed,
        "support::fixtures::all_json_fixtures and the core table disagree"
    );
}

#[tokio::test]
async fn every_fixture_gives_the_dry_run_report_of_its_row() {
    let dry = Contract::with(
        Options {
            dry_run: true,
            ..Options::default()
        },
        |_| Vec::new(),
    );
    // The same requests delivered, to compare the dry run's alerts with what is sent.
    let live = Contract::new();
    let mut problems = Vec::new();
    for fx in expectations::table() {
        let answered = dry.send(dry.fixture_event(fx.file)).await;
        assert_success(&answered, true, fx.file);
        let alerts = &answered.body["alerts"];
        let dropped = &answered.body["dropped"];
        match &fx.outcome {
            Outcome::Dropped => {
                let expected = json!({
                    "alerts": [],
                    "dropped": [{"event_type": fx.event_type, "rule": "default"}],
                    "dry_run": true,
                });
                let got = json!({"alerts": alerts, "dropped": dropped, "dry_run": answered.body["dry_run"]});
                if got != expected {
                    problems.push(format!(
                        "{}: expected {expected}, got {}",
                        fx.file, answered.raw
                    ));
                }
            }
            Outcome::Sent(severity) => {
                let before = live.sink.calls().len();
                live.send(live.fixture_event(fx.file)).await;
                let sent: Vec<Value> = live.sink.calls()[before..]
                    .iter()
                    .map(|call| serde_json::to_value(&call.alert).expect("an alert serialises"))
                    .collect();
                let reported: Vec<Value> = alerts
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(alert_body)
                    .collect();
                if *dropped != json!([]) || reported.len() != 1 {
                    problems.push(format!(
                        "{}: expected one alert and no drop, got {}",
                        fx.file, answered.raw
                    ));
                    continue;
                }
                if alerts[0].get("flashduty_request_id").is_some() {
                    problems.push(format!("{}: a dry-run alert with a request id", fx.file));
                }
                if alerts[0]["event_status"] != json!(severity.to_string()) {
                    problems.push(format!(
                        "{}: expected {severity}, got {}",
                        fx.file, alerts[0]
                    ));
                }
                if reported != sent {
                    problems.push(format!(
                        "{}: the dry run reports {reported:?}, delivery sends {sent:?}",
                        fx.file
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn a_reported_alert_is_the_flashduty_request_body() {
    let dry = Contract::with(
        Options {
            dry_run: true,
            ..Options::default()
        },
        |_| Vec::new(),
    );
    let answered = dry.send(dry.fixture_event(PUSH)).await;
    assert_success(&answered, true, "PUSH_ARTIFACT");
    assert_eq!(answered.body["dropped"], json!([]));
    let alert = &answered.body["alerts"][0];
    for field in [
        "event_status",
        "alert_key",
        "title_rule",
        "description",
        "labels",
    ] {
        assert!(alert.get(field).is_some(), "{field} missing from {alert}");
    }
    assert_eq!(alert["event_status"], json!("Info"));
    assert!(
        alert.get("flashduty_request_id").is_none(),
        "a dry run has no request id: {alert}"
    );
}

/// `dropped[].rule` names the user rule that dropped the event, or `default` for a built-in.
#[tokio::test]
async fn a_drop_by_a_user_rule_names_the_rule() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let rules = dir.path().join("rules.json");
    std::fs::write(
        &rules,
        r#"{"rules": [{"name": "quiet pushes", "when": {"event": "PUSH_ARTIFACT"}, "severity": "drop"}]}"#,
    )
    .expect("writing the rules");
    let c = Contract::with(Options::default(), |_| {
        vec![("RULES_FILE", rules.display().to_string())]
    });
    let answered = c.send(c.fixture_event(PUSH)).await;
    assert_success(&answered, false, "PUSH_ARTIFACT under `quiet pushes`");
    assert_eq!(answered.body["alerts"], json!([]), "{}", answered.raw);
    assert_eq!(
        answered.body["dropped"],
        json!([{"event_type": "PUSH_ARTIFACT", "rule": "quiet pushes"}]),
        "{}",
        answered.raw
    );
    let answered = c.send(c.fixture_event(PULL)).await;
    assert_eq!(
        answered.body["dropped"],
        json!([{"event_type": "PULL_ARTIFACT", "rule": "default"}]),
        "{}",
        answered.raw
    );
    assert!(c.sink.calls().is_empty(), "dropped events send nothing");
}
