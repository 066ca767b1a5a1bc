//! End-to-end tests through `cargo lambda invoke` with Function URL events (payload format 2.0,
//! built by `tests/support/event.rs`), as a real Function URL delivers them: once with the body as text and
//! once base64-encoded (`isBase64Encoded: true`), which the emulator's URL never produces for a
//! JSON body but AWS may (SPEC §4: "the Function URL may hand it over base64-encoded").
//!
//! Run with the venv tools on PATH: `make e2e`, or
//! `PATH="$PWD/.venv/bin:$PATH" cargo nextest run --test e2e -E 'test(/^invoke::/)'`.

use crate::support::event::{Encoding, FunctionUrlEvent};
use crate::support::fixtures::fixture;
use crate::support::{FlashdutyStandIn, Function, Secrets};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

const QUOTA_EXCEEDED: &str = "harbor/default_QUOTA_EXCEED.json";
const MSR3_TAG_PUSH: &str = "msr3/msr3_TAG_PUSH.json";

/// A Function URL request event (payload format 2.0) as AWS builds it for a Harbor POST: the
/// headers Harbor's jobservice sends, plus `headers` and the query `query`.
fn function_url_event(
    method: &str,
    body: &[u8],
    encoding: Encoding,
    headers: &[(&str, &str)],
    query: &[(&str, &str)],
) -> Value {
    FunctionUrlEvent::new(method)
        .header("user-agent", "Go-http-client/1.1")
        .header("accept-encoding", "gzip")
        .headers(headers.iter().copied())
        .query_pairs(query.iter().copied())
        .body(body, encoding)
        .to_json()
}

/// The status and the JSON body of the function's response to an invoke.
fn status_and_body(response: &Value) -> (u64, Value) {
    let status = response["statusCode"]
        .as_u64()
        .unwrap_or_else(|| panic!("no statusCode in the invoke response: {response}"));
    let text = response["body"].as_str().unwrap_or_default();
    let bytes = if response["isBase64Encoded"] == json!(true) {
        BASE64.decode(text).expect("base64 response body")
    } else {
        text.as_bytes().to_vec()
    };
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("the response body is not JSON ({e}): {response}"));
    let content_type = response["headers"]["content-type"]
        .as_str()
        .or_else(|| response["headers"]["Content-Type"].as_str())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "Content-Type must be application/json: {response}"
    );
    (status, body)
}

async fn start(secrets: &Secrets, flashduty: &FlashdutyStandIn) -> Function {
    Function::start(&[
        ("FLASHDUTY_PUSH_URL", &flashduty.push_url()),
        ("HARBOR_AUTH_HEADER", &secrets.auth_header),
        ("URL_TOKEN", &secrets.url_token),
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_url_events_with_text_and_base64_bodies_are_delivered() {
    let secrets = Secrets::random();
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let function = start(&secrets, &flashduty).await;
    let headers = [
        ("content-type", "application/json"),
        ("authorization", secrets.auth_header.as_str()),
    ];
    let body = fixture(QUOTA_EXCEEDED);

    let mut keys = Vec::new();
    for encoding in [Encoding::Text, Encoding::Base64] {
        let event = function_url_event("POST", &body, encoding, &headers, &[]);
        let (status, answer) = status_and_body(&function.invoke(&event).await);
        assert_eq!(status, 200, "{encoding:?} body: {answer}");
        let alerts = answer["alerts"]
            .as_array()
            .expect("alerts in a success answer");
        assert_eq!(alerts.len(), 1, "{encoding:?} body: {answer}");
        assert_eq!(
            alerts[0]["event_status"], "Critical",
            "{encoding:?}: {answer}"
        );
        assert!(alerts[0]["flashduty_request_id"].is_string(), "{answer}");
        keys.push(alerts[0]["alert_key"].clone());
    }
    assert_eq!(keys[0], keys[1], "the encoding does not change the alert");
    assert_eq!(flashduty.accepted_count(), 2);
    flashduty.assert_all_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base64_msr3_event_authenticates_by_url_token() {
    let secrets = Secrets::random();
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let function = start(&secrets, &flashduty).await;
    let headers = [("content-type", "application/json")];
    let body = fixture(MSR3_TAG_PUSH);

    let query = [("token", secrets.url_token.as_str())];
    let event = function_url_event("POST", &body, Encoding::Base64, &headers, &query);
    let (status, answer) = status_and_body(&function.invoke(&event).await);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["alerts"][0]["labels"]["event_type"], "PUSH_ARTIFACT",
        "{answer}"
    );

    let event = function_url_event("POST", &body, Encoding::Base64, &headers, &[]);
    let (status, answer) = status_and_body(&function.invoke(&event).await);
    assert_eq!(status, 401, "no token: {answer}");
    assert_eq!(flashduty.accepted_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoked_get_is_405() {
    let secrets = Secrets::random();
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let function = start(&secrets, &flashduty).await;
    let event = function_url_event("GET", b"", Encoding::Text, &[], &[]);
    let (status, answer) = status_and_body(&function.invoke(&event).await);
    assert_eq!(status, 405, "{answer}");
    assert!(answer["error"].is_string(), "{answer}");
    flashduty.assert_nothing_pushed("GET");
}
