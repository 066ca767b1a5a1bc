//! Flashduty's `event_status`.

use serde::Serialize;
use std::fmt;

/// The status of a Flashduty standard alert event. `Ok` resolves the alert with the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Severity {
    Critical,
    Warning,
    Info,
    Ok,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Self::Critical, Self::Warning, Self::Info, Self::Ok];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "Critical",
            Self::Warning => "Warning",
            Self::Info => "Info",
            Self::Ok => "Ok",
        }
    }

    /// Parses a severity name, ignoring case.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
