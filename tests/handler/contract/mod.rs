//! SPEC section 4, the HTTP contract, against the generic `Handler` in-process: configuration
//! from `LocalSource` behind a `ConfigCache`, and a sink that records what it is handed and can
//! be told to refuse (Flashduty's 4xx, so `502`) or to be unavailable (`503`). Every request is
//! a Function URL event (`support::event`) turned into a `lambda_http::Request` as the runtime
//! does, and every answer must be JSON with `Content-Type: application/json`.
//!
//! * [`access`]: `405` for other methods; the empty Test Endpoint `POST`; `401` for a missing or
//!   wrong `Authorization` or `?token=`, before the body is looked at; `413` over 1 MiB, after
//!   authentication.
//! * [`payloads`]: `400` for broken JSON (line and column), a non-Harbor body (what is
//!   expected), Harbor's Slack format (set the notify type to HTTP); `200` with `alerts`,
//!   `dropped` and `dry_run`; a dry run sends nothing.
//! * [`report`]: the dry-run report's JSON shape for every fixture of the core table, and for
//!   a user rule's drop.
//! * [`delivery`]: a refused delivery is `502` with Flashduty's code and request id, an
//!   unavailable Flashduty `503`, a configuration error `503` naming the parameter; after a
//!   failure no later event is sent, and a request with a failure is never `2xx`.

mod access;
mod delivery;
mod payloads;
mod report;

use crate::harness::{Answered, InProcess, Options, Recorder, handler_with_options};
use crate::support::event::{Encoding, FunctionUrlEvent};
use crate::support::fixtures::harbor_request;
use crate::support::process::random_hex;
use serde_json::Value;
use std::sync::Arc;

const QUOTA_EXCEEDED: &str = "harbor/default_QUOTA_EXCEED.json";
const PULL: &str = "harbor/default_PULL_ARTIFACT.json";
const PUSH: &str = "harbor/default_PUSH_ARTIFACT.json";
const MSR3_TAG_PUSH: &str = "msr3/msr3_TAG_PUSH.json";

/// The random secrets of one handler.
struct Keys {
    auth: String,
    token: String,
    integration_key: String,
}

/// A handler in-process, its sink, and the credentials it is configured with.
struct Contract {
    handler: InProcess,
    sink: Arc<Recorder>,
    keys: Keys,
}

impl Contract {
    /// A push URL, an auth header and a URL token, all random.
    fn new() -> Contract {
        Contract::with(Options::default(), |_| Vec::new())
    }

    /// Like [`Contract::new`] with `options`, and the variables `extra` returns on top: a
    /// later value of the same name wins, and an empty one means "not set" (`LocalSource`).
    fn with(
        options: Options,
        extra: impl FnOnce(&Keys) -> Vec<(&'static str, String)>,
    ) -> Contract {
        let keys = Keys {
            auth: format!("Bearer contract-{}", random_hex(16)),
            token: format!("contracttoken{}", random_hex(12)),
            integration_key: random_hex(16),
        };
        let mut vars = vec![
            (
                "FLASHDUTY_PUSH_URL",
                format!(
                    "https://flashduty.invalid/event/push/alert/standard?integration_key={}",
                    keys.integration_key
                ),
            ),
            ("HARBOR_AUTH_HEADER", keys.auth.clone()),
            ("URL_TOKEN", keys.token.clone()),
        ];
        vars.extend(extra(&keys));
        let mut by_name: Vec<(&'static str, String)> = Vec::new();
        for (name, value) in vars {
            by_name.retain(|(n, _)| *n != name);
            by_name.push((name, value));
        }
        let (handler, sink) = handler_with_options(by_name, options);
        Contract {
            handler,
            sink,
            keys,
        }
    }

    /// Sends the event to the handler; checks that the answer is JSON with
    /// `Content-Type: application/json`, as every answer must be.
    async fn send(&self, event: FunctionUrlEvent) -> Answered {
        let request = event
            .to_request()
            .unwrap_or_else(|e| panic!("the event does not convert ({e}): {event:?}"));
        let answered = Answered::read(self.handler.handle(request).await);
        assert_eq!(
            answered.content_type.as_deref(),
            Some("application/json"),
            "every answer is application/json: HTTP {} {}",
            answered.status,
            answered.raw
        );
        assert!(
            answered.body.is_object(),
            "every answer is a JSON object: HTTP {} {}",
            answered.status,
            answered.raw
        );
        for secret in [
            &self.keys.auth,
            &self.keys.token,
            &self.keys.integration_key,
        ] {
            assert!(
                !answered.raw.contains(secret.as_str()),
                "a secret in the answer: {}",
                answered.raw
            );
        }
        answered
    }

    /// Harbor's request for a fixture (its content type and `ce-*` headers), with the right
    /// `Authorization`, as a text body.
    fn fixture_event(&self, rel: &str) -> FunctionUrlEvent {
        let (body, headers) = harbor_request(rel, Some(&self.keys.auth));
        FunctionUrlEvent::post()
            .headers(headers)
            .body(&body, Encoding::Text)
    }

    /// A JSON body with the right `Authorization`.
    fn authorized(&self, body: impl AsRef<[u8]>) -> FunctionUrlEvent {
        FunctionUrlEvent::post()
            .header("content-type", "application/json")
            .header("authorization", &self.keys.auth)
            .body(body.as_ref(), Encoding::Text)
    }
}

/// An error answer: this status, `{"error": "<sentence>"}` and nothing else.
fn assert_error(answered: &Answered, status: u16, context: &str) {
    assert_eq!(answered.status, status, "{context}: {}", answered.raw);
    let object = answered.body.as_object().expect("checked in send");
    assert!(
        object.len() == 1 && !answered.error().trim().is_empty(),
        "{context}: an error answer is {{\"error\": \"<sentence>\"}}: {}",
        answered.raw
    );
}

/// A success answer: `200` with the members of SPEC §4, `alerts` and `dropped` lists and
/// `dry_run` as given. Only SPEC's `changes` may stand beside them, as a list.
fn assert_success(answered: &Answered, dry_run: bool, context: &str) {
    assert_eq!(answered.status, 200, "{context}: {}", answered.raw);
    let object = answered.body.as_object().expect("checked in send");
    for (name, value) in object {
        let ok = match name.as_str() {
            "alerts" | "dropped" | "changes" => value.is_array(),
            "dry_run" => *value == Value::Bool(dry_run),
            _ => false,
        };
        assert!(
            ok,
            "{context}: member `{name}` of the success answer (dry_run {dry_run}): {}",
            answered.raw
        );
    }
    for name in ["alerts", "dropped", "dry_run"] {
        assert!(
            object.contains_key(name),
            "{context}: no `{name}`: {}",
            answered.raw
        );
    }
}

/// The alert as the answer reports it, without the member only the answer carries.
fn alert_body(reported: &Value) -> Value {
    let mut body = reported.clone();
    if let Some(object) = body.as_object_mut() {
        object.remove("flashduty_request_id");
    }
    body
}
