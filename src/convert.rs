//! One request body in, the decisions for each of its events out: parse, apply rules, build
//! alerts. Pure: delivery is the caller's business.

use crate::alert::{self, Alert};
use crate::event::Event;
use crate::payload::{self, CloudEventAttributes, PayloadError};
use crate::rules::Rules;
use serde::Serialize;

/// What the rules made of one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    pub event: Event,
    /// The matching rule's name, or `default`.
    pub rule: String,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Send(Alert),
    /// Dropped on purpose; `by` is the user rule that said `drop`, or `default`.
    Drop {
        by: String,
    },
}

/// Parses `body` and decides every event in it.
pub fn convert(
    body: &[u8],
    binary_ce: Option<&CloudEventAttributes>,
    rules: &Rules,
) -> Result<Vec<Converted>, PayloadError> {
    let events = payload::parse(body, binary_ce)?;
    Ok(events
        .into_iter()
        .map(|event| decide(event, rules))
        .collect())
}

/// Applies the rules to one event.
pub fn decide(event: Event, rules: &Rules) -> Converted {
    let decision = rules.decide(&event);
    let action = match decision.severity {
        Some(severity) => Action::Send(alert::build(&event, severity, &decision, rules)),
        None => Action::Drop {
            by: decision.dropped_by.to_owned(),
        },
    };
    Converted {
        rule: decision.rule.to_owned(),
        event,
        action,
    }
}

/// The success response of the function (SPEC section 4), also printed by the CLI.
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
            event_type: event.kind.as_str().to_owned(),
            rule: by.to_owned(),
        });
    }
}
