//! The function in-process: `harbor_flashduty::handler::Handler` with its configuration from
//! `LocalSource` (the variables a test gives, nothing from the environment) behind a
//! `ConfigCache`, and an [`AlertSink`] that records every alert handed to it and answers as
//! told: accept (with a request id), refuse (Flashduty's 4xx: 502) or be unavailable (503).

use harbor_flashduty::config::{ConfigCache, LocalSource, PushUrl};
use harbor_flashduty::flashduty::{Accepted, AlertSink, DeliveryError};
use harbor_flashduty::handler::Handler;
use harbor_flashduty_core::alert::Alert;
use lambda_http::http::{self, Method};
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What the sink answers to one alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Accepted, with the request id `sink-<n>` (n counts the alerts handed over, from 0).
    Accept,
    /// Flashduty said no: `400 InvalidParameter`, request id `refused-<n>`.
    Refuse,
    /// Flashduty could not be reached within the budget.
    Unavailable,
}

/// Flashduty's error code and message in a refusal.
pub const REFUSED_CODE: &str = "InvalidParameter";
pub const REFUSED_MESSAGE: &str = "labels.team is not a valid label value";

/// One alert handed to the sink, and what the sink answered.
#[derive(Clone, Debug)]
pub struct Call {
    pub alert: Alert,
    pub answer: Answer,
    /// The request id of an accepted or refused alert.
    pub request_id: Option<String>,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    script: VecDeque<Answer>,
    default: Option<Answer>,
}

/// What the sink got; shared between the test and the handler.
#[derive(Default)]
pub struct Recorder {
    state: Mutex<State>,
}

impl Recorder {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next alerts get these answers, in order; then the default.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state().script.extend(answers);
    }

    /// The answer once the script is used up (at first [`Answer::Accept`]).
    pub fn set_default(&self, answer: Answer) {
        self.state().default = Some(answer);
    }

    /// Every alert handed over so far, with its answer.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// The alerts handed over since the last `take`, forgetting them.
    pub fn take(&self) -> Vec<Alert> {
        std::mem::take(&mut self.state().calls)
            .into_iter()
            .map(|call| call.alert)
            .collect()
    }
}

/// The sink the handler gets.
pub struct Sink(Arc<Recorder>);

impl AlertSink for Sink {
    async fn send(
        &self,
        _url: &PushUrl,
        alert: &Alert,
        _deadline: Instant,
    ) -> Result<Accepted, DeliveryError> {
        let mut state = self.0.state();
        let n = state.calls.len();
        let answer = state
            .script
            .pop_front()
            .or(state.default)
            .unwrap_or(Answer::Accept);
        let (result, request_id) = match answer {
            Answer::Accept => {
                let id = format!("sink-{n}");
                let accepted = Accepted {
                    request_id: Some(id.clone()),
                    attempts: 1,
                };
                (Ok(accepted), Some(id))
            }
            Answer::Refuse => {
                let id = format!("refused-{n}");
                let refused = DeliveryError::Refused {
                    status: 400,
                    code: REFUSED_CODE.to_owned(),
                    message: REFUSED_MESSAGE.to_owned(),
                    request_id: id.clone(),
                };
                (Err(refused), Some(id))
            }
            Answer::Unavailable => (
                Err(DeliveryError::Unavailable {
                    attempts: 3,
                    last: "HTTP 503 from Flashduty".to_owned(),
                }),
                None,
            ),
        };
        state.calls.push(Call {
            alert: alert.clone(),
            answer,
            request_id,
        });
        result
    }
}

pub type InProcess = Handler<LocalSource, Sink>;

/// How the handler is set up beyond its variables.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// `DRY_RUN=true` (read by `main` from the environment, handed to the handler).
    pub dry_run: bool,
    /// `ALLOW_UNAUTHENTICATED=true`.
    pub allow_unauthenticated: bool,
}

/// A handler configured by exactly `vars` (`FLASHDUTY_PUSH_URL`, `HARBOR_AUTH_HEADER`,
/// `URL_TOKEN`, `RULES_FILE`), and its sink's recorder.
pub fn handler_with_options(
    vars: Vec<(&'static str, String)>,
    options: Options,
) -> (InProcess, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let vars: HashMap<&str, String> = vars.into_iter().collect();
    let source = LocalSource::from_env(
        move |name| vars.get(name).cloned(),
        options.allow_unauthenticated,
    );
    let handler = Handler::new(
        ConfigCache::new(source, Duration::from_secs(300)),
        Sink(Arc::clone(&recorder)),
        options.dry_run,
    );
    (handler, recorder)
}

pub fn handler_with(vars: Vec<(&'static str, String)>) -> (InProcess, Arc<Recorder>) {
    handler_with_options(vars, Options::default())
}

/// A current-thread tokio runtime for the synchronous tests.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A POST built directly (any header bytes), with `content-type: application/json` and this
/// `Authorization` when given.
pub fn direct_post(body: Vec<u8>, authorization: Option<&str>) -> Request {
    let mut builder = http::Request::builder()
        .method(Method::POST)
        .uri("https://abcdefgh.lambda-url.us-east-1.on.aws/")
        .header("content-type", "application/json");
    if let Some(auth) = authorization {
        builder = builder.header("authorization", auth);
    }
    builder.body(Body::from(body)).expect("a request")
}

/// One POST in-process ([`direct_post`]): the status and the answer (`Null` when not JSON).
pub fn one(
    handler: &InProcess,
    rt: &tokio::runtime::Runtime,
    body: Vec<u8>,
    authorization: Option<&str>,
) -> (u16, Value) {
    let answered = Answered::read(rt.block_on(handler.handle(direct_post(body, authorization))));
    (answered.status, answered.body)
}

/// A response, read.
#[derive(Debug)]
pub struct Answered {
    pub status: u16,
    pub content_type: Option<String>,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
    pub raw: String,
}

impl Answered {
    pub fn read(response: Response<Body>) -> Answered {
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.body().as_ref();
        Answered {
            status: response.status().as_u16(),
            content_type,
            body: serde_json::from_slice(bytes).unwrap_or(Value::Null),
            raw: String::from_utf8_lossy(bytes).into_owned(),
        }
    }

    /// The `error` sentence of an error answer (empty when there is none).
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }
}
