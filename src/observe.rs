//! What CloudWatch sees of a request: one JSON log line and one EMF metric line per Harbor
//! event ([`event`]), and a warning per refused request ([`refused`]). Each is called from one
//! place in [`crate::handler`], so nothing is logged or counted twice or forgotten.
//!
//! Counting, by [`Outcome`]:
//!
//! * forwarded: `AlertsForwarded`, with `FlashdutyLatency`;
//! * dropped by a rule: `AlertsDropped`;
//! * failed (Flashduty did not accept it): `AlertsFailed`, what the alarm watches;
//! * not sent, because an earlier event of the same webhook failed: `AlertsNotSent`. Not
//!   `AlertsFailed`: the failure is already counted once, on the event that failed, and
//!   Harbor's retry of the webhook gives these events their chance; a separate counter keeps
//!   every event counted without inflating the failure count or the alarm;
//! * a dry run counts nothing: nothing was attempted.
//!
//! A request refused for its configuration counts `AlertsFailed` under the event type
//! [`metrics::UNPARSED`], so a broken deployment raises the alarm too.

use crate::delivery::Outcome;
use crate::handler::RequestError;
use crate::metrics::{self, Counter};
use harbor_flashduty_core::convert::{Action, Converted};
use lambda_http::http::StatusCode;

/// The log line and the metric line of one event. Secrets never reach these fields.
pub fn event(item: &Converted, outcome: &Outcome) {
    let (severity, alert_key) = match &item.action {
        Action::Send(alert) => (alert.event_status.as_str(), alert.alert_key.as_str()),
        Action::Drop { .. } => ("drop", ""),
    };
    let (request_id, latency, error) = match outcome {
        Outcome::Forwarded {
            request_id,
            latency,
        } => (request_id.as_deref(), Some(*latency), None),
        Outcome::Failed { error, latency } => (error.request_id(), Some(*latency), Some(error)),
        Outcome::Dropped { .. } | Outcome::DryRun | Outcome::NotSent => (None, None, None),
    };
    tracing::info!(
        event_type = item.event.type_name(),
        wire_type = item.event.origin.wire_type.as_str(),
        format = item.event.origin.format.as_str(),
        rule = item.rule.as_str(),
        severity,
        alert_key,
        outcome = outcome.as_str(),
        flashduty_request_id = request_id.unwrap_or(""),
        latency_ms = latency.map_or(0.0, |l| l.as_secs_f64() * 1000.0),
        error = error.map(ToString::to_string).unwrap_or_default(),
        "harbor event"
    );
    let (counter, latency) = match outcome {
        Outcome::Forwarded { latency, .. } => (Counter::Forwarded, Some(*latency)),
        Outcome::Dropped { .. } => (Counter::Dropped, None),
        Outcome::Failed { .. } => (Counter::Failed, None),
        Outcome::NotSent => (Counter::NotSent, None),
        Outcome::DryRun => return,
    };
    metrics::emit(item.event.type_name(), counter, latency);
}

/// A request answered with an error `status`.
pub fn refused(status: StatusCode, error: &RequestError) {
    if let RequestError::Config(_) = error {
        metrics::emit(metrics::UNPARSED, Counter::Failed, None);
    }
    tracing::warn!(status = status.as_u16(), error = %error, "request refused");
}
