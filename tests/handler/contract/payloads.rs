//! SPEC §4 check 5 and the success answer: what is not a Harbor payload is `400` with a
//! sentence a person can act on; a payload is `200` with `alerts`, `dropped` and `dry_run`, and
//! a dry run sends nothing.

use super::{Contract, PULL, QUOTA_EXCEEDED, alert_body, assert_error, assert_success};
use crate::harness::Options;
use crate::support::event::Encoding;
use crate::support::fixtures::slack_body;
use serde_json::json;

#[tokio::test]
async fn broken_json_is_400_naming_line_and_column() {
    let c = Contract::new();
    // Line 2, column 11 is where `PUSH_ARTIFACT` starts without a quote.
    let broken = "{\n  \"type\": PUSH_ARTIFACT,\n  \"occur_at\": 1\n}";
    for encoding in [Encoding::Text, Encoding::Base64] {
        let event = c.authorized(b"").body(broken.as_bytes(), encoding);
        let answered = c.send(event).await;
        assert_error(&answered, 400, &format!("broken JSON, {encoding:?}"));
        let error = answered.error().to_lowercase();
        assert!(
            error.contains("line 2") && error.contains("column 11"),
            "the error says where the JSON breaks (line 2, column 11): {}",
            answered.raw
        );
    }
    assert!(c.sink.calls().is_empty());
}

#[tokio::test]
async fn json_that_is_not_a_harbor_payload_is_400_naming_what_is_expected() {
    let c = Contract::new();
    // Objects without the members of any payload format: the answer names them.
    for body in [r#"{"hello":1}"#, "{}"] {
        let answered = c.send(c.authorized(body)).await;
        assert_error(&answered, 400, body);
        let error = answered.error();
        assert!(
            error.to_lowercase().contains("expected") && error.contains("`type`"),
            "{body}: the error names what a payload must have: {error}"
        );
    }
    // Not an object at all: the answer says a payload is an object.
    for body in ["[1,2,3]", r#""PUSH_ARTIFACT""#, "null", "12"] {
        let answered = c.send(c.authorized(body)).await;
        assert_error(&answered, 400, body);
        assert!(
            answered.error().contains("object"),
            "{body}: the error says a payload is a JSON object: {}",
            answered.raw
        );
    }
    assert!(c.sink.calls().is_empty());
}

#[tokio::test]
async fn harbors_slack_format_is_400_asking_for_the_http_notify_type() {
    let c = Contract::new();
    let answered = c.send(c.authorized(slack_body())).await;
    assert_error(&answered, 400, "Slack body");
    let error = answered.error();
    assert!(
        error.contains("HTTP") && error.to_lowercase().contains("notify type"),
        "the error tells to set the notify type to HTTP: {error}"
    );
    assert!(c.sink.calls().is_empty());
}

#[tokio::test]
async fn a_payload_is_200_with_the_alerts_sent_the_events_dropped_and_dry_run_false() {
    let c = Contract::new();
    let answered = c.send(c.fixture_event(QUOTA_EXCEEDED)).await;
    assert_success(&answered, false, "QUOTA_EXCEED");
    assert_eq!(answered.body["dropped"], json!([]), "{}", answered.raw);
    let alerts = answered.body["alerts"].as_array().expect("a list");
    assert_eq!(alerts.len(), 1, "{}", answered.raw);
    assert_eq!(alerts[0]["event_status"], "Critical", "{}", answered.raw);
    let calls = c.sink.calls();
    assert_eq!(calls.len(), 1, "one alert handed to Flashduty");
    assert_eq!(
        alerts[0]["flashduty_request_id"],
        json!(calls[0].request_id),
        "a forwarded alert carries Flashduty's request id: {}",
        answered.raw
    );
    assert_eq!(
        alert_body(&alerts[0]),
        serde_json::to_value(&calls[0].alert).expect("an alert serialises"),
        "the answer reports exactly the alert that was sent"
    );

    let answered = c.send(c.fixture_event(PULL)).await;
    assert_success(&answered, false, "PULL_ARTIFACT");
    assert_eq!(answered.body["alerts"], json!([]), "{}", answered.raw);
    assert_eq!(
        answered.body["dropped"],
        json!([{"event_type": "PULL_ARTIFACT", "rule": "default"}]),
        "{}",
        answered.raw
    );
    assert_eq!(c.sink.calls().len(), 1, "a dropped event sends nothing");
}

#[tokio::test]
async fn a_dry_run_reports_the_alert_and_sends_nothing() {
    let dry = Options {
        dry_run: true,
        ..Options::default()
    };
    let flagged = Contract::with(dry, |_| Vec::new());
    // SPEC §3: without a push URL the function runs as a dry run.
    let no_push_url = Contract::with(Options::default(), |_| {
        vec![("FLASHDUTY_PUSH_URL", String::new())]
    });
    for (what, c) in [("DRY_RUN", &flagged), ("no push URL", &no_push_url)] {
        let answered = c.send(c.fixture_event(QUOTA_EXCEEDED)).await;
        assert_success(&answered, true, what);
        let alert = &answered.body["alerts"][0];
        assert_eq!(
            alert["event_status"], "Critical",
            "{what}: {}",
            answered.raw
        );
        assert!(
            alert.get("flashduty_request_id").is_none(),
            "{what}: nothing was forwarded, so no request id: {alert}"
        );
        let pull = c.send(c.fixture_event(PULL)).await;
        assert_success(&pull, true, what);
        assert_eq!(
            pull.body["dropped"],
            json!([{"event_type": "PULL_ARTIFACT", "rule": "default"}])
        );
        assert!(c.sink.calls().is_empty(), "{what}: a dry run sends nothing");
    }
}
