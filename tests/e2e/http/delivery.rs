//! SPEC §4 over HTTP: delivery, retries and the time budget; nothing is lost.

use super::{HARBOR_TIMEOUT, Local, QUOTA_EXCEEDED, expect_error, expect_success};
use crate::support::Behaviour;
use crate::support::fixtures::payload_fixtures;
use crate::support::process::closed_port;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flashduty_500_is_retried() {
    let local = Local::start(&[]).await;
    local.flashduty.script([Behaviour::Status(500)]);
    let reply = local.send(QUOTA_EXCEEDED).await;
    expect_success(&reply, "500 once, then accepted");
    let received = local.flashduty.pushes();
    assert_eq!(received.len(), 2, "one retry after the 500: {received:#?}");
    let alert = reply.single_alert();
    assert_eq!(
        alert["flashduty_request_id"], received[1].request_id,
        "the request id of the attempt that was accepted"
    );
    assert!(
        reply.elapsed < HARBOR_TIMEOUT,
        "answered in {:?}",
        reply.elapsed
    );
    local.flashduty.assert_all_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flashduty_failing_with_500_is_503_within_the_budget() {
    let local = Local::start(&[]).await;
    local.flashduty.set_default(Behaviour::Status(500));
    let reply = local.send(QUOTA_EXCEEDED).await;
    expect_error(&reply, 503, "Flashduty answers 500 every time");
    assert!(
        reply.elapsed < HARBOR_TIMEOUT,
        "Harbor waits 3 s; answered in {:?}",
        reply.elapsed
    );
    let attempts = local.flashduty.push_count();
    assert!(
        attempts >= 2,
        "an immediate 5xx is retried at least once; attempts: {attempts}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_1_is_honoured() {
    let local = Local::start(&[]).await;
    local.flashduty.script([Behaviour::TooMany {
        retry_after: Some("1".to_owned()),
    }]);
    let reply = local.send(QUOTA_EXCEEDED).await;
    expect_success(&reply, "429 Retry-After: 1, then accepted");
    let received = local.flashduty.pushes();
    assert_eq!(received.len(), 2, "{received:#?}");
    let waited = received[1].at - received[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "the retry must wait for Retry-After (1 s); it came after {waited:?}"
    );
    assert!(
        reply.elapsed < HARBOR_TIMEOUT,
        "answered in {:?}",
        reply.elapsed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_past_the_budget_is_503_at_once() {
    let local = Local::start(&[]).await;
    local.flashduty.set_default(Behaviour::TooMany {
        retry_after: Some("30".to_owned()),
    });
    let reply = local.send(QUOTA_EXCEEDED).await;
    expect_error(&reply, 503, "429 Retry-After: 30");
    let received = local.flashduty.pushes();
    assert_eq!(
        received.len(),
        1,
        "no retry inside the budget: {received:#?}"
    );
    let after_429 = reply.answered_at - received[0].at;
    assert!(
        after_429 < Duration::from_secs(1),
        "answer at once and leave the retry to Harbor; answered {after_429:?} after the 429"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flashduty_400_is_502_with_its_code_and_request_id_and_no_retry() {
    let local = Local::start(&[]).await;
    local.flashduty.set_default(Behaviour::Reject400);
    let reply = local.send(QUOTA_EXCEEDED).await;
    expect_error(&reply, 502, "Flashduty answers 400 InvalidParameter");
    let received = local.flashduty.pushes();
    assert_eq!(
        received.len(),
        1,
        "a 4xx other than 429 is never retried: {received:#?}"
    );
    let error = reply.error();
    assert!(
        error.contains("InvalidParameter"),
        "name Flashduty's error code: {error}"
    );
    assert!(
        error.contains(&received[0].request_id),
        "include Flashduty's request id {}: {error}",
        received[0].request_id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flashduty_200_with_an_error_body_is_502() {
    let local = Local::start(&[]).await;
    local.flashduty.set_default(Behaviour::ErrorBody200);
    let reply = local.send(QUOTA_EXCEEDED).await;
    expect_error(&reply, 502, "HTTP 200 carrying an error object");
    let received = local.flashduty.pushes();
    assert_eq!(received.len(), 1, "{received:#?}");
    let error = reply.error();
    assert!(
        error.contains("NoLicense"),
        "name Flashduty's error code: {error}"
    );
    assert!(
        error.contains(&received[0].request_id),
        "include the request id: {error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_flashduty_is_503_within_the_budget() {
    let local = Local::start(&[]).await;
    local
        .flashduty
        .set_default(Behaviour::Hang(Duration::from_secs(10)));
    let reply = local.send(QUOTA_EXCEEDED).await;
    expect_error(&reply, 503, "Flashduty hangs for 10 s");
    assert!(
        reply.elapsed < HARBOR_TIMEOUT,
        "Harbor waits 3 s; answered in {:?}",
        reply.elapsed
    );
    assert!(local.flashduty.push_count() >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_flashduty_is_503_within_the_budget() {
    let local = Local::start_with(|secrets, _| {
        let url = format!(
            "http://127.0.0.1:{}/event/push/alert/standard?integration_key={}",
            closed_port(),
            secrets.integration_key
        );
        vec![
            ("FLASHDUTY_PUSH_URL", url),
            ("HARBOR_AUTH_HEADER", secrets.auth_header.clone()),
        ]
    })
    .await;
    let reply = local.send(QUOTA_EXCEEDED).await;
    expect_error(&reply, 503, "connection refused");
    assert!(
        reply.elapsed < HARBOR_TIMEOUT,
        "answered in {:?}",
        reply.elapsed
    );
    assert!(
        !reply.raw.contains(&local.secrets.integration_key),
        "the integration key leaked into the answer: {}",
        reply.raw
    );
}

/// Nothing is lost (SPEC §4): against a Flashduty that fails 30 % of the time, a `2xx` means
/// every alert of the request was accepted during the request (or dropped on purpose), and an
/// answer that is not `2xx` is a `502`/`503` so Harbor retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_when_flashduty_fails_at_random() {
    const SEED: u64 = 0x5EED_2026;
    let local = Local::start(&[]).await;

    // Reference pass against a healthy Flashduty: which alert keys each fixture produces.
    let mut expected = Vec::new();
    for rel in payload_fixtures() {
        let reply = local.send(&rel).await;
        expect_success(&reply, &format!("{rel} (reference pass)"));
        let keys: Vec<String> = reply
            .alerts()
            .iter()
            .map(|a| a["alert_key"].as_str().unwrap_or_default().to_owned())
            .collect();
        expected.push((rel, keys));
    }
    local.flashduty.assert_all_valid();

    local.flashduty.set_default(Behaviour::FailRandomly {
        percent: 30,
        seed: SEED,
    });
    let mut violations = Vec::new();
    let (mut delivered, mut refused) = (0, 0);
    for (rel, keys) in &expected {
        let reply = local.send(rel).await;
        // Accepted during this request: arrived after it was sent and completed before the
        // answer. (Random hangs last 10 s, so they can only complete long after the answer.)
        let accepted: Vec<_> = local
            .flashduty
            .accepted()
            .into_iter()
            .filter(|a| a.received_at >= reply.sent_at && a.completed_at <= reply.answered_at)
            .collect();
        let all_accepted = keys
            .iter()
            .all(|key| accepted.iter().any(|a| a.alert_key() == key));
        if reply.is_success() {
            delivered += 1;
            if !all_accepted {
                violations.push(format!(
                    "{rel}: HTTP {} but not every alert {keys:?} was accepted during the request",
                    reply.status
                ));
            }
            for alert in reply.alerts() {
                let id = alert["flashduty_request_id"].as_str().unwrap_or_default();
                if !accepted.iter().any(|a| a.request_id == id) {
                    violations.push(format!(
                        "{rel}: alert reported with flashduty_request_id {id:?}, which the stand-in did not accept during the request"
                    ));
                }
            }
        } else {
            refused += 1;
            if ![502, 503].contains(&reply.status) {
                violations.push(format!(
                    "{rel}: a failed delivery must be 502 or 503, got {} {}",
                    reply.status, reply.raw
                ));
            }
            if keys.is_empty() || all_accepted {
                violations.push(format!(
                    "{rel}: HTTP {} although {} ({})",
                    reply.status,
                    if keys.is_empty() {
                        "nothing had to be sent"
                    } else {
                        "every alert was accepted"
                    },
                    reply.raw
                ));
            }
        }
        if reply.elapsed >= HARBOR_TIMEOUT {
            violations.push(format!("{rel}: answered after {:?}", reply.elapsed));
        }
    }
    assert!(
        violations.is_empty(),
        "seed {SEED:#x}, {delivered} delivered, {refused} refused:\n{}",
        violations.join("\n")
    );
    let injected = local
        .flashduty
        .pushes()
        .iter()
        .filter(|push| push.behaviour != Behaviour::Accept)
        .count();
    assert!(
        injected > 0,
        "the stand-in injected no failure (seed {SEED:#x}): the test proved nothing"
    );
    local.flashduty.assert_all_valid();
}
