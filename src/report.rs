//! The success response of the function (docs/SPEC.md section 4), also printed by the CLI.
//!
//! It lives at the edge, not in the core: it carries what Flashduty answered (request ids).

use crate::delivery::{Delivered, Outcome};
use crate::flashduty::DeliveryError;
use harbor_flashduty_core::alert::Alert;
use harbor_flashduty_core::convert::{Action, Converted};
use harbor_flashduty_core::event::Event;
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub alerts: Vec<ReportedAlert>,
    pub dropped: Vec<Dropped>,
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportedAlert {
    #[serde(flatten)]
    pub alert: Alert,
    /// Flashduty's `request_id` for a forwarded alert; absent in a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flashduty_request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dropped {
    pub event_type: String,
    pub rule: String,
}

impl Report {
    /// The report of a dry run: every alert that would be sent.
    pub fn dry_run(converted: Vec<Converted>) -> Self {
        let mut report = Self {
            dry_run: true,
            ..Self::default()
        };
        for item in converted {
            match item.action {
                Action::Send(alert) => report.alerts.push(ReportedAlert {
                    alert,
                    flashduty_request_id: None,
                }),
                Action::Drop { by } => report.push_dropped(&item.event, &by),
            }
        }
        report
    }

    /// The answer to a delivery: every alert forwarded (or, in a dry run, that would be sent)
    /// and every drop; or, if an event failed, that failure.
    pub fn from_delivery(delivered: Vec<Delivered>, dry_run: bool) -> Result<Self, DeliveryError> {
        let mut report = Self {
            dry_run,
            ..Self::default()
        };
        for Delivered { item, outcome } in delivered {
            match (item.action, outcome) {
                (_, Outcome::Failed { error, .. }) => return Err(error),
                (Action::Send(alert), Outcome::Forwarded { request_id, .. }) => {
                    report.alerts.push(ReportedAlert {
                        alert,
                        flashduty_request_id: request_id,
                    })
                }
                (Action::Send(alert), Outcome::DryRun) => report.alerts.push(ReportedAlert {
                    alert,
                    flashduty_request_id: None,
                }),
                (Action::Drop { by }, _) => report.push_dropped(&item.event, &by),
                // `NotSent` only follows a failure, which is the answer; alerts are not `Dropped`.
                (Action::Send(_), Outcome::NotSent | Outcome::Dropped { .. }) => {}
            }
        }
        Ok(report)
    }

    pub fn push_dropped(&mut self, event: &Event, by: &str) {
        self.dropped.push(Dropped {
            event_type: event.type_name().to_owned(),
            rule: by.to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::tests::event;
    use std::time::Duration;

    fn delivered(send: bool, outcome: Outcome) -> Delivered {
        Delivered {
            item: event(send),
            outcome,
        }
    }

    #[test]
    fn a_delivery_reports_forwarded_alerts_and_drops_or_its_failure() {
        let forwarded = Outcome::Forwarded {
            request_id: Some("r1".into()),
            latency: Duration::from_millis(3),
        };
        let dropped = Outcome::Dropped {
            by: "default".into(),
        };
        let report = Report::from_delivery(
            vec![delivered(true, forwarded), delivered(false, dropped)],
            false,
        )
        .unwrap();
        assert!(!report.dry_run);
        assert_eq!(report.alerts.len(), 1);
        assert_eq!(report.alerts[0].flashduty_request_id.as_deref(), Some("r1"));
        assert_eq!(report.dropped.len(), 1);

        let dry = Report::from_delivery(
            vec![
                delivered(true, Outcome::DryRun),
                delivered(false, Outcome::DryRun),
            ],
            true,
        )
        .unwrap();
        let converted = vec![event(true), event(false)];
        assert_eq!(dry, Report::dry_run(converted));

        let error = DeliveryError::Unavailable {
            attempts: 2,
            last: "HTTP 503".into(),
        };
        let failed = Outcome::Failed {
            error: error.clone(),
            latency: Duration::ZERO,
        };
        assert_eq!(
            Report::from_delivery(
                vec![delivered(true, failed), delivered(true, Outcome::NotSent)],
                false
            ),
            Err(error)
        );
    }
}
