//! The Flashduty standard alert built from an event and a rules decision (docs/SPEC.md
//! section 6): its [`key`], [`title`], [`description`] and [`labels`].
//!
//! Limits are Flashduty's, enforced here by cutting (never by rejecting): lengths are counted
//! in bytes, which also keeps them within the documented character limits.

mod description;
mod key;
mod labels;
mod title;

pub use description::description;
pub use key::{MAX_ALERT_KEY, alert_key};
pub use labels::{MAX_LABEL_KEY, MAX_LABEL_VALUE, MAX_LABELS, labels};
pub use title::title;

use crate::event::Event;
use crate::rules::{Decision, Rules};
use crate::severity::Severity;
use serde::Serialize;
use std::collections::BTreeMap;

pub const MAX_TITLE: usize = 512;
pub const MAX_DESCRIPTION: usize = 2048;

/// The body POSTed to Flashduty's standard alert endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub event_status: Severity,
    pub alert_key: String,
    pub title_rule: String,
    pub description: String,
    pub labels: BTreeMap<String, String>,
}

/// Builds the alert for an event the rules decided to send with `severity`.
pub fn build(event: &Event, severity: Severity, decision: &Decision<'_>, rules: &Rules) -> Alert {
    Alert {
        event_status: severity,
        alert_key: alert_key(event),
        title_rule: truncate(title(event), MAX_TITLE),
        description: truncate(description(event), MAX_DESCRIPTION),
        labels: labels(event, decision, rules),
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary.
pub fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("héllo".to_owned(), 2), "h");
        assert_eq!(truncate("héllo".to_owned(), 3), "hé");
        assert_eq!(truncate("abc".to_owned(), 10), "abc");
    }
}
