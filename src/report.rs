//! The success response of the function (docs/SPEC.md section 4), also printed by the CLI.
//!
//! It lives at the edge, not in the core: it carries what Flashduty answered (request ids).

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

    pub fn push_dropped(&mut self, event: &Event, by: &str) {
        self.dropped.push(Dropped {
            event_type: event.type_name().to_owned(),
            rule: by.to_owned(),
        });
    }
}
