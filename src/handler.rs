//! The Function URL's HTTP contract (docs/SPEC.md section 4).
//!
//! Checks run in the order the SPEC gives: method, empty body, caller authentication (before
//! the body is parsed), size, payload. Every error maps to its status in [`RequestError::status`].
//! The converted events go to [`delivery`]; what happened to each is observed once
//! ([`observe`]) and becomes the answer.

use crate::config::{Auth, ConfigCache, ConfigError, ConfigSource};
use crate::delivery::{self, Target};
use crate::flashduty::{AlertSink, DeliveryError};
use crate::observe;
use crate::report::Report;
use harbor_flashduty_core::convert;
use harbor_flashduty_core::payload::{CloudEventAttributes, PayloadError};
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// Harbor waits 3 s; answer within this.
pub const TIME_BUDGET: Duration = Duration::from_millis(2500);
/// Bodies above this are refused with 413.
pub const MAX_BODY: usize = 1024 * 1024;

/// Why a request was not answered 200.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("method {0} is not allowed: Harbor webhooks arrive as POST")]
    MethodNotAllowed(Method),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("the body is {size} bytes; the limit is 1 MiB")]
    TooLarge { size: usize },
    #[error(transparent)]
    Payload(#[from] PayloadError),
    #[error("configuration cannot be loaded: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
}

impl RequestError {
    /// The one place errors become statuses.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Payload(_) => StatusCode::BAD_REQUEST,
            Self::Config(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Delivery(DeliveryError::Refused { .. }) => StatusCode::BAD_GATEWAY,
            Self::Delivery(DeliveryError::Unavailable { .. }) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// The function: configuration and delivery are injected, so tests can drive it in-process.
pub struct Handler<C, S> {
    config: ConfigCache<C>,
    sink: S,
    dry_run: bool,
    budget: Duration,
}

impl<C: ConfigSource, S: AlertSink> Handler<C, S> {
    pub fn new(config: ConfigCache<C>, sink: S, dry_run: bool) -> Self {
        Self {
            config,
            sink,
            dry_run,
            budget: TIME_BUDGET,
        }
    }

    /// Loads configuration ahead of the first request; returns the push URL to warm up.
    pub async fn prefetch(&self) -> Option<crate::config::PushUrl> {
        match self.config.get().await {
            Ok(config) => config.push_url.clone(),
            Err(error) => {
                tracing::warn!(error = %error, "configuration not loaded at start-up; will retry per request");
                None
            }
        }
    }

    pub async fn handle(&self, request: Request) -> Response<Body> {
        let started = Instant::now();
        let result = self.process(&request, started).await;
        let (status, body) = match result {
            Ok(report) => (StatusCode::OK, serde_json::to_string(&report)),
            Err(error) => {
                let status = error.status();
                observe::refused(status, &error);
                (
                    status,
                    serde_json::to_string(&serde_json::json!({ "error": error.to_string() })),
                )
            }
        };
        let body = body.unwrap_or_else(|_| {
            r#"{"error":"internal error: response not serialisable"}"#.to_owned()
        });
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::Text(body))
            .unwrap_or_else(|_| Response::new(Body::Empty))
    }

    async fn process(&self, request: &Request, started: Instant) -> Result<Report, RequestError> {
        if request.method() != Method::POST {
            return Err(RequestError::MethodNotAllowed(request.method().clone()));
        }
        let body: &[u8] = request.body().as_ref();
        if body.is_empty() {
            // Harbor's Test Endpoint (1.9 to 2.2) POSTs nothing, without Authorization.
            return Ok(Report {
                dry_run: self.dry_run,
                ..Report::default()
            });
        }
        let config = self.config.get().await?;
        authorize(&config.auth, request)?;
        if body.len() > MAX_BODY {
            return Err(RequestError::TooLarge { size: body.len() });
        }
        let binary_ce = CloudEventAttributes::from_headers(|name| {
            request.headers().get(name).and_then(|v| v.to_str().ok())
        });
        let converted = convert::convert(body, binary_ce.as_ref(), &config.rules)?;

        let target = match (&config.push_url, self.dry_run) {
            (Some(push_url), false) => Target::Flashduty {
                push_url,
                deadline: started + self.budget,
            },
            _ => Target::DryRun,
        };
        let dry_run = matches!(target, Target::DryRun);
        let delivered = delivery::deliver(&self.sink, target, converted).await;
        for event in &delivered {
            observe::event(&event.item, &event.outcome);
        }
        Ok(Report::from_delivery(delivered, dry_run)?)
    }
}

/// The caller must present the configured `Authorization` value or `?token=`, compared in
/// constant time. Nothing is required only when configuration says the function is open.
fn authorize(auth: &Auth, request: &Request) -> Result<(), RequestError> {
    if auth.open {
        return Ok(());
    }
    let presented_header = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    let query = request.query_string_parameters();
    let presented_token = query.first("token").map(str::as_bytes);
    let header_ok = matches(
        auth.header.as_ref().map(|s| s.expose().as_bytes()),
        presented_header,
    );
    let token_ok = matches(
        auth.url_token.as_ref().map(|s| s.expose().as_bytes()),
        presented_token,
    );
    if header_ok || token_ok {
        return Ok(());
    }
    Err(RequestError::Unauthorized(
        match (presented_header, presented_token) {
            (None, None) => {
                "no Authorization header: set the webhook's Auth Header in Harbor to the configured value"
            }
            _ => "wrong Authorization header or token",
        },
    ))
}

fn matches(expected: Option<&[u8]>, presented: Option<&[u8]>) -> bool {
    match (expected, presented) {
        (Some(expected), Some(presented)) => bool::from(expected.ct_eq(presented)),
        _ => false,
    }
}
