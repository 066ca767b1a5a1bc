//! The families of events, each with its own sub-kind and typed status. A status keeps the raw
//! text too, because rules match it with globs.

use super::artifact::host_of_url;
use super::names::EventType;
use super::scan::{Scan, ScanOutcome};

/// What happened, with the facts specific to it. The canonical [`EventType`] is derived from
/// this, so an event's type and its facts cannot disagree.
#[derive(Debug, Clone, PartialEq)]
pub enum Family {
    Artifact(ArtifactAction),
    Chart(ChartAction),
    Scan(Scan),
    Quota(Quota),
    Replication(Replication),
    Retention(Retention),
    /// MSR 3's vulnerability database update.
    ScannerUpdate(ScannerUpdate),
    /// A type the function does not know: a digest of the event data identifies it.
    Other {
        data_digest: String,
    },
}

impl Family {
    pub fn event_type(&self) -> EventType {
        match self {
            Self::Artifact(ArtifactAction::Pushed) => EventType::PushArtifact,
            Self::Artifact(ArtifactAction::Pulled) => EventType::PullArtifact,
            Self::Artifact(ArtifactAction::Deleted) => EventType::DeleteArtifact,
            Self::Chart(ChartAction::Uploaded) => EventType::UploadChart,
            Self::Chart(ChartAction::Downloaded) => EventType::DownloadChart,
            Self::Chart(ChartAction::Deleted) => EventType::DeleteChart,
            Self::Scan(scan) => match scan.outcome {
                ScanOutcome::Completed => EventType::ScanningCompleted,
                ScanOutcome::Failed => EventType::ScanningFailed,
                ScanOutcome::Stopped => EventType::ScanningStopped,
            },
            Self::Quota(Quota {
                level: QuotaLevel::Warning,
                ..
            }) => EventType::QuotaWarning,
            Self::Quota(Quota {
                level: QuotaLevel::Exceeded,
                ..
            }) => EventType::QuotaExceed,
            Self::Replication(_) => EventType::Replication,
            Self::Retention(_) => EventType::TagRetention,
            Self::ScannerUpdate(_) => EventType::ScannerUpdateCompleted,
            Self::Other { .. } => EventType::Other,
        }
    }
}

/// Push, pull and delete of an image (or any OCI artifact).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactAction {
    Pushed,
    Pulled,
    Deleted,
}

impl ArtifactAction {
    pub fn of(kind: EventType) -> Option<Self> {
        Some(match kind {
            EventType::PushArtifact => Self::Pushed,
            EventType::PullArtifact => Self::Pulled,
            EventType::DeleteArtifact => Self::Deleted,
            _ => return None,
        })
    }
}

/// Helm chart events of Harbor's ChartMuseum (Harbor 1.x to 2.7) and MSR 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartAction {
    Uploaded,
    Downloaded,
    Deleted,
}

impl ChartAction {
    pub fn of(kind: EventType) -> Option<Self> {
        Some(match kind {
            EventType::UploadChart => Self::Uploaded,
            EventType::DownloadChart => Self::Downloaded,
            EventType::DeleteChart => Self::Deleted,
            _ => return None,
        })
    }
}

/// A status as the wire gave it, classified once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status<K> {
    pub kind: K,
    /// The text received, which rules match (`when.status`) and descriptions show.
    pub raw: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaLevel {
    Warning,
    Exceeded,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    pub level: QuotaLevel,
    /// Harbor's text, e.g. `adding 812.4 MiB of storage resource, which when updated ...`.
    pub details: Option<String>,
}

/// A replication job's status (Harbor's `job_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicationStatus {
    Failed,
    Succeeded,
    Stopped,
    Running,
    Pending,
    /// Missing, or a status Harbor may add later.
    Unrecognised,
}

impl ReplicationStatus {
    /// Harbor's names, any case: `Error`/`Failed`, `Success`/`Succeed`, `Stopped`,
    /// `Running`/`InProgress`, `Pending`/`Scheduled`.
    pub fn classify(raw: &str) -> Self {
        const NAMES: [(&str, ReplicationStatus); 9] = [
            ("Error", ReplicationStatus::Failed),
            ("Failed", ReplicationStatus::Failed),
            ("Success", ReplicationStatus::Succeeded),
            ("Succeed", ReplicationStatus::Succeeded),
            ("Stopped", ReplicationStatus::Stopped),
            ("Running", ReplicationStatus::Running),
            ("InProgress", ReplicationStatus::Running),
            ("Pending", ReplicationStatus::Pending),
            ("Scheduled", ReplicationStatus::Pending),
        ];
        NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(raw))
            .map_or(Self::Unrecognised, |(_, status)| *status)
    }
}

/// One side of a replication.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplicationEnd {
    pub registry_name: Option<String>,
    pub registry_type: Option<String>,
    /// URL with scheme, as Harbor sends it.
    pub endpoint: Option<String>,
    pub namespace: Option<String>,
}

impl ReplicationEnd {
    /// Human name: the registry's name in Harbor, else its endpoint's host.
    pub fn registry(&self) -> Option<&str> {
        self.registry_name
            .as_deref()
            .or_else(|| self.endpoint.as_deref().map(host_of_url))
    }

    /// Stable identity for alert keys: the endpoint without scheme or trailing slash, else
    /// the registry name.
    pub fn identity(&self) -> &str {
        self.endpoint
            .as_deref()
            .map(|url| {
                let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
                rest.trim_end_matches('/')
            })
            .or(self.registry_name.as_deref())
            .unwrap_or("")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Replication {
    pub status: Status<ReplicationStatus>,
    pub src: ReplicationEnd,
    pub dest: ReplicationEnd,
    pub trigger_type: Option<String>,
    pub policy_description: Option<String>,
    /// Resource name from `name_tag`, without the `[N item(s) in total]` suffix.
    pub resource: Option<String>,
    /// Item count from `name_tag`.
    pub item_count: Option<u64>,
    pub references: Vec<String>,
    /// True when this Harbor pushes to the remote (the local side is the source).
    pub push_mode: bool,
}

/// A tag retention run's result: Harbor says `SUCCESS`, or something else when it went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionResult {
    Success,
    NotSuccess,
}

impl RetentionResult {
    pub fn classify(raw: &str) -> Self {
        if raw.eq_ignore_ascii_case("SUCCESS") {
            Self::Success
        } else {
            Self::NotSuccess
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Retention {
    pub policy_id: Option<i64>,
    pub total: u64,
    pub retained: u64,
    /// `name:tag` (or `name@digest`) of each deleted artifact, without the project.
    pub deleted: Vec<String>,
    /// `None` when the event does not say.
    pub result: Option<Status<RetentionResult>>,
    pub rule_templates: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScannerUpdate {
    pub success: Option<bool>,
    pub scanner_version: Option<String>,
    pub db_version: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_statuses_are_classified_once_ignoring_case() {
        use ReplicationStatus::*;
        for (raw, expected) in [
            ("Error", Failed),
            ("failed", Failed),
            ("Success", Succeeded),
            ("SUCCEED", Succeeded),
            ("Stopped", Stopped),
            ("InProgress", Running),
            ("running", Running),
            ("Scheduled", Pending),
            ("Pending", Pending),
            ("Unknown", Unrecognised),
            ("", Unrecognised),
        ] {
            assert_eq!(ReplicationStatus::classify(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn retention_succeeds_only_on_success() {
        assert_eq!(
            RetentionResult::classify("SUCCESS"),
            RetentionResult::Success
        );
        assert_eq!(
            RetentionResult::classify("success"),
            RetentionResult::Success
        );
        assert_eq!(
            RetentionResult::classify("FAILED"),
            RetentionResult::NotSuccess
        );
    }

    #[test]
    fn endpoint_identity_drops_scheme_and_trailing_slash() {
        let end = ReplicationEnd {
            endpoint: Some("https://hub.docker.com/".into()),
            registry_name: Some("docker hub".into()),
            ..ReplicationEnd::default()
        };
        assert_eq!(end.identity(), "hub.docker.com");
        assert_eq!(end.registry(), Some("docker hub"));
    }
}
