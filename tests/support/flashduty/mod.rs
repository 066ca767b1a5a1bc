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
//!
//! [`server`] answers the requests; [`validate`] is what the real endpoint checks.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

mod server;
mod validate;

pub use validate::validate_alert;

use server::{push, route_not_found};

use super::process::random_hex;

/// The path of the standard alert push endpoint.
pub const PUSH_PATH: &str = "/event/push/alert/standard";

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
