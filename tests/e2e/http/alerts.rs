//! SPEC §4/§6 over HTTP: what is sent to Flashduty, and dry runs.

use super::{Local, PULL, QUOTA_EXCEEDED, expect_success, sent_body};
use crate::support::fixtures::payload_fixtures;
use crate::support::flashduty::validate_alert;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_exceeded_is_delivered_as_critical_exactly_as_reported() {
    let local = Local::start(&[]).await;
    let reply = local.send(QUOTA_EXCEEDED).await;
    expect_success(&reply, "QUOTA_EXCEED");
    assert_eq!(reply.body["dry_run"], json!(false));
    assert_eq!(reply.dropped().len(), 0, "{}", reply.raw);
    let alert = reply.single_alert();
    assert_eq!(alert["event_status"], "Critical", "{alert}");
    let request_id = alert["flashduty_request_id"]
        .as_str()
        .unwrap_or_else(|| panic!("a forwarded alert carries flashduty_request_id: {alert}"));

    local.flashduty.assert_all_valid();
    let accepted = local.flashduty.accepted();
    assert_eq!(accepted.len(), 1, "exactly one push for one event");
    assert_eq!(local.flashduty.push_count(), 1, "no retry after a success");
    assert_eq!(
        accepted[0].request_id, request_id,
        "the request id Flashduty answered"
    );
    assert_eq!(
        accepted[0].body,
        sent_body(alert),
        "the response reports exactly the body that was sent"
    );
    let content_type = accepted[0].header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );

    let labels = &alert["labels"];
    assert_eq!(labels["source"], "harbor", "{labels}");
    assert_eq!(labels["event_type"], "QUOTA_EXCEED", "{labels}");
    assert_eq!(labels["project"], "payments", "{labels}");
    assert_eq!(labels["rule"], "default", "{labels}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulls_are_dropped_by_the_default_rule() {
    let local = Local::start(&[]).await;
    let reply = local.send(PULL).await;
    expect_success(&reply, "PULL_ARTIFACT");
    assert_eq!(reply.body["alerts"], json!([]), "{}", reply.raw);
    assert_eq!(
        reply.body["dropped"],
        json!([{"event_type": "PULL_ARTIFACT", "rule": "default"}]),
        "{}",
        reply.raw
    );
    local.flashduty.assert_nothing_pushed("a dropped pull");
}

/// Default, CloudEvents structured and binary mode: one event, one alert key (SPEC §6).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_event_has_one_alert_key_in_every_format() {
    let local = Local::start(&[("DRY_RUN", "true")]).await;
    let families: [&[&str]; 2] = [
        &[
            "harbor/default_PUSH_ARTIFACT.json",
            "harbor/cloudevents_harbor.artifact.pushed.json",
            "harbor/cloudevents_binary_harbor.artifact.pushed.body.json",
        ],
        &[
            "harbor/default_QUOTA_EXCEED.json",
            "harbor/cloudevents_harbor.quota.exceeded.json",
            "harbor/default_QUOTA_WARNING.json",
            "harbor/cloudevents_harbor.quota.warned.json",
        ],
    ];
    for family in families {
        let mut keys = Vec::new();
        for rel in family {
            let reply = local.send(rel).await;
            expect_success(&reply, rel);
            let key = reply.single_alert()["alert_key"].clone();
            keys.push((*rel, key));
        }
        assert!(
            keys.windows(2).all(|w| w[0].1 == w[1].1),
            "these fixtures describe one event (or one quota alert) and need one alert key: {keys:#?}"
        );
    }
}

/// Every fixture gives a `200` whose alerts Flashduty would accept (dry run, nothing sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_converts_to_valid_alerts_in_a_dry_run() {
    let local = Local::start(&[("DRY_RUN", "true")]).await;
    let mut problems = Vec::new();
    for rel in payload_fixtures() {
        let reply = local.send(&rel).await;
        if reply.status != 200 {
            problems.push(format!("{rel}: HTTP {} {}", reply.status, reply.raw));
            continue;
        }
        expect_success(&reply, &rel);
        assert_eq!(reply.body["dry_run"], json!(true), "{rel}: {}", reply.raw);
        if reply.alerts().len() + reply.dropped().len() == 0 {
            problems.push(format!("{rel}: neither an alert nor a drop: {}", reply.raw));
        }
        for alert in reply.alerts() {
            if alert.get("flashduty_request_id").is_some() {
                problems.push(format!("{rel}: a dry-run alert was not forwarded: {alert}"));
            }
            let body = serde_json::to_vec(&sent_body(alert)).expect("alert JSON");
            if let Err(why) = validate_alert(&body) {
                problems.push(format!(
                    "{rel}: Flashduty would refuse it: {why}\n  {alert}"
                ));
            }
        }
    }
    local.flashduty.assert_nothing_pushed("dry run");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_reports_the_alert_and_sends_nothing() {
    let local = Local::start(&[("DRY_RUN", "true")]).await;
    let reply = local.send(QUOTA_EXCEEDED).await;
    expect_success(&reply, "DRY_RUN=true");
    assert_eq!(reply.body["dry_run"], json!(true), "{}", reply.raw);
    let alert = reply.single_alert();
    assert_eq!(alert["event_status"], "Critical", "{alert}");
    assert!(
        alert.get("flashduty_request_id").is_none(),
        "nothing was forwarded, so there is no Flashduty request id: {alert}"
    );
    local.flashduty.assert_nothing_pushed("DRY_RUN=true");
}

/// SPEC §3: "Without a push URL the function runs as a dry run."
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_push_url_means_dry_run() {
    let local =
        Local::start_with(|secrets, _| vec![("HARBOR_AUTH_HEADER", secrets.auth_header.clone())])
            .await;
    let reply = local.send(QUOTA_EXCEEDED).await;
    expect_success(&reply, "no FLASHDUTY_PUSH_URL");
    assert_eq!(reply.body["dry_run"], json!(true), "{}", reply.raw);
    assert_eq!(reply.single_alert()["event_status"], "Critical");
}
