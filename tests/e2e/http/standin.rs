//! The harness itself: the Flashduty stand-in validates like the real endpoint, records, and
//! fails on command.

use crate::support;
use crate::support::{Behaviour, FlashdutyStandIn};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

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
