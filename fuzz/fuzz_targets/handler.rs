//! Fuzzes the function's HTTP contract in-process: the fuzzer's bytes become a method, an
//! `Authorization` value, a `?token=`, a few `ce-*` / `content-type` headers and a body, handed
//! to `harbor_flashduty::handler::Handler` with a local configuration and a sink that accepts
//! every alert. Checked on every input (SPEC §4):
//!
//! * no panic (the fuzzer reports one as a crash);
//! * the status is 200, 400, 401, 405 or 413, never 5xx;
//! * anything but the exact configured credential on a non-empty POST is 401;
//! * a 200 carries only alerts within Flashduty's limits, exactly those the sink received;
//! * no answer contains a secret (that the input did not carry itself).
//!
//! Layout of an input: byte 0 picks the method and the credential; then up to four
//! NUL-separated fields (Authorization, token, ce-type, content-type), then the body.

#![no_main]

use harbor_flashduty_core::alert::{
    Alert, MAX_ALERT_KEY, MAX_DESCRIPTION, MAX_LABEL_KEY, MAX_LABEL_VALUE, MAX_LABELS, MAX_TITLE,
};
use harbor_flashduty::config::{ConfigCache, LocalSource, PushUrl};
use harbor_flashduty::flashduty::{Accepted, AlertSink, DeliveryError};
use harbor_flashduty::handler::{Handler, MAX_BODY};
use lambda_http::http::{self, HeaderValue, Method};
use lambda_http::{Body, RequestExt};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const AUTH: &str = "Bearer fuzz-0123456789abcdef0123456789abcdef";
const TOKEN: &str = "fuzztoken0123456789abcdef";
const KEY: &str = "fuzzintegrationkey0123456789";

#[derive(Default)]
struct Sent(Mutex<Vec<Alert>>);

struct Sink(Arc<Sent>);

impl AlertSink for Sink {
    async fn send(
        &self,
        _: &PushUrl,
        alert: &Alert,
        _: Instant,
    ) -> Result<Accepted, DeliveryError> {
        self.0
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(alert.clone());
        Ok(Accepted {
            request_id: Some("fuzz".into()),
            attempts: 1,
        })
    }
}

struct World {
    handler: Handler<LocalSource, Sink>,
    sent: Arc<Sent>,
    rt: tokio::runtime::Runtime,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let sent = Arc::new(Sent::default());
        let vars: HashMap<&str, String> = [
            (
                "FLASHDUTY_PUSH_URL",
                format!(
                    "https://flashduty.invalid/event/push/alert/standard?integration_key={KEY}"
                ),
            ),
            ("HARBOR_AUTH_HEADER", AUTH.to_owned()),
            ("URL_TOKEN", TOKEN.to_owned()),
        ]
        .into_iter()
        .collect();
        let source = LocalSource::from_env(move |name| vars.get(name).cloned(), false);
        World {
            handler: Handler::new(
                ConfigCache::new(source, Duration::from_secs(3600)),
                Sink(Arc::clone(&sent)),
                false,
            ),
            sent,
            rt: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime"),
        }
    })
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn alert_within_limits(alert: &Alert) -> bool {
    let json = serde_json::to_value(alert).expect("an alert serialises");
    let text = |k: &str| json[k].as_str().unwrap_or_default().to_owned();
    let labels = json["labels"].as_object().cloned().unwrap_or_default();
    ["Critical", "Warning", "Info", "Ok"].contains(&text("event_status").as_str())
        && !text("alert_key").is_empty()
        && chars(&text("alert_key")) <= MAX_ALERT_KEY
        && !text("title_rule").is_empty()
        && chars(&text("title_rule")) <= MAX_TITLE
        && chars(&text("description")) <= MAX_DESCRIPTION
        && labels.len() <= MAX_LABELS
        && labels.iter().all(|(k, v)| {
            chars(k) <= MAX_LABEL_KEY
                && k.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && v.as_str().is_some_and(|v| chars(v) <= MAX_LABEL_VALUE)
        })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut fields: Vec<&[u8]> = Vec::new();
    let mut body = rest;
    for _ in 0..4 {
        match body.iter().position(|&b| b == 0) {
            Some(at) => {
                fields.push(&body[..at]);
                body = &body[at + 1..];
            }
            None => break,
        }
    }
    let field = |i: usize| fields.get(i).copied().unwrap_or_default();
    let method = match selector % 16 {
        0 => Method::GET,
        1 => Method::PUT,
        _ => Method::POST,
    };
    // Credential: the right header, the right token, or the fuzzer's own bytes.
    let (authorization, token): (Vec<u8>, Option<String>) = match (selector >> 4) % 4 {
        0 => (AUTH.as_bytes().to_vec(), None),
        1 => (Vec::new(), Some(TOKEN.to_owned())),
        _ => (
            field(0).to_vec(),
            Some(String::from_utf8_lossy(field(1)).into_owned()),
        ),
    };
    let mut builder = http::Request::builder()
        .method(method.clone())
        .uri("https://fuzz.lambda-url.us-east-1.on.aws/");
    let mut presented_auth = None;
    if !authorization.is_empty() {
        if let Ok(value) = HeaderValue::from_bytes(&authorization) {
            builder = builder.header(http::header::AUTHORIZATION, value);
            presented_auth = Some(authorization.clone());
        }
    }
    if selector & 0x40 != 0 {
        builder = builder.header("ce-specversion", "1.0");
        if let Ok(value) = HeaderValue::from_bytes(field(2)) {
            builder = builder.header("ce-type", value);
        }
    }
    if let Ok(value) = HeaderValue::from_bytes(field(3)) {
        builder = builder.header(http::header::CONTENT_TYPE, value);
    }
    let Ok(request) = builder.body(Body::from(body.to_vec())) else {
        return;
    };
    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    if let Some(token) = &token {
        query.insert("token".into(), vec![token.clone()]);
    }
    let request = request.with_query_string_parameters(query);

    let world = world();
    world
        .sent
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clear();
    let response = world.rt.block_on(world.handler.handle(request));
    let sent = std::mem::take(&mut *world.sent.0.lock().unwrap_or_else(|p| p.into_inner()));
    let status = response.status().as_u16();
    let answer = String::from_utf8_lossy(response.body().as_ref()).into_owned();

    let right =
        presented_auth.as_deref() == Some(AUTH.as_bytes()) || token.as_deref() == Some(TOKEN);
    let expected = if method != Method::POST {
        Some(405)
    } else if body.is_empty() {
        Some(200)
    } else if !right {
        Some(401)
    } else if body.len() > MAX_BODY {
        Some(413)
    } else {
        None
    };
    match expected {
        Some(want) => assert_eq!(status, want, "{answer}"),
        None => assert!(status == 200 || status == 400, "HTTP {status}: {answer}"),
    }
    // A secret the input itself carries (the fuzzer learns them from the comparisons in this
    // very check) may be echoed, e.g. inside a digest; any other would be a leak.
    for secret in [AUTH, TOKEN, KEY] {
        let in_input = data.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(
            in_input || !answer.contains(secret),
            "a secret in the answer: {answer}"
        );
    }
    if status == 200 {
        let report: serde_json::Value = serde_json::from_str(&answer).expect("a 200 is JSON");
        let reported = report["alerts"].as_array().map_or(0, Vec::len);
        assert_eq!(
            reported,
            sent.len(),
            "the answer and the sink disagree: {answer}"
        );
        for alert in &sent {
            assert!(
                alert_within_limits(alert),
                "an alert beyond Flashduty's limits: {alert:?}"
            );
        }
    } else {
        assert!(sent.is_empty(), "HTTP {status} but alerts were sent");
    }
});
