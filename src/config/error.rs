//! Configuration errors: each names where the value at fault is looked up and what is wrong
//! with it, so the message says what to change.

use super::PushUrlError;
use harbor_flashduty_core::rules::RulesError;
use std::fmt;
use std::time::Duration;

/// Where a parameter is looked up, as messages name it: an SSM parameter with its kind, an
/// environment variable bare (as the operator types it), a file with the variable naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An SSM parameter, by full name.
    Ssm(String),
    /// An environment variable.
    Env(&'static str),
    /// The file whose path the variable `var` holds.
    File { var: &'static str, path: String },
}

impl Origin {
    /// The key of this parameter's value in [`ParameterLookup::fetch_all`]'s map.
    pub fn name(&self) -> &str {
        match self {
            Self::Ssm(name) => name,
            Self::Env(name) | Self::File { var: name, .. } => name,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ssm(name) => write!(f, "SSM parameter {name}"),
            Self::Env(name) => f.write_str(name),
            Self::File { var, path } => write!(f, "{var} ({path})"),
        }
    }
}

/// What is wrong with a value that is present.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error(transparent)]
    PushUrl(#[from] PushUrlError),
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// The text of the I/O error (`io::Error` is neither `Clone` nor `Eq`).
    #[error("{0}")]
    Unreadable(String),
}

/// What can go wrong loading configuration. Every message names the parameter or variable
/// and says what to change; none shows a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{origin} is missing: put it with `make config` or aws ssm put-parameter")]
    Missing { origin: Origin },
    #[error("{}", invalid_message(.origin, .problem))]
    Invalid { origin: Origin, problem: Problem },
    /// `reason` is the SDK's description of the failure.
    #[error("cannot read SSM parameters under {prefix}: {reason}")]
    Unreachable { prefix: String, reason: String },
    /// A refresh took longer than the cache lets a request wait.
    #[error("the configuration source gave no answer within {} ms", .waited.as_millis())]
    Slow { waited: Duration },
    /// A start-up setting ([`Settings`]) that cannot be read.
    #[error("environment variable {name} is {value:?}; expected {expected}")]
    Setting {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "no caller authentication is configured: set {header} (the Auth Header given to Harbor) or \
         {}, or ALLOW_UNAUTHENTICATED=true to accept any caller", .token.name()
    )]
    NoAuth { header: Origin, token: Origin },
}

/// The message of [`ConfigError::Invalid`], phrased for where the value came from.
fn invalid_message(origin: &Origin, problem: &Problem) -> String {
    match (origin, problem) {
        (Origin::Ssm(name), _) => format!("SSM parameter {name} is invalid: {problem}"),
        // A push URL's problem reads as a predicate: "must use https: ...".
        (Origin::Env(name), Problem::PushUrl(_)) => {
            format!("environment variable {name} {problem}")
        }
        (Origin::Env(name), _) => format!("environment variable {name} is invalid: {problem}"),
        (Origin::File { var, path }, Problem::Unreadable(_)) => {
            format!("environment variable {var} names {path}, which cannot be read: {problem}")
        }
        (Origin::File { var, path }, _) => {
            format!("environment variable {var} names {path}, which is invalid: {problem}")
        }
    }
}
