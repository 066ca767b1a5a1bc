//! SPEC §3/§4 over HTTP: the URL token (MSR 3), unauthenticated mode, and secrets never in
//! logs or answers.

use super::{
    Local, MSR3_SCAN_CRITICAL, MSR3_TAG_PUSH, QUOTA_EXCEEDED, expect_error, expect_success,
};
use crate::support::Behaviour;
use crate::support::fixtures::fixture;
use crate::support::process::{closed_port, random_hex};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_token_authenticates_senders_without_authorization() {
    let local = Local::start_with(|secrets, flashduty| {
        vec![
            ("FLASHDUTY_PUSH_URL", flashduty.push_url()),
            ("URL_TOKEN", secrets.url_token.clone()),
        ]
    })
    .await;
    let body = fixture(MSR3_TAG_PUSH);
    let json_only = [("content-type", "application/json")];
    let token = local.secrets.url_token.clone();

    let reply = local
        .function
        .post_with_query(&format!("token={token}"), body.clone(), &json_only)
        .await;
    expect_success(&reply, "MSR 3 with ?token=<token>");
    let alert = reply.single_alert();
    assert_eq!(alert["labels"]["event_type"], "PUSH_ARTIFACT", "{alert}");
    assert_eq!(local.flashduty.accepted_count(), 1);

    let reply = local
        .function
        .post_with_query(
            &format!("token={token}"),
            fixture(MSR3_SCAN_CRITICAL),
            &json_only,
        )
        .await;
    expect_success(&reply, "MSR 3 scan with ?token=<token>");
    let alert = reply.single_alert();
    assert_eq!(alert["event_status"], "Critical", "{alert}");
    assert_eq!(
        alert["labels"]["event_type"], "SCANNING_COMPLETED",
        "{alert}"
    );
    assert_eq!(alert["labels"]["vuln_critical"], "3", "{alert}");
    assert_eq!(local.flashduty.accepted_count(), 2);

    let wrong = format!("token=e2etoken{}", random_hex(16));
    let reply = local
        .function
        .post_with_query(&wrong, body.clone(), &json_only)
        .await;
    expect_error(&reply, 401, "wrong token");
    let reply = local.function.post(body.clone(), &json_only).await;
    expect_error(&reply, 401, "no token");
    let reply = local
        .function
        .post_with_query(
            &format!("token={}", &token[..token.len() - 1]),
            body,
            &json_only,
        )
        .await;
    expect_error(&reply, 401, "a prefix of the token");
    assert_eq!(
        local.flashduty.push_count(),
        2,
        "nothing sent for refused requests"
    );

    let logs = local.function.logs();
    assert!(
        !logs.contains(&token),
        "the URL token appears in the function's logs:\n{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_header_and_url_token_each_authenticate() {
    let local = Local::start_with(|secrets, flashduty| {
        vec![
            ("FLASHDUTY_PUSH_URL", flashduty.push_url()),
            ("HARBOR_AUTH_HEADER", secrets.auth_header.clone()),
            ("URL_TOKEN", secrets.url_token.clone()),
        ]
    })
    .await;
    let reply = local.send(QUOTA_EXCEEDED).await;
    expect_success(&reply, "Authorization only");
    let reply = local
        .function
        .post_with_query(
            &format!("token={}", local.secrets.url_token),
            fixture(QUOTA_EXCEEDED),
            &[("content-type", "application/json")],
        )
        .await;
    expect_success(&reply, "token only");
    let reply = local.function.post_fixture(QUOTA_EXCEEDED, None).await;
    expect_error(&reply, 401, "neither");
}

/// SPEC §3: with neither an auth header nor a URL token configured, requests are refused
/// unless `ALLOW_UNAUTHENTICATED=true`. Decision: the refusal is a `503` naming what to
/// configure, as for any configuration that cannot be used (SPEC §4), not a `401`: no
/// `Authorization` value could be right, and Harbor keeps retrying until it is fixed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_configured_requests_are_refused_by_default() {
    let local =
        Local::start_with(|_, flashduty| vec![("FLASHDUTY_PUSH_URL", flashduty.push_url())]).await;
    let reply = local.function.post_fixture(QUOTA_EXCEEDED, None).await;
    expect_error(
        &reply,
        503,
        "no auth header, no URL token, ALLOW_UNAUTHENTICATED unset",
    );
    let error = reply.error();
    assert!(
        [
            "HARBOR_AUTH_HEADER",
            "URL_TOKEN",
            "ALLOW_UNAUTHENTICATED",
            "auth-header"
        ]
        .iter()
        .any(|name| error.contains(name)),
        "name what to configure: {error}"
    );
    let reply = local
        .function
        .post_fixture(QUOTA_EXCEEDED, Some("Bearer anything"))
        .await;
    assert!(
        !reply.is_success(),
        "any Authorization is refused too: {}",
        reply.raw
    );
    local
        .flashduty
        .assert_nothing_pushed("unauthenticated and not allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_unauthenticated_accepts_requests_without_credentials() {
    let local = Local::start_with(|_, flashduty| {
        vec![
            ("FLASHDUTY_PUSH_URL", flashduty.push_url()),
            ("ALLOW_UNAUTHENTICATED", "true".to_owned()),
        ]
    })
    .await;
    let reply = local.function.post_fixture(QUOTA_EXCEEDED, None).await;
    expect_success(&reply, "ALLOW_UNAUTHENTICATED=true");
    assert_eq!(local.flashduty.accepted_count(), 1);
    drop(local);

    // It only applies when nothing is configured: a configured auth header is still required.
    let local = Local::start(&[("ALLOW_UNAUTHENTICATED", "true")]).await;
    let reply = local.function.post_fixture(QUOTA_EXCEEDED, None).await;
    expect_error(
        &reply,
        401,
        "ALLOW_UNAUTHENTICATED=true with an auth header configured",
    );
}

// ---------------------------------------------------------------------------------------------
// SPEC §3: secrets never appear in logs or answers

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_logs_or_answers() {
    let local = Local::start_with(|secrets, flashduty| {
        vec![
            ("FLASHDUTY_PUSH_URL", flashduty.push_url()),
            ("HARBOR_AUTH_HEADER", secrets.auth_header.clone()),
            ("URL_TOKEN", secrets.url_token.clone()),
        ]
    })
    .await;
    let mut replies = Vec::new();
    replies.push(("good", local.send(QUOTA_EXCEEDED).await));
    replies.push((
        "good by token",
        local
            .function
            .post_with_query(
                &format!("token={}", local.secrets.url_token),
                fixture(MSR3_TAG_PUSH),
                &[("content-type", "application/json")],
            )
            .await,
    ));
    replies.push((
        "bad auth",
        local
            .function
            .post_fixture(QUOTA_EXCEEDED, Some("Bearer e2e-wrong"))
            .await,
    ));
    replies.push(("non-JSON", local.post_authorized("{oops").await));
    local.flashduty.script([Behaviour::Reject400]);
    replies.push(("502", local.send(QUOTA_EXCEEDED).await));
    local.flashduty.script([Behaviour::ErrorBody200]);
    replies.push(("502 error body", local.send(QUOTA_EXCEEDED).await));
    local.flashduty.set_default(Behaviour::Status(500));
    replies.push(("503", local.send(QUOTA_EXCEEDED).await));
    let statuses: Vec<(&str, u16)> = replies.iter().map(|(what, r)| (*what, r.status)).collect();
    assert_eq!(
        statuses,
        vec![
            ("good", 200),
            ("good by token", 200),
            ("bad auth", 401),
            ("non-JSON", 400),
            ("502", 502),
            ("502 error body", 502),
            ("503", 503)
        ]
    );

    let unreachable = Local::start_with(|secrets, _| {
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
    let unreachable_reply = unreachable.send(QUOTA_EXCEEDED).await;
    assert_eq!(unreachable_reply.status, 503, "{}", unreachable_reply.raw);

    // Let the function flush what it logs after answering.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut leaks = Vec::new();
    for (setup, replies) in [
        (
            &local,
            replies.iter().map(|(w, r)| (*w, r)).collect::<Vec<_>>(),
        ),
        (&unreachable, vec![("unreachable", &unreachable_reply)]),
    ] {
        for (what, needle) in setup.secrets.needles() {
            for (request, reply) in &replies {
                let headers = format!("{:?}", reply.headers);
                if reply.raw.contains(&needle) || headers.contains(&needle) {
                    leaks.push(format!(
                        "{what} in the answer to `{request}`: {}",
                        reply.raw
                    ));
                }
            }
            for line in setup
                .function
                .logs()
                .lines()
                .filter(|l| l.contains(&needle))
            {
                leaks.push(format!("{what} in a log line: {line}"));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}
