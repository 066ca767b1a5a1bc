//! Delivery to Flashduty's standard alert endpoint, inside the request's time budget.
//!
//! 429, 5xx and connection errors are retried with backoff (honouring `Retry-After`) while
//! the deadline allows; a refused TLS certificate would fail again on every retry, so it is
//! not. Other 4xx, and a 2xx whose body carries `error`, are refusals and are never retried.
//! Errors never include the push URL's query (the integration key). What an answer means is
//! decided in [`answer`], without I/O; this module only sends, waits and retries.

pub mod answer;

use crate::config::PushUrl;
use answer::{Answer, Verdict};
use harbor_flashduty_core::alert::Alert;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

/// An alert Flashduty accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub request_id: Option<String>,
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Flashduty answered and said no: retrying the same alert cannot help.
    #[error(
        "Flashduty refused the alert (HTTP {status}, {code}: {message}; request id {request_id})"
    )]
    Refused {
        status: u16,
        code: String,
        message: String,
        request_id: String,
    },
    /// Flashduty could not be reached, or kept failing, within the time budget.
    #[error(
        "Flashduty did not accept the alert within the time budget after {attempts} attempt(s): {last}"
    )]
    Unavailable { attempts: u32, last: String },
}

impl DeliveryError {
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Refused { request_id, .. } => Some(request_id),
            Self::Unavailable { .. } => None,
        }
    }
}

/// Sends alerts somewhere. A trait so the handler can be driven without a network.
pub trait AlertSink: Send + Sync {
    fn send(
        &self,
        url: &PushUrl,
        alert: &Alert,
        deadline: Instant,
    ) -> impl Future<Output = Result<Accepted, DeliveryError>> + Send;
}

/// Timing knobs for delivery.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Longest wait for any one attempt.
    pub attempt_timeout: Duration,
    /// First backoff; doubles after each retry.
    pub initial_backoff: Duration,
    /// Don't start an attempt with less time than this left.
    pub min_attempt: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempt_timeout: Duration::from_millis(2000),
            initial_backoff: Duration::from_millis(100),
            min_attempt: Duration::from_millis(100),
        }
    }
}

/// The Flashduty client, over the instance's one HTTPS client ([`crate::transport`]).
#[derive(Clone)]
pub struct Flashduty {
    http: reqwest::Client,
    policy: RetryPolicy,
}

impl Flashduty {
    /// `http` must not follow redirects: a redirected POST would not be the alert Flashduty
    /// accepted. [`crate::transport::https_client`] is built that way.
    pub fn new(http: reqwest::Client, policy: RetryPolicy) -> Self {
        Self { http, policy }
    }

    /// Opens a connection (TCP and TLS) to the push URL's host so the first alert does not pay
    /// for it. Any answer will do; failures are ignored.
    pub async fn warm_up(&self, url: &PushUrl) {
        let mut origin = url.url().clone();
        origin.set_query(None);
        origin.set_path("/");
        let _ = self
            .http
            .head(origin)
            .timeout(Duration::from_millis(1500))
            .send()
            .await;
    }

    /// One POST. `Err` is a failure to get an answer at all.
    async fn attempt(
        &self,
        url: &PushUrl,
        body: &[u8],
        timeout: Duration,
    ) -> Result<Verdict, NoAnswer> {
        let response = self
            .http
            .post(url.url().clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec())
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| {
                if crate::transport::is_tls_failure(&e) {
                    NoAnswer::Fatal(describe(&e))
                } else {
                    NoAnswer::Transient(describe(&e))
                }
            })?;
        let status = response.status();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header(reqwest::header::RETRY_AFTER);
        let request_id_header = header(reqwest::header::HeaderName::from_static(
            "flashcat-request-id",
        ));
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            // An accepted alert whose answer was cut off is not known to be accepted.
            Err(e) if status.is_success() => return Err(NoAnswer::Transient(describe(&e))),
            Err(_) => Default::default(),
        };
        Ok(answer::classify(
            &Answer {
                status: status.as_u16(),
                retry_after: retry_after.as_deref(),
                request_id_header: request_id_header.as_deref(),
                body: &bytes,
            },
            SystemTime::now(),
        ))
    }
}

/// Why an attempt got no answer to classify.
enum NoAnswer {
    /// A connection error or timeout: retried while the budget allows.
    Transient(String),
    /// Flashduty's certificate was refused: every retry would fail alike.
    Fatal(String),
}

impl AlertSink for Flashduty {
    async fn send(
        &self,
        url: &PushUrl,
        alert: &Alert,
        deadline: Instant,
    ) -> Result<Accepted, DeliveryError> {
        let body = serde_json::to_vec(alert).map_err(|e| DeliveryError::Unavailable {
            attempts: 0,
            last: format!("cannot serialise the alert: {e}"),
        })?;
        let mut backoff = self.policy.initial_backoff;
        let mut attempts = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            attempts += 1;
            let timeout = left.min(self.policy.attempt_timeout);
            let (reason, after) = match self.attempt(url, &body, timeout).await {
                Ok(Verdict::Accepted { request_id }) => {
                    return Ok(Accepted {
                        request_id,
                        attempts,
                    });
                }
                Ok(Verdict::Refused {
                    status,
                    code,
                    message,
                    request_id,
                }) => {
                    return Err(DeliveryError::Refused {
                        status,
                        code,
                        message,
                        request_id,
                    });
                }
                Ok(Verdict::Retry { reason, after }) => (reason, after),
                Err(NoAnswer::Transient(reason)) => (reason, None),
                Err(NoAnswer::Fatal(last)) => {
                    return Err(DeliveryError::Unavailable { attempts, last });
                }
            };
            let wait = after.unwrap_or_else(|| jittered(backoff));
            let left = deadline.saturating_duration_since(Instant::now());
            if wait + self.policy.min_attempt > left {
                // A Retry-After past the budget is not cut short: Harbor retries later.
                let last = match after {
                    Some(after) => format!(
                        "{reason}, Retry-After {}s is beyond the time budget",
                        after.as_secs()
                    ),
                    None => reason,
                };
                return Err(DeliveryError::Unavailable { attempts, last });
            }
            tokio::time::sleep(wait).await;
            backoff = backoff.saturating_mul(2);
        }
    }
}

/// A connection or timeout error, without the URL reqwest would otherwise print.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Backoff plus up to 25% jitter, so retries from many instances do not line up.
fn jittered(backoff: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    backoff + backoff.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_a_quarter() {
        let base = Duration::from_millis(100);
        let j = jittered(base);
        assert!(j >= base && j <= base + base / 4, "{j:?}");
    }
}
