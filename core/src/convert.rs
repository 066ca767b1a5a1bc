//! One request body in, the decisions for each of its events out: parse, apply rules, build
//! alerts. Pure: delivery is the caller's business.

use crate::alert::{self, Alert};
use crate::event::Event;
use crate::payload::{self, CloudEventAttributes, PayloadError};
use crate::rules::Rules;

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
