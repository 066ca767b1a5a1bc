//! Delivery and configuration failures (SPEC §4): `502` when Flashduty refused an alert (with
//! its error code and request id), `503` when it could not be reached or the configuration
//! cannot be loaded (naming the parameter). Nothing is lost: a request with a failed alert is
//! never `2xx`, and no later alert of it is sent after the failure.

use super::{Contract, QUOTA_EXCEEDED, assert_error, assert_success};
use crate::harness::{Answer, Options, REFUSED_CODE};
use serde_json::json;

/// A Harbor 1.9 documentation envelope (SPEC §5) carrying `n` pushes: `n` alerts.
fn pushes(n: usize) -> String {
    let events: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"project":"p","repo_name":"p/r{i}","tag":"t{i}"}}"#))
        .collect();
    format!(
        r#"{{"event_type":"pushImage","events":[{}]}}"#,
        events.join(",")
    )
}

#[tokio::test]
async fn a_refused_delivery_is_502_with_flashdutys_code_and_request_id() {
    let c = Contract::new();
    c.sink.set_default(Answer::Refuse);
    let answered = c.send(c.fixture_event(QUOTA_EXCEEDED)).await;
    assert_error(&answered, 502, "Flashduty refused the alert");
    let calls = c.sink.calls();
    assert_eq!(calls.len(), 1, "a refusal is final");
    let request_id = calls[0].request_id.as_deref().expect("a refusal has an id");
    let error = answered.error();
    assert!(
        error.contains(REFUSED_CODE) && error.contains(request_id),
        "the error carries Flashduty's code {REFUSED_CODE} and request id {request_id}: {error}"
    );
}

#[tokio::test]
async fn an_unavailable_flashduty_is_503() {
    let c = Contract::new();
    c.sink.set_default(Answer::Unavailable);
    let answered = c.send(c.fixture_event(QUOTA_EXCEEDED)).await;
    assert_error(&answered, 503, "Flashduty unavailable");
    assert_eq!(c.sink.calls().len(), 1);
}

#[tokio::test]
async fn a_configuration_error_is_503_naming_the_parameter() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let invalid_rules = dir.path().join("rules.json");
    std::fs::write(
        &invalid_rules,
        r#"{"rules": [{"name": "broken", "when": {"event": "PUSH_ARTIFACT"}, "severity": "Severe"}]}"#,
    )
    .expect("writing the rules");
    let missing_rules = dir.path().join("missing.json");
    /// What is wrong, the variables that make it so, the names the error must give.
    type Case<'a> = (&'a str, Vec<(&'static str, String)>, &'a [&'a str]);
    let cases: Vec<Case> = vec![
        (
            "a plain-http push URL to a remote host",
            vec![(
                "FLASHDUTY_PUSH_URL",
                "http://api.flashcat.cloud/event/push/alert/standard?integration_key=k".to_owned(),
            )],
            &["FLASHDUTY_PUSH_URL"],
        ),
        (
            "a push URL that is not a URL",
            vec![("FLASHDUTY_PUSH_URL", "flashduty".to_owned())],
            &["FLASHDUTY_PUSH_URL"],
        ),
        (
            "no auth header and no URL token",
            vec![
                ("HARBOR_AUTH_HEADER", String::new()),
                ("URL_TOKEN", String::new()),
            ],
            &["HARBOR_AUTH_HEADER", "URL_TOKEN"],
        ),
        (
            "a rules file that does not exist",
            vec![("RULES_FILE", missing_rules.display().to_string())],
            &["RULES_FILE"],
        ),
        (
            "invalid rules",
            vec![("RULES_FILE", invalid_rules.display().to_string())],
            &["RULES_FILE"],
        ),
    ];
    for (what, vars, names) in cases {
        let c = Contract::with(Options::default(), |_| vars);
        let answered = c.send(c.fixture_event(QUOTA_EXCEEDED)).await;
        assert_error(&answered, 503, what);
        for name in names {
            assert!(
                answered.error().contains(name),
                "{what}: the error names {name}: {}",
                answered.raw
            );
        }
        assert!(c.sink.calls().is_empty(), "{what}: nothing is sent");
    }
}

/// After an alert fails, the alerts after it in the same request are not sent (they would be
/// sent again when Harbor retries), and the answer is not `2xx`.
#[tokio::test]
async fn no_later_alert_is_sent_after_a_failure_and_the_answer_is_never_2xx() {
    const N: usize = 4;
    let all_accepted = Contract::new();
    let answered = all_accepted.send(all_accepted.authorized(pushes(N))).await;
    assert_success(&answered, false, "every alert accepted");
    let ids: Vec<_> = answered.body["alerts"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|a| a["flashduty_request_id"].clone())
        .collect();
    let expected: Vec<_> = (0..N).map(|n| json!(format!("sink-{n}"))).collect();
    assert_eq!(ids, expected, "every alert, in order, with its request id");

    for failure in [Answer::Refuse, Answer::Unavailable] {
        for failing in 0..N {
            let c = Contract::new();
            c.sink.script(
                std::iter::repeat_n(Answer::Accept, failing).chain(std::iter::once(failure)),
            );
            let answered = c.send(c.authorized(pushes(N))).await;
            let context = format!("alert {} of {N} {failure:?}", failing + 1);
            let status = if failure == Answer::Refuse { 502 } else { 503 };
            assert_error(&answered, status, &context);
            let calls = c.sink.calls();
            assert_eq!(
                calls.len(),
                failing + 1,
                "{context}: the alerts before the failure and the failed one are handed over, none after"
            );
            assert!(
                calls[..failing]
                    .iter()
                    .all(|call| call.answer == Answer::Accept),
                "{context}"
            );
        }
    }
}
