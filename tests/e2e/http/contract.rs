//! SPEC §4 over HTTP: methods, the empty test request, authentication, size, parsing.

use super::{Local, ONE_MIB, QUOTA_EXCEEDED, expect_error, expect_success, padded_fixture};
use crate::support::fixtures::slack_body;
use crate::support::process::random_hex;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_methods_are_405_json() {
    let local = Local::start(&[]).await;
    for method in ["GET", "PUT", "DELETE", "PATCH"] {
        let auth = [(
            "authorization".to_owned(),
            local.secrets.auth_header.clone(),
        )];
        let reply = local
            .function
            .send(method, None, Vec::new(), auth.to_vec())
            .await;
        expect_error(&reply, 405, &format!("{method} with Authorization"));
    }
    let reply = local
        .function
        .send("GET", None, Vec::new(), Vec::new())
        .await;
    expect_error(
        &reply,
        405,
        "GET without Authorization (the method is checked first)",
    );
    local.flashduty.assert_nothing_pushed("other methods");
}

/// Harbor 1.9-2.2's *Test Endpoint* button: an empty POST without Authorization.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_post_is_the_test_endpoint_and_succeeds() {
    let local = Local::start(&[]).await;
    let reply = local
        .function
        .post(
            Vec::new(),
            &[
                ("content-type", "application/json"),
                ("user-agent", "Go-http-client/1.1"),
            ],
        )
        .await;
    expect_success(&reply, "empty POST");
    assert_eq!(reply.body["alerts"], json!([]), "{}", reply.raw);
    assert_eq!(reply.body["dropped"], json!([]), "{}", reply.raw);
    assert_eq!(
        reply.body["dry_run"],
        json!(false),
        "a push URL is configured: {}",
        reply.raw
    );
    local.flashduty.assert_nothing_pushed("empty POST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_wrong_authorization_is_401() {
    let local = Local::start(&[]).await;
    let secret = &local.secrets.auth_header;
    let without_scheme = secret.trim_start_matches("Bearer ").to_owned();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("wrong", Some(format!("Bearer e2e-auth-{}", random_hex(16)))),
        ("without its scheme", Some(without_scheme)),
        ("with a suffix", Some(format!("{secret}0"))),
        (
            "a prefix of it",
            Some(secret[..secret.len() - 1].to_owned()),
        ),
        (
            "lowercase scheme",
            Some(secret.replacen("Bearer", "bearer", 1)),
        ),
        ("empty", Some(String::new())),
    ];
    for (what, authorization) in cases {
        let reply = local
            .function
            .post_fixture(QUOTA_EXCEEDED, authorization.as_deref())
            .await;
        expect_error(&reply, 401, &format!("Authorization {what}"));
    }
    local
        .flashduty
        .assert_nothing_pushed("unauthorized requests");

    let reply = local.send(QUOTA_EXCEEDED).await;
    expect_success(&reply, "the right Authorization");
    assert_eq!(local.flashduty.accepted_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_over_one_mib_is_413_after_authentication() {
    let local = Local::start(&[]).await;
    let too_big = padded_fixture(QUOTA_EXCEEDED, ONE_MIB + 1);

    let reply = local.post_authorized(too_big.clone()).await;
    expect_error(&reply, 413, "1 MiB + 1 byte");

    let reply = local
        .function
        .post(too_big, &[("content-type", "application/json")])
        .await;
    expect_error(
        &reply,
        401,
        "too big and unauthenticated: authentication is checked first",
    );
    local.flashduty.assert_nothing_pushed("oversized bodies");

    let reply = local
        .post_authorized(padded_fixture(QUOTA_EXCEEDED, ONE_MIB))
        .await;
    expect_success(&reply, "exactly 1 MiB is not too large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_json_is_400_naming_line_and_column() {
    let local = Local::start(&[]).await;
    // Line 2, column 11 is where `PUSH_ARTIFACT` starts without a quote.
    let reply = local
        .post_authorized("{\n  \"type\": PUSH_ARTIFACT,\n  \"occur_at\": 1\n}")
        .await;
    expect_error(&reply, 400, "non-JSON body");
    let error = reply.error().to_lowercase();
    assert!(
        error.contains("line 2") && error.contains("column 11"),
        "the error must say where the JSON breaks (line 2, column 11): {}",
        reply.error()
    );
    local.flashduty.assert_nothing_pushed("non-JSON body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_that_is_not_a_harbor_payload_is_400() {
    let local = Local::start(&[]).await;
    for body in [
        r#"{"hello":1}"#,
        "[1,2,3]",
        r#""PUSH_ARTIFACT""#,
        "null",
        "{}",
    ] {
        let reply = local.post_authorized(body).await;
        expect_error(&reply, 400, &format!("body {body}"));
    }
    local.flashduty.assert_nothing_pushed("non-Harbor JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_format_is_400_asking_for_the_http_notify_type() {
    let local = Local::start(&[]).await;
    let reply = local.post_authorized(slack_body()).await;
    expect_error(&reply, 400, "Slack body");
    let error = reply.error();
    assert!(
        error.contains("HTTP") && error.to_lowercase().contains("notify type"),
        "the error must tell to set the notify type to HTTP: {error}"
    );
    local.flashduty.assert_nothing_pushed("Slack body");
}
