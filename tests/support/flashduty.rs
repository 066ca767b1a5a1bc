//! A Flashduty stand-in: `POST /event/push/alert/standard?integration_key=...` on 127.0.0.1.
//!
//! It validates requests the way the real endpoint does (reference:
//! `flashduty-standard-alert.md`), and stricter where our own SPEC (§6) is stricter, because it
//! exists to catch our bugs: a wrong method, content type or key, a missing or over-long field, a
//! bad label name, or any top-level field that SPEC §6 does not send is a `400`.
//!
//! Answers have the real shapes: `200 {"request_id", "data": {"alert_key"}}` or
//! `{"request_id", "error": {"code", "message"}}` with the status of the reference's error table.
//! Every request received is recorded ([`Received`]), and every request the stand-in accepted,
//! i.e. answered with a success body after validating it ([`Accepted`]).
//!
//! Failures are scripted: a queue of [`Behaviour`]s consumed one per request, then a default.
//! Validation comes first, so an invalid request is answered `400` whatever the script says (it
//! still consumes one scripted behaviour, so the script stays aligned with the attempts).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

use super::process::random_hex;

/// The path of the standard alert push endpoint.
pub const PUSH_PATH: &str = "/event/push/alert/standard";

/// The top-level fields SPEC §6 sends. The real endpoint also knows `images` and `event_time`,
/// but our function must not send them, so the stand-in rejects them like any unknown field.
const KNOWN_FIELDS: [&str; 5] = [
    "event_status",
    "alert_key",
    "title_rule",
    "description",
    "labels",
];
const EVENT_STATUSES: [&str; 4] = ["Critical", "Warning", "Info", "Ok"];
const MAX_TITLE: usize = 512;
const MAX_ALERT_KEY: usize = 255;
const MAX_DESCRIPTION: usize = 2048;
const MAX_LABELS: usize = 50;
const MAX_LABEL_KEY: usize = 128;
const MAX_LABEL_VALUE: usize = 2048;

/// How the stand-in answers a request that passed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// `200 {"request_id", "data": {"alert_key"}}`; recorded as accepted.
    Accept,
    /// This HTTP status with an error body (`InternalError` for 5xx).
    Status(u16),
    /// `429 RequestTooFrequently`, with a `Retry-After` header when `Some`.
    TooMany { retry_after: Option<String> },
    /// `400 InvalidParameter`, as for a request Flashduty does not like.
    Reject400,
    /// Sleeps, then accepts. Recorded as accepted only if the answer was produced, i.e. the
    /// caller did not give up and close the connection first.
    Hang(Duration),
    /// HTTP `200` whose body carries an `error` object instead of `data`.
    ErrorBody200,
    /// Each request fails with probability `percent`/100, with a failure drawn from
    /// [`random_failures`]; otherwise it is accepted. Deterministic for a given `seed`.
    FailRandomly { percent: u8, seed: u64 },
}

/// The failures [`Behaviour::FailRandomly`] draws from: everything the function must survive.
/// The hang is long (10 s) so that it always ends after the function has given up (it answers
/// within 2.5 s); a late completion can then never be mistaken for a delivery.
pub fn random_failures() -> Vec<Behaviour> {
    vec![
        Behaviour::Status(500),
        Behaviour::Status(502),
        Behaviour::Status(503),
        Behaviour::TooMany { retry_after: None },
        Behaviour::TooMany {
            retry_after: Some("0".to_owned()),
        },
        Behaviour::TooMany {
            retry_after: Some("1".to_owned()),
        },
        Behaviour::Reject400,
        Behaviour::ErrorBody200,
        Behaviour::Hang(Duration::from_secs(10)),
    ]
}

/// A request as the stand-in received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub at: Instant,
    pub method: String,
    /// Path and query; the query holds the integration key.
    pub path_and_query: String,
    /// Header names lowercase.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Why the stand-in refused it (`"<code>: <message>"`), when it failed validation.
    pub invalid: Option<String>,
    /// The behaviour applied (a `FailRandomly` already resolved to a concrete one).
    pub behaviour: Behaviour,
    /// The `request_id` of the stand-in's answer.
    pub request_id: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// A request to the push endpoint (any method), as opposed to some other path.
    pub fn is_push(&self) -> bool {
        let path = self.path_and_query.split('?').next().unwrap_or_default();
        path == PUSH_PATH
    }
}

/// A request the stand-in accepted (answered 200 with `data`).
#[derive(Clone, Debug)]
pub struct Accepted {
    pub received_at: Instant,
    pub completed_at: Instant,
    pub request_id: String,
    pub headers: Vec<(String, String)>,
    /// The alert as parsed JSON.
    pub body: Value,
}

impl Accepted {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    pub fn alert_key(&self) -> &str {
        self.body["alert_key"].as_str().unwrap_or_default()
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// The running stand-in. Stops serving when dropped.
pub struct FlashdutyStandIn {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

struct Shared {
    integration_key: String,
    state: Mutex<ScriptState>,
}

struct ScriptState {
    script: VecDeque<Behaviour>,
    default: Behaviour,
    /// `(seed, splitmix state)` of the current `FailRandomly` sequence.
    random: Option<(u64, u64)>,
    received: Vec<Received>,
    accepted: Vec<Accepted>,
}

impl FlashdutyStandIn {
    /// Starts on a free port of the calling test's tokio runtime, with a random integration key.
    pub async fn start() -> FlashdutyStandIn {
        FlashdutyStandIn::start_with_key(&random_hex(16)).await
    }

    pub async fn start_with_key(integration_key: &str) -> FlashdutyStandIn {
        super::capture::secret("integration key", integration_key);
        let shared = Arc::new(Shared {
            integration_key: integration_key.to_owned(),
            state: Mutex::new(ScriptState {
                script: VecDeque::new(),
                default: Behaviour::Accept,
                random: None,
                received: Vec::new(),
                accepted: Vec::new(),
            }),
        });
        let app = Router::new()
            .route(PUSH_PATH, any(push))
            .fallback(route_not_found)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("binding the Flashduty stand-in to 127.0.0.1:0");
        let addr = listener.local_addr().expect("stand-in local address");
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("Flashduty stand-in stopped: {e}");
            }
        });
        FlashdutyStandIn {
            addr,
            shared,
            server,
        }
    }

    pub fn integration_key(&self) -> &str {
        &self.shared.integration_key
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The push URL to configure: `http://127.0.0.1:<port>/event/push/alert/standard?integration_key=<key>`.
    pub fn push_url(&self) -> String {
        self.push_url_with_key(self.integration_key())
    }

    /// The push URL with another key (to provoke `integration_key is not a valid one`).
    pub fn push_url_with_key(&self, key: &str) -> String {
        format!("{}{PUSH_PATH}?integration_key={key}", self.base_url())
    }

    /// Appends behaviours to the queue; each request consumes one, then the default applies.
    pub fn script(&self, behaviours: impl IntoIterator<Item = Behaviour>) {
        self.lock().script.extend(behaviours);
    }

    /// The behaviour once the script is used up (initially [`Behaviour::Accept`]).
    pub fn set_default(&self, behaviour: Behaviour) {
        self.lock().default = behaviour;
    }

    /// Every request received at all (any path, e.g. a connection warm-up `HEAD /`), in order
    /// of arrival.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The requests to the push endpoint ([`PUSH_PATH`]): the delivery attempts.
    pub fn pushes(&self) -> Vec<Received> {
        self.lock()
            .received
            .iter()
            .filter(|r| r.is_push())
            .cloned()
            .collect()
    }

    /// Every request accepted, in order of completion.
    pub fn accepted(&self) -> Vec<Accepted> {
        self.lock().accepted.clone()
    }

    /// How many delivery attempts (requests to the push endpoint) arrived.
    pub fn push_count(&self) -> usize {
        self.pushes().len()
    }

    pub fn accepted_count(&self) -> usize {
        self.lock().accepted.len()
    }

    /// The accepted request that was answered with `request_id`.
    pub fn accepted_with_request_id(&self, request_id: &str) -> Option<Accepted> {
        self.lock()
            .accepted
            .iter()
            .find(|a| a.request_id == request_id)
            .cloned()
    }

    /// Fails the test when any delivery attempt reached the stand-in. Requests to other paths
    /// (a warm-up `HEAD /`) carry no alert and are allowed.
    pub fn assert_nothing_pushed(&self, context: &str) {
        let pushes = self.pushes();
        assert!(
            pushes.is_empty(),
            "{context}: expected no request to Flashduty, but the stand-in received {}: {:#?}",
            pushes.len(),
            pushes
        );
    }

    /// Fails the test when any delivery attempt failed the stand-in's validation, listing why:
    /// the function built an alert the real Flashduty would refuse.
    pub fn assert_all_valid(&self) {
        let invalid: Vec<String> = self
            .pushes()
            .into_iter()
            .filter_map(|r| r.invalid.map(|why| format!("{why}\n  body: {}", r.body)))
            .collect();
        assert!(
            invalid.is_empty(),
            "the function sent requests Flashduty would refuse:\n{}",
            invalid.join("\n")
        );
    }

    fn lock(&self) -> MutexGuard<'_, ScriptState> {
        self.shared.lock()
    }
}

impl Drop for FlashdutyStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, ScriptState> {
        // A panic while holding the lock poisons it; the records are still worth reading.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the next behaviour off the script (or the default) and resolves `FailRandomly`.
    fn next_behaviour(&self) -> Behaviour {
        let mut state = self.lock();
        let behaviour = state
            .script
            .pop_front()
            .unwrap_or_else(|| state.default.clone());
        match behaviour {
            Behaviour::FailRandomly { percent, seed } => {
                if state.random.map(|(current, _)| current) != Some(seed) {
                    state.random = Some((seed, seed));
                }
                let (_, rng) = state.random.as_mut().expect("seeded just above");
                if splitmix64(rng) % 100 < u64::from(percent) {
                    let failures = random_failures();
                    let pick = splitmix64(rng) % failures.len() as u64;
                    failures[pick as usize].clone()
                } else {
                    Behaviour::Accept
                }
            }
            other => other,
        }
    }
}

/// A refusal: the error code and message the real endpoint would answer with.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn invalid(message: impl Into<String>) -> Refusal {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidParameter",
            message: message.into(),
        }
    }
}

async fn push(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received_at = Instant::now();
    let request_id = random_hex(16);
    let verdict = check_request(&shared.integration_key, &method, &uri, &headers, &body);
    let behaviour = shared.next_behaviour();
    shared.lock().received.push(Received {
        at: received_at,
        method: method.to_string(),
        path_and_query: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: header_pairs(&headers),
        body: String::from_utf8_lossy(&body).into_owned(),
        invalid: verdict
            .as_ref()
            .err()
            .map(|r| format!("{}: {}", r.code, r.message)),
        behaviour: behaviour.clone(),
        request_id: request_id.clone(),
    });
    let alert = match verdict {
        Ok(alert) => alert,
        Err(refusal) => {
            return error_response(refusal.status, refusal.code, &refusal.message, &request_id);
        }
    };
    match behaviour {
        Behaviour::Accept => accept(&shared, received_at, &headers, alert, &request_id),
        Behaviour::Hang(delay) => {
            // If the caller gives up, hyper drops this future and nothing is recorded.
            tokio::time::sleep(delay).await;
            accept(&shared, received_at, &headers, alert, &request_id)
        }
        Behaviour::Status(status) => {
            let status = StatusCode::from_u16(status).expect("a valid scripted HTTP status");
            let message = format!("scripted failure: HTTP {}", status.as_u16());
            error_response(status, code_for_status(status), &message, &request_id)
        }
        Behaviour::TooMany { retry_after } => {
            let mut response = error_response(
                StatusCode::TOO_MANY_REQUESTS,
                "RequestTooFrequently",
                "Request too frequently.",
                &request_id,
            );
            if let Some(value) = retry_after {
                let value = HeaderValue::from_str(&value).expect("a valid Retry-After value");
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Behaviour::Reject400 => error_response(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "scripted rejection: labels.team is not allowed",
            &request_id,
        ),
        Behaviour::ErrorBody200 => error_response(
            StatusCode::OK,
            "NoLicense",
            "scripted: HTTP 200 carrying an error object",
            &request_id,
        ),
        Behaviour::FailRandomly { .. } => unreachable!("resolved by next_behaviour"),
    }
}

async fn route_not_found(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = random_hex(16);
    let message = format!("{method} {} is not a Flashduty route", uri.path());
    shared.lock().received.push(Received {
        at: Instant::now(),
        method: method.to_string(),
        path_and_query: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: header_pairs(&headers),
        body: String::from_utf8_lossy(&body).into_owned(),
        invalid: Some(format!("RouteNotFound: {message}")),
        behaviour: Behaviour::Accept,
        request_id: request_id.clone(),
    });
    error_response(
        StatusCode::NOT_FOUND,
        "RouteNotFound",
        &message,
        &request_id,
    )
}

fn accept(
    shared: &Shared,
    received_at: Instant,
    headers: &HeaderMap,
    alert: Value,
    request_id: &str,
) -> Response {
    let alert_key = alert["alert_key"].clone();
    shared.lock().accepted.push(Accepted {
        received_at,
        completed_at: Instant::now(),
        request_id: request_id.to_owned(),
        headers: header_pairs(headers),
        body: alert,
    });
    let body = json!({"request_id": request_id, "data": {"alert_key": alert_key}});
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn error_response(status: StatusCode, code: &str, message: &str, request_id: &str) -> Response {
    let body = json!({"request_id": request_id, "error": {"code": code, "message": message}});
    (status, axum::Json(body)).into_response()
}

/// The error code the reference's table gives for an HTTP status.
fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "InvalidParameter",
        401 => "Unauthorized",
        403 => "AccessDenied",
        404 => "RouteNotFound",
        429 => "RequestTooFrequently",
        _ => "InternalError",
    }
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect()
}

/// Method, content type, integration key, then the body, in the order the brief lists them.
fn check_request(
    integration_key: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, Refusal> {
    if method != Method::POST {
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            code: "MethodNotAllowed",
            message: format!("method {method} is not allowed"),
        });
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if !content_type.as_deref().is_some_and(is_json_media_type) {
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidContentType",
            message: format!("content type {content_type:?} is not supported"),
        });
    }
    let key = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "integration_key")
        .map(|(_, value)| value.into_owned());
    if key.as_deref() != Some(integration_key) {
        return Err(Refusal::invalid("integration_key is not a valid one"));
    }
    validate_alert(body).map_err(Refusal::invalid)
}

/// `application/json`, optionally with parameters such as `charset=utf-8`.
fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// Validates a standard alert body; returns it parsed, or what is wrong with it.
///
/// Lengths are counted in characters, as the reference documents them.
pub fn validate_alert(body: &[u8]) -> Result<Value, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not valid JSON: {e}"))?;
    let object = value
        .as_object()
        .ok_or_else(|| format!("body must be a JSON object, got {value}"))?;
    if let Some(unknown) = object.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown field `{unknown}`"));
    }
    let status = required_string(object, "event_status")?;
    if !EVENT_STATUSES.contains(&status) {
        return Err(format!(
            "event_status must be one of {EVENT_STATUSES:?} (case-sensitive), got {status:?}"
        ));
    }
    let title = required_string(object, "title_rule")?;
    check_length("title_rule", title, MAX_TITLE)?;
    if title.starts_with("[TPL]") {
        return Err("title_rule must not start with [TPL] (SPEC §6)".to_owned());
    }
    let alert_key = required_string(object, "alert_key")?;
    check_length("alert_key", alert_key, MAX_ALERT_KEY)?;
    if let Some(description) = object.get("description") {
        let description = description.as_str().ok_or("description must be a string")?;
        check_length("description", description, MAX_DESCRIPTION)?;
    }
    if let Some(labels) = object.get("labels") {
        validate_labels(labels)?;
    }
    Ok(value)
}

fn required_string<'a>(object: &'a Map<String, Value>, field: &str) -> Result<&'a str, String> {
    match object.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(format!("{field} must not be empty")),
        Some(other) => Err(format!("{field} must be a string, got {other}")),
        None => Err(format!("{field} is required")),
    }
}

fn check_length(field: &str, value: &str, max: usize) -> Result<(), String> {
    let chars = value.chars().count();
    if chars > max {
        return Err(format!(
            "{field} is {chars} characters long, at most {max} allowed"
        ));
    }
    Ok(())
}

fn validate_labels(labels: &Value) -> Result<(), String> {
    let labels = labels
        .as_object()
        .ok_or_else(|| format!("labels must be an object of strings, got {labels}"))?;
    if labels.len() > MAX_LABELS {
        return Err(format!(
            "{} labels, at most {MAX_LABELS} allowed",
            labels.len()
        ));
    }
    for (key, value) in labels {
        if !is_label_name(key) {
            return Err(format!(
                "label key {key:?} does not match ^[a-zA-Z_][a-zA-Z0-9_]*$"
            ));
        }
        check_length(&format!("label key {key:?}"), key, MAX_LABEL_KEY)?;
        let value = value
            .as_str()
            .ok_or_else(|| format!("label {key:?} must be a string, got {value}"))?;
        check_length(&format!("label {key:?}"), value, MAX_LABEL_VALUE)?;
    }
    Ok(())
}

/// `^[a-zA-Z_][a-zA-Z0-9_]*$`, the Prometheus label name rule the reference cites.
fn is_label_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// SplitMix64: a tiny, good-enough PRNG so random failure sequences replay from their seed.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
