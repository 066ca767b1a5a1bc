//! The canonical event: what every accepted payload format is reduced to.
//!
//! Parsers (`crate::payload`) build it once, with one constructor per family; rules and alert
//! building read it. Nothing here knows about wire formats beyond the names of event types.

mod artifact;
mod family;
mod names;
mod scan;

pub use artifact::{
    ArtifactRef, Reference, Repository, host_of_url, is_digest, is_present, short_digest,
};
pub use family::{
    ArtifactAction, ChartAction, Family, Quota, QuotaLevel, Replication, ReplicationEnd,
    ReplicationStatus, Retention, RetentionResult, ScannerUpdate, Status,
};
pub use names::{EventType, LEGACY_QUOTA};
pub use scan::{Scan, ScanKind, ScanOutcome, ScanSeverity, VulnCounts, VulnReport};

use time::OffsetDateTime;

/// Which registry family sent the event; shows in titles and the `source` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registry {
    Harbor,
    Msr3,
}

impl Registry {
    pub fn label(self) -> &'static str {
        match self {
            Self::Harbor => "harbor",
            Self::Msr3 => "msr3",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Self::Harbor => "Harbor",
            Self::Msr3 => "MSR",
        }
    }
}

/// The wire format an event came in; reported in descriptions and logs, never used for keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Default,
    CloudEvents,
    /// Harbor 1.9/1.10 camelCase types in the Default envelope.
    Legacy,
    /// The `{event_type, events}` envelope printed in Harbor 1.9's documentation.
    DocsEnvelope,
    Msr3,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "Default",
            Self::CloudEvents => "CloudEvents",
            Self::Legacy => "Harbor 1.x",
            Self::DocsEnvelope => "Harbor 1.9 docs envelope",
            Self::Msr3 => "MSR 3",
        }
    }
}

/// Where an event came from and how: the same for every event of one envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    pub registry: Registry,
    pub format: Format,
    /// The type string exactly as received (`pushImage`, `harbor.scan.completed`, `TAG_PUSH`).
    pub wire_type: String,
    pub occurred_at: Option<OffsetDateTime>,
    /// `None` for anonymous (Harbor sends `""`).
    pub operator: Option<String>,
}

/// What an event is about: where, which artifact, and how to reach it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subject {
    pub project: Option<String>,
    pub repository: Option<Repository>,
    pub reference: Reference,
    /// Host and port as in `resource_url`, or the replication/retention `harbor_hostname`.
    pub harbor_host: Option<String>,
    /// An `https://` link to the artifact or the registry.
    pub link: Option<String>,
    /// Every resource the event lists (`repo:tag` or `repo@digest`), for the description.
    pub resources: Vec<String>,
}

/// One Harbor (or MSR 3) event, whatever format it came in.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub origin: Origin,
    pub subject: Subject,
    pub family: Family,
}

impl Event {
    pub fn new(origin: Origin, subject: Subject, family: Family) -> Self {
        Self {
            origin,
            subject,
            family,
        }
    }

    pub fn event_type(&self) -> EventType {
        self.family.event_type()
    }

    /// The canonical type name, or the name received for a type the function does not know.
    pub fn type_name(&self) -> &str {
        self.event_type()
            .canonical_name()
            .unwrap_or(&self.origin.wire_type)
    }

    pub fn project(&self) -> Option<&str> {
        self.subject.project.as_deref()
    }

    pub fn repository(&self) -> Option<&Repository> {
        self.subject.repository.as_ref()
    }

    pub fn tag(&self) -> Option<&str> {
        self.subject.reference.tag()
    }

    pub fn digest(&self) -> Option<&str> {
        self.subject.reference.digest()
    }

    /// `repo:tag`, `repo@digest` (digest shortened when `short_digest`) or `repo`.
    pub fn artifact_ref(&self, short_digest: bool) -> Option<ArtifactRef<'_>> {
        Some(ArtifactRef {
            repository: self.subject.repository.as_ref()?,
            reference: &self.subject.reference,
            short_digest,
        })
    }

    /// The `status` a rule can match: replication job status, scan status, retention result.
    pub fn status(&self) -> Option<&str> {
        match &self.family {
            Family::Replication(r) => Some(r.status.raw.as_str()),
            Family::Scan(scan) => scan.report.as_ref().and_then(|r| r.status.as_deref()),
            Family::Retention(r) => r.result.as_ref().map(|s| s.raw.as_str()),
            Family::ScannerUpdate(u) => u.success.map(|ok| if ok { "Success" } else { "Error" }),
            _ => None,
        }
    }

    /// The report of a completed vulnerability scan, if this is one.
    pub fn vulnerability_report(&self) -> Option<&VulnReport> {
        match &self.family {
            Family::Scan(scan) => scan.vulnerability_report(),
            _ => None,
        }
    }
}
