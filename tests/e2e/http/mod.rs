//! End-to-end tests of the function's HTTP contract in local mode (SPEC §3, §4, §6).
//!
//! Each test runs the built `harbor-flashduty` binary behind its local Function URL
//! (`tests/support/function.rs`) and points it at an in-process Flashduty stand-in
//! (`tests/support/flashduty.rs`) through `FLASHDUTY_PUSH_URL`. Requests are sent the way Harbor
//! sends them (its content types, `Go-http-client/1.1`, the configured `Authorization`).
//!
//! Run with the venv tools on PATH: `make e2e`, or
//! `PATH="$PWD/.venv/bin:$PATH" cargo nextest run --test e2e_http`.

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::fixtures::{fixture, payload_fixtures, slack_body};
use support::flashduty::validate_alert;
use support::process::{closed_port, random_hex};
use support::{Behaviour, FlashdutyStandIn, Function, Reply, Secrets};

const QUOTA_EXCEEDED: &str = "harbor/default_QUOTA_EXCEED.json";
const PULL: &str = "harbor/default_PULL_ARTIFACT.json";
const MSR3_TAG_PUSH: &str = "msr3/msr3_TAG_PUSH.json";
const MSR3_SCAN_CRITICAL: &str = "msr3/msr3_SCAN_COMPLETED_critical.json";
/// Harbor waits 3 s for an answer (SPEC §4; the function's own budget is 2.5 s).
const HARBOR_TIMEOUT: Duration = Duration::from_secs(3);
const ONE_MIB: usize = 1024 * 1024;

/// The function in local mode in front of a fresh Flashduty stand-in.
struct Local {
    secrets: Secrets,
    flashduty: FlashdutyStandIn,
    function: Function,
}

impl Local {
    /// Local mode with the stand-in's push URL and an auth header, plus `extra` variables.
    async fn start(extra: &[(&'static str, &str)]) -> Local {
        Local::start_with(|secrets, flashduty| {
            let mut env = vec![
                ("FLASHDUTY_PUSH_URL", flashduty.push_url()),
                ("HARBOR_AUTH_HEADER", secrets.auth_header.clone()),
            ];
            env.extend(
                extra
                    .iter()
                    .map(|(name, value)| (*name, (*value).to_owned())),
            );
            env
        })
        .await
    }

    /// Local mode with exactly the variables `env` returns (beyond the fixed AWS ones).
    async fn start_with(
        env: impl FnOnce(&Secrets, &FlashdutyStandIn) -> Vec<(&'static str, String)>,
    ) -> Local {
        let secrets = Secrets::random();
        let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
        let env = env(&secrets, &flashduty);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let function = Function::start(&env).await;
        Local {
            secrets,
            flashduty,
            function,
        }
    }

    /// Harbor's request for a fixture, with the configured `Authorization`.
    async fn send(&self, rel: &str) -> Reply {
        self.function
            .post_fixture(rel, Some(&self.secrets.auth_header))
            .await
    }

    /// A JSON body with the configured `Authorization` (and nothing Harbor-specific).
    async fn post_authorized(&self, body: impl Into<Vec<u8>>) -> Reply {
        self.function
            .post(
                body,
                &[
                    ("content-type", "application/json"),
                    ("authorization", &self.secrets.auth_header),
                ],
            )
            .await
    }
}

/// Asserts a success answer: `200`, JSON, the three fields of SPEC §4.
fn expect_success(reply: &Reply, context: &str) {
    reply.expect_status(200, context).expect_json(context);
    assert!(
        reply.body["dry_run"].is_boolean(),
        "{context}: `dry_run` must be a boolean: {}",
        reply.raw
    );
    reply.alerts();
    reply.dropped();
}

/// Asserts an error answer with this status: JSON `{"error": "<sentence>"}`.
fn expect_error(reply: &Reply, status: u16, context: &str) {
    reply.expect_status(status, context).expect_json(context);
    assert!(
        !reply.error().trim().is_empty(),
        "{context}: the error sentence is empty: {}",
        reply.raw
    );
}

/// A fixture padded with trailing whitespace (still valid JSON) to exactly `len` bytes.
fn padded_fixture(rel: &str, len: usize) -> Vec<u8> {
    let mut body = fixture(rel);
    while body.last().is_some_and(u8::is_ascii_whitespace) {
        body.pop();
    }
    assert!(
        body.len() <= len,
        "{rel} is already longer than {len} bytes"
    );
    body.resize(len, b' ');
    body
}

/// The alert as the function reports it, without the field only the response carries.
fn sent_body(alert: &Value) -> Value {
    let mut body = alert.clone();
    if let Some(object) = body.as_object_mut() {
        object.remove("flashduty_request_id");
    }
    body
}

// ---------------------------------------------------------------------------------------------
// The harness itself

/// The stand-in validates like the real endpoint, records, and fails on command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standin_self_check() {
    let flashduty = FlashdutyStandIn::start().await;
    let http = support::http_client()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("HTTP client");
    let push_url = flashduty.push_url();
    let good = json!({
        "event_status": "Critical",
        "alert_key": "harbor:e2e:1",
        "title_rule": "Harbor: quota exceeded in payments",
        "description": "adding 812.4 MiB",
        "labels": {"source": "harbor", "_x9": "v", "project": "payments"}
    });

    let (status, body) = post_json(&http, "POST", &push_url, "application/json", &good).await;
    assert_eq!(status, 200, "a valid alert is accepted: {body}");
    let request_id = body["request_id"]
        .as_str()
        .expect("request_id in a success answer");
    assert!(
        request_id.len() == 32 && request_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "request_id is 32 hex characters: {request_id}"
    );
    assert_eq!(body["data"]["alert_key"], "harbor:e2e:1");
    let accepted = flashduty.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].body, good);
    assert_eq!(accepted[0].request_id, request_id);
    assert_eq!(accepted[0].header("content-type"), Some("application/json"));

    // Limits are inclusive.
    let at_limits = json!({
        "event_status": "Ok",
        "alert_key": "k".repeat(255),
        "title_rule": "t".repeat(512),
        "description": "d".repeat(2048),
        "labels": (0..50)
            .map(|i| (format!("{}{i:03}", "k".repeat(125)), Value::from("v".repeat(2048))))
            .collect::<serde_json::Map<_, _>>()
    });
    let (status, body) = post_json(&http, "POST", &push_url, "application/json", &at_limits).await;
    assert_eq!(
        status, 200,
        "an alert exactly at every limit is accepted: {body}"
    );

    for case in bad_requests(&flashduty, &good) {
        let what = case.what;
        let (status, body) =
            post_json(&http, case.method, &case.url, case.content_type, &case.body).await;
        assert_eq!(status, 400, "{what}: expected 400, got {status} {body}");
        assert_eq!(body["error"]["code"], case.code, "{what}: {body}");
        assert!(
            body["request_id"].is_string(),
            "{what}: no request_id: {body}"
        );
        assert!(
            body.get("data").is_none(),
            "{what}: no data in an error: {body}"
        );
    }
    let (status, body) = post_json(
        &http,
        "POST",
        &format!("{}/event/push/alert/other", flashduty.base_url()),
        "application/json",
        &good,
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("RouteNotFound"))
    );
    let (status, body) = post_json(
        &http,
        "POST",
        &flashduty.push_url_with_key("0000"),
        "application/json",
        &good,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"], "integration_key is not a valid one",
        "{body}"
    );
    assert_eq!(
        flashduty.accepted_count(),
        2,
        "refused requests are not accepted"
    );
    let received = flashduty.received();
    assert!(received.iter().skip(2).all(|r| r.invalid.is_some()));

    check_scripted_behaviours(&flashduty, &http, &good).await;
    check_random_failures_replay(&http, &good).await;
}

/// A request the stand-in must refuse with `400` and this error code.
struct BadRequest {
    what: &'static str,
    method: &'static str,
    url: String,
    content_type: &'static str,
    body: Value,
    code: &'static str,
}

impl BadRequest {
    /// A well-formed POST whose alert body is wrong: `InvalidParameter`.
    fn alert(what: &'static str, url: &str, body: Value) -> BadRequest {
        BadRequest {
            what,
            method: "POST",
            url: url.to_owned(),
            content_type: "application/json",
            body,
            code: "InvalidParameter",
        }
    }
}

fn bad_requests(flashduty: &FlashdutyStandIn, good: &Value) -> Vec<BadRequest> {
    let url = flashduty.push_url();
    let with = |field: &str, value: Value| {
        let mut alert = good.clone();
        alert[field] = value;
        alert
    };
    let without = |field: &str| {
        let mut alert = good.clone();
        alert.as_object_mut().expect("object").remove(field);
        alert
    };
    let many_labels: serde_json::Map<String, Value> = (0..51)
        .map(|i| (format!("l{i}"), Value::from("v")))
        .collect();
    let bad_alerts = [
        ("array body", json!([good])),
        ("lowercase status", with("event_status", json!("critical"))),
        ("unknown status", with("event_status", json!("Error"))),
        ("no status", without("event_status")),
        ("no title", without("title_rule")),
        ("empty title", with("title_rule", json!(""))),
        ("long title", with("title_rule", json!("t".repeat(513)))),
        ("[TPL] title", with("title_rule", json!("[TPL]${x}"))),
        ("no alert_key", without("alert_key")),
        ("long alert_key", with("alert_key", json!("k".repeat(256)))),
        (
            "long description",
            with("description", json!("d".repeat(2049))),
        ),
        ("numeric description", with("description", json!(1))),
        ("unknown field", with("images", json!([]))),
        ("event_time", with("event_time", json!(1))),
        ("labels not an object", with("labels", json!(["a"]))),
        ("label key with dash", with("labels", json!({"a-b": "v"}))),
        ("label key digit first", with("labels", json!({"1a": "v"}))),
        (
            "long label key",
            with("labels", json!({"k".repeat(129): "v"})),
        ),
        ("numeric label value", with("labels", json!({"a": 1}))),
        (
            "long label value",
            with("labels", json!({"a": "v".repeat(2049)})),
        ),
        ("51 labels", with("labels", Value::Object(many_labels))),
    ];
    let mut cases: Vec<BadRequest> = bad_alerts
        .into_iter()
        .map(|(what, body)| BadRequest::alert(what, &url, body))
        .collect();
    for method in ["GET", "PUT"] {
        cases.push(BadRequest {
            method,
            code: "MethodNotAllowed",
            ..BadRequest::alert(method, &url, good.clone())
        });
    }
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        cases.push(BadRequest {
            content_type,
            code: "InvalidContentType",
            ..BadRequest::alert(content_type, &url, good.clone())
        });
    }
    let keyless = format!("{}{}", flashduty.base_url(), support::flashduty::PUSH_PATH);
    cases.push(BadRequest::alert(
        "no integration_key",
        &keyless,
        good.clone(),
    ));
    cases
}

async fn check_scripted_behaviours(
    flashduty: &FlashdutyStandIn,
    http: &reqwest::Client,
    good: &Value,
) {
    let url = flashduty.push_url();
    flashduty.script([
        Behaviour::Status(500),
        Behaviour::TooMany {
            retry_after: Some("7".to_owned()),
        },
        Behaviour::Reject400,
        Behaviour::ErrorBody200,
        Behaviour::Hang(Duration::from_millis(300)),
    ]);
    let send = || {
        http.post(&url)
            .header("content-type", "application/json")
            .body(good.to_string())
    };

    let response = send().send().await.expect("500");
    assert_eq!(response.status().as_u16(), 500);
    let body: Value = response.json_body().await;
    assert_eq!(body["error"]["code"], "InternalError");

    let response = send().send().await.expect("429");
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    let body: Value = response.json_body().await;
    assert_eq!(body["error"]["code"], "RequestTooFrequently");

    let response = send().send().await.expect("400");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json_body().await;
    assert_eq!(body["error"]["code"], "InvalidParameter");

    let response = send().send().await.expect("200 with error");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json_body().await;
    assert!(
        body["error"]["code"].is_string() && body.get("data").is_none(),
        "{body}"
    );

    let before = flashduty.accepted_count();
    let started = Instant::now();
    let response = send().send().await.expect("hang");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "Hang delays the answer"
    );
    assert_eq!(
        flashduty.accepted_count(),
        before + 1,
        "a completed hang is accepted"
    );

    // The script is used up: the default (Accept) applies again.
    let response = send().send().await.expect("accept");
    assert_eq!(response.status().as_u16(), 200);

    // A hang the caller gives up on is not recorded as accepted.
    flashduty.script([Behaviour::Hang(Duration::from_millis(800))]);
    let before = flashduty.accepted_count();
    let gave_up = send().timeout(Duration::from_millis(100)).send().await;
    assert!(gave_up.is_err(), "the client timed out");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let late: Vec<_> = flashduty.accepted().into_iter().skip(before).collect();
    assert!(
        late.is_empty(),
        "a hang whose caller went away must not count as accepted: {late:?}"
    );
}

/// `FailRandomly` replays from its seed, never fails at 0 %, always fails at 100 %.
async fn check_random_failures_replay(http: &reqwest::Client, good: &Value) {
    async fn outcomes(
        http: &reqwest::Client,
        good: &Value,
        percent: u8,
        seed: u64,
    ) -> Vec<Behaviour> {
        let flashduty = FlashdutyStandIn::start().await;
        flashduty.set_default(Behaviour::FailRandomly { percent, seed });
        for _ in 0..20 {
            // Hangs are cut short by the client timeout; the behaviour is recorded anyway.
            let _ = http
                .post(flashduty.push_url())
                .header("content-type", "application/json")
                .body(good.to_string())
                .timeout(Duration::from_secs(1))
                .send()
                .await;
        }
        flashduty
            .received()
            .into_iter()
            .map(|r| r.behaviour)
            .collect()
    }
    let first = outcomes(http, good, 50, 42).await;
    let again = outcomes(http, good, 50, 42).await;
    assert_eq!(first, again, "the same seed gives the same failures");
    let failures = first.iter().filter(|b| **b != Behaviour::Accept).count();
    assert!(
        (3..=17).contains(&failures),
        "about half fail at 50 %: {first:?}"
    );
    let never = outcomes(http, good, 0, 42).await;
    assert!(never.iter().all(|b| *b == Behaviour::Accept), "{never:?}");
    let always = outcomes(http, good, 100, 42).await;
    assert!(always.iter().all(|b| *b != Behaviour::Accept), "{always:?}");
}

async fn post_json(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    content_type: &str,
    body: &Value,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let response = http
        .request(method, url)
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .expect("the stand-in answers");
    let status = response.status().as_u16();
    (status, response.json_body().await)
}

trait JsonBody {
    async fn json_body(self) -> Value;
}

impl JsonBody for reqwest::Response {
    async fn json_body(self) -> Value {
        let bytes = self.bytes().await.expect("reading the body");
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
    }
}

// ---------------------------------------------------------------------------------------------
// SPEC §4: methods, the empty test request, authentication, size, parsing

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

// ---------------------------------------------------------------------------------------------
// SPEC §4/§6: what is sent to Flashduty

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

// ---------------------------------------------------------------------------------------------
// SPEC §4: delivery, retries and the time budget

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

// ---------------------------------------------------------------------------------------------
// SPEC §3/§4: URL token (MSR 3) and unauthenticated mode

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
