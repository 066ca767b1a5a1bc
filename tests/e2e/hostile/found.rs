//! Two findings, measured through the built function (docs/RELIABILITY.md, "Found"): the 1 MiB
//! documentation envelope of ~21 600 events, and the forwarding headers on which lambda_http
//! panics before the handler runs (`tests/handler/hostile/lambda_http.rs` lists the events).

use crate::support;
use crate::support::fixtures::fixture;
use crate::support::hostile::{UNPARSEABLE_FORWARDING, big_envelope};
use crate::support::report;
use crate::support::{FlashdutyStandIn, Function, Secrets};
use serde_json::json;
use std::time::Duration;

/// The same envelope through the built function (default log level, `info`) to the stand-in,
/// sent twice as Harbor would retry it. An envelope of more than 100 events is refused with 400
/// before anything is sent: tens of thousands of alerts could never be delivered in the 2.5 s
/// budget, and every retry would resend the same first ones.
/// Checked: the answer is 2xx only if every alert was accepted; a refusal is 400 or 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_events_in_one_documentation_envelope_over_http() {
    let secrets = Secrets::random();
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let function = Function::start(&[
        ("FLASHDUTY_PUSH_URL", &flashduty.push_url()),
        ("HARBOR_AUTH_HEADER", &secrets.auth_header),
    ])
    .await;
    let (body, n) = big_envelope();
    let mut attempts = Vec::new();
    for attempt in 1..=2 {
        let before = flashduty.accepted_count();
        let reply = function
            .post(
                body.clone(),
                &[
                    ("content-type", "application/json"),
                    ("authorization", &secrets.auth_header),
                ],
            )
            .await;
        let accepted = flashduty.accepted_count() - before;
        println!(
            "documentation envelope over HTTP, attempt {attempt}: {n} events -> HTTP {} after {:?}, {accepted} alerts accepted",
            reply.status, reply.elapsed
        );
        assert!(
            [200, 400, 503].contains(&reply.status),
            "HTTP {}: {}",
            reply.status,
            reply.raw
        );
        if reply.status == 400 {
            assert!(
                reply.raw.contains("at most 100"),
                "an oversized envelope is refused before anything is sent: {}",
                reply.raw
            );
        }
        assert_eq!(
            reply.is_success(),
            accepted == n,
            "2xx if and only if every alert was accepted ({accepted} of {n})"
        );
        attempts.push(json!({
            "attempt": attempt,
            "status": reply.status,
            "time_ms": report::ms(reply.elapsed),
            "alerts_accepted": accepted,
        }));
    }
    let distinct: std::collections::HashSet<String> = flashduty
        .accepted()
        .iter()
        .map(|a| a.alert_key().to_owned())
        .collect();
    report::write(
        "hostile_envelope_http",
        &json!({
            "events_in_body": n,
            "body_bytes": body.len(),
            "attempts": attempts,
            "distinct_alerts_accepted": distinct.len(),
        }),
    );
    flashduty.assert_all_valid();
}

/// A request whose Host or X-Forwarded-Proto lambda_http cannot parse is refused without
/// taking the instance down: the next request is served. Unauthenticated, since the panic
/// comes before authentication.
///
/// With the test build (`panic = "unwind"`), lambda_runtime catches lambda_http's panic and the
/// emulator answers 500. With the release profile's `panic = "abort"` the same request aborts
/// the instance: `HARBOR_FLASHDUTY_E2E_BIN=target/release/harbor-flashduty` makes this test
/// fail until the release build unwinds or `main.rs` sanitises these headers (see
/// docs/RELIABILITY.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparseable_forwarding_headers_do_not_take_the_instance_down() {
    let secrets = Secrets::random();
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let mut function = Function::start(&[
        ("FLASHDUTY_PUSH_URL", &flashduty.push_url()),
        ("HARBOR_AUTH_HEADER", &secrets.auth_header),
    ])
    .await;
    let client = support::http_client()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client");
    let mut rows = Vec::new();
    for (name, value) in UNPARSEABLE_FORWARDING {
        let answer = client
            .post(function.url())
            .header(name, value)
            .body(fixture("harbor/default_PUSH_ARTIFACT.json"))
            .send()
            .await;
        let status = answer.as_ref().map(|r| r.status().as_u16()).ok();
        if let Ok(response) = answer {
            let headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = response.text().await.unwrap_or_default();
            support::capture::response(
                function.capture_dir(),
                "url",
                status.unwrap_or(0),
                &headers,
                &body,
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let alive = function.instances_alive();
        assert_eq!(
            alive,
            1,
            "`{name}: {value:?}` (unauthenticated) took the instance down (answer: {status:?})\nlogs:\n{}",
            function.logs()
        );
        let next = function
            .post_fixture(
                "harbor/default_PUSH_ARTIFACT.json",
                Some(&secrets.auth_header),
            )
            .await;
        next.expect_status(200, "the request after it");
        rows.push(
            json!({"header": name, "value": value, "status": status, "next_status": next.status}),
        );
    }
    report::write("hostile_forwarding", &json!({"cases": rows}));
    assert!(
        !function.logs().contains(&secrets.auth_header),
        "the auth header leaked into the logs"
    );
}
