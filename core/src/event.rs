//! The canonical event: what every accepted payload format is reduced to.
//!
//! Parsers (`crate::payload`) produce it; rules and alert building consume it. Nothing here knows
//! about wire formats beyond the names an event type goes by.

use std::fmt;
use time::OffsetDateTime;

/// Canonical event type: the Harbor 2.x Default name. Unknown types are kept as received.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventType {
    PushArtifact,
    PullArtifact,
    DeleteArtifact,
    UploadChart,
    DownloadChart,
    DeleteChart,
    ScanningCompleted,
    ScanningFailed,
    ScanningStopped,
    QuotaExceed,
    QuotaWarning,
    Replication,
    TagRetention,
    /// MSR 3 only: the vulnerability database update finished.
    ScannerUpdateCompleted,
    /// Any other type inside a recognised envelope, as given.
    Other(String),
}

impl EventType {
    /// The Harbor 2.x Default name (or the received name for `Other`).
    pub fn as_str(&self) -> &str {
        match self {
            Self::PushArtifact => "PUSH_ARTIFACT",
            Self::PullArtifact => "PULL_ARTIFACT",
            Self::DeleteArtifact => "DELETE_ARTIFACT",
            Self::UploadChart => "UPLOAD_CHART",
            Self::DownloadChart => "DOWNLOAD_CHART",
            Self::DeleteChart => "DELETE_CHART",
            Self::ScanningCompleted => "SCANNING_COMPLETED",
            Self::ScanningFailed => "SCANNING_FAILED",
            Self::ScanningStopped => "SCANNING_STOPPED",
            Self::QuotaExceed => "QUOTA_EXCEED",
            Self::QuotaWarning => "QUOTA_WARNING",
            Self::Replication => "REPLICATION",
            Self::TagRetention => "TAG_RETENTION",
            Self::ScannerUpdateCompleted => "SCANNER_UPDATE_COMPLETED",
            Self::Other(name) => name,
        }
    }

    /// The type as Harbor 2.x names it in the Default format. Unknown names become `Other`.
    pub fn from_default_name(name: &str) -> Self {
        match name {
            "PUSH_ARTIFACT" => Self::PushArtifact,
            "PULL_ARTIFACT" => Self::PullArtifact,
            "DELETE_ARTIFACT" => Self::DeleteArtifact,
            "UPLOAD_CHART" => Self::UploadChart,
            "DOWNLOAD_CHART" => Self::DownloadChart,
            "DELETE_CHART" => Self::DeleteChart,
            "SCANNING_COMPLETED" => Self::ScanningCompleted,
            "SCANNING_FAILED" => Self::ScanningFailed,
            "SCANNING_STOPPED" => Self::ScanningStopped,
            "QUOTA_EXCEED" => Self::QuotaExceed,
            "QUOTA_WARNING" => Self::QuotaWarning,
            "REPLICATION" => Self::Replication,
            "TAG_RETENTION" => Self::TagRetention,
            other => Self::from_legacy_name(other).unwrap_or_else(|| Self::Other(other.to_owned())),
        }
    }

    /// Harbor 1.9/1.10 camelCase names. `projectQuota` is not here: its type depends on the
    /// event's details, so the parser decides it.
    fn from_legacy_name(name: &str) -> Option<Self> {
        Some(match name {
            "pushImage" => Self::PushArtifact,
            "pullImage" => Self::PullArtifact,
            "deleteImage" => Self::DeleteArtifact,
            "uploadChart" => Self::UploadChart,
            "downloadChart" => Self::DownloadChart,
            "deleteChart" => Self::DeleteChart,
            "scanningCompleted" => Self::ScanningCompleted,
            "scanningFailed" => Self::ScanningFailed,
            _ => return None,
        })
    }

    /// The CloudEvents `type` Harbor 2.8+ uses. Unknown names become `Other`.
    pub fn from_cloudevents_name(name: &str) -> Self {
        match name {
            "harbor.artifact.pushed" => Self::PushArtifact,
            "harbor.artifact.pulled" => Self::PullArtifact,
            "harbor.artifact.deleted" => Self::DeleteArtifact,
            "harbor.scan.completed" => Self::ScanningCompleted,
            "harbor.scan.failed" => Self::ScanningFailed,
            "harbor.scan.stopped" => Self::ScanningStopped,
            "harbor.quota.exceeded" => Self::QuotaExceed,
            "harbor.quota.warned" => Self::QuotaWarning,
            "harbor.replication.status.changed" => Self::Replication,
            "harbor.tag_retention.finished" => Self::TagRetention,
            other => Self::Other(other.to_owned()),
        }
    }

    /// MSR 3 / DTR types, mapped as SPEC section 5 item 6 says; the rest are kept as given.
    pub fn from_msr3_name(name: &str) -> Self {
        match name {
            "TAG_PUSH" | "MANIFEST_PUSH" => Self::PushArtifact,
            "TAG_PULL" | "MANIFEST_PULL" => Self::PullArtifact,
            "TAG_DELETE" | "MANIFEST_DELETE" => Self::DeleteArtifact,
            "SCAN_COMPLETED" => Self::ScanningCompleted,
            "SCAN_FAILED" => Self::ScanningFailed,
            "CHART_PUSH" => Self::UploadChart,
            "CHART_PULL" => Self::DownloadChart,
            "CHART_DELETE" => Self::DeleteChart,
            "SCANNER_UPDATE_COMPLETED" => Self::ScannerUpdateCompleted,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Every name this type goes by (canonical, CloudEvents, Harbor 1.x), for rule matching.
    pub fn aliases(&self) -> &'static [&'static str] {
        match self {
            Self::PushArtifact => &["harbor.artifact.pushed", "pushImage"],
            Self::PullArtifact => &["harbor.artifact.pulled", "pullImage"],
            Self::DeleteArtifact => &["harbor.artifact.deleted", "deleteImage"],
            Self::UploadChart => &["uploadChart"],
            Self::DownloadChart => &["downloadChart"],
            Self::DeleteChart => &["deleteChart"],
            Self::ScanningCompleted => &["harbor.scan.completed", "scanningCompleted"],
            Self::ScanningFailed => &["harbor.scan.failed", "scanningFailed"],
            Self::ScanningStopped => &["harbor.scan.stopped"],
            Self::QuotaExceed => &["harbor.quota.exceeded", "projectQuota"],
            Self::QuotaWarning => &["harbor.quota.warned", "projectQuota"],
            Self::Replication => &["harbor.replication.status.changed"],
            Self::TagRetention => &["harbor.tag_retention.finished"],
            Self::ScannerUpdateCompleted | Self::Other(_) => &[],
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// Vulnerability severity on Harbor's scale, ordered as rules compare it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScanSeverity {
    None,
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

impl ScanSeverity {
    pub const ALL: [ScanSeverity; 7] = [
        Self::None,
        Self::Unknown,
        Self::Negligible,
        Self::Low,
        Self::Medium,
        Self::High,
        Self::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Unknown => "Unknown",
            Self::Negligible => "Negligible",
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
            Self::Critical => "Critical",
        }
    }

    /// Parses a severity name, ignoring case (`"critical"` and `"Critical"` alike).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }

    /// Harbor 1.9 (Clair) integer severities.
    pub fn from_clair_code(code: i64) -> Option<Self> {
        Some(match code {
            1 => Self::Negligible,
            2 => Self::Unknown,
            3 => Self::Low,
            4 => Self::Medium,
            5 => Self::High,
            _ => return None,
        })
    }
}

impl fmt::Display for ScanSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Vulnerability counts by severity, with Harbor's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VulnCounts {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub negligible: u64,
    pub unknown: u64,
    pub total: u64,
    pub fixable: u64,
}

impl VulnCounts {
    pub fn get(&self, severity: ScanSeverity) -> u64 {
        match severity {
            ScanSeverity::Critical => self.critical,
            ScanSeverity::High => self.high,
            ScanSeverity::Medium => self.medium,
            ScanSeverity::Low => self.low,
            ScanSeverity::Negligible => self.negligible,
            ScanSeverity::Unknown => self.unknown,
            ScanSeverity::None => 0,
        }
    }

    pub fn add(&mut self, severity: ScanSeverity, n: u64) {
        let slot = match severity {
            ScanSeverity::Critical => &mut self.critical,
            ScanSeverity::High => &mut self.high,
            ScanSeverity::Medium => &mut self.medium,
            ScanSeverity::Low => &mut self.low,
            ScanSeverity::Negligible => &mut self.negligible,
            ScanSeverity::Unknown => &mut self.unknown,
            ScanSeverity::None => return,
        };
        *slot = slot.saturating_add(n);
    }

    /// The highest severity with a non-zero count; `None` when nothing was found.
    pub fn highest(&self) -> ScanSeverity {
        ScanSeverity::ALL
            .into_iter()
            .rev()
            .find(|s| self.get(*s) > 0)
            .unwrap_or(ScanSeverity::None)
    }
}

/// What kind of scan a scan event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanKind {
    Vulnerability,
    Sbom,
    /// Harbor's Scan All sends `"scan": {}` and no overview: nothing says what ran.
    Unspecified,
}

/// The one vulnerability report that counts for an event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VulnReport {
    /// `scan_status` as reported (`Success`, `Error`, `Stopped`, `finished`, ...).
    pub status: Option<String>,
    /// The report's own `severity` field, used only when counts are missing.
    pub reported_severity: Option<ScanSeverity>,
    pub counts: Option<VulnCounts>,
    /// Scanner as `name version`.
    pub scanner: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

impl VulnReport {
    /// Highest severity with a non-zero count; the report's `severity` where counts are missing.
    pub fn overall_severity(&self) -> Option<ScanSeverity> {
        match &self.counts {
            Some(counts) => Some(counts.highest()),
            None => self.reported_severity,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    pub kind: ScanKind,
    pub report: Option<VulnReport>,
    /// MSR 3 `SCAN_FAILED` carries an error text.
    pub error: Option<String>,
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

    /// Stable identity for alert keys: the endpoint, else the registry name.
    pub fn identity(&self) -> &str {
        self.endpoint
            .as_deref()
            .map(host_and_path_of_url)
            .or(self.registry_name.as_deref())
            .unwrap_or("")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Replication {
    pub status: String,
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

#[derive(Debug, Clone, PartialEq)]
pub struct Retention {
    pub policy_id: Option<i64>,
    pub total: u64,
    pub retained: u64,
    pub deleted: Vec<String>,
    pub result: Option<String>,
    pub rule_templates: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScannerUpdate {
    pub success: Option<bool>,
    pub scanner_version: Option<String>,
    pub db_version: Option<String>,
}

/// Facts specific to each family of events.
#[derive(Debug, Clone, PartialEq)]
pub enum Details {
    /// Push, pull, delete and chart events: the common fields say it all.
    Artifact,
    Scan(Scan),
    Quota {
        details: Option<String>,
    },
    Replication(Replication),
    Retention(Retention),
    ScannerUpdate(ScannerUpdate),
    /// Unknown type: a digest of the event data identifies it.
    Other {
        data_digest: String,
    },
}

/// One Harbor (or MSR 3) event, whatever format it came in.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventType,
    pub registry: Registry,
    pub format: Format,
    /// The type string exactly as received (`pushImage`, `harbor.scan.completed`, `TAG_PUSH`).
    pub wire_type: String,
    pub occurred_at: Option<OffsetDateTime>,
    /// `None` for anonymous (Harbor sends `""`).
    pub operator: Option<String>,
    pub project: Option<String>,
    /// `project/name`.
    pub repository: Option<String>,
    /// A real tag; a digest sent in `tag` is moved to `digest`.
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// Host and port as in `resource_url`, or the replication/retention `harbor_hostname`.
    pub harbor_host: Option<String>,
    /// An `https://` link to the artifact or the registry.
    pub link: Option<String>,
    /// Every resource the event lists (`repo:tag` or `repo@digest`), for the description.
    pub resources: Vec<String>,
    pub details: Details,
}

impl Event {
    /// The `status` a rule can match: replication job status, scan status, retention result.
    pub fn status(&self) -> Option<&str> {
        match &self.details {
            Details::Replication(r) => Some(r.status.as_str()),
            Details::Scan(scan) => scan.report.as_ref().and_then(|r| r.status.as_deref()),
            Details::Retention(r) => r.result.as_deref(),
            Details::ScannerUpdate(u) => u.success.map(|ok| if ok { "Success" } else { "Error" }),
            _ => None,
        }
    }

    /// The successful vulnerability report of a completed scan, if this is one.
    pub fn vulnerability_report(&self) -> Option<&VulnReport> {
        if self.kind != EventType::ScanningCompleted {
            return None;
        }
        match &self.details {
            Details::Scan(Scan {
                kind: ScanKind::Vulnerability | ScanKind::Unspecified,
                report: Some(report),
                ..
            }) if report.overall_severity().is_some() => Some(report),
            _ => None,
        }
    }

    /// `repo:tag`, `repo@digest` or `repo`: how titles name the artifact.
    pub fn artifact_ref(&self) -> Option<String> {
        let repo = self.repository.as_deref()?;
        Some(match (&self.tag, &self.digest) {
            (Some(tag), _) => format!("{repo}:{tag}"),
            (None, Some(digest)) => format!("{repo}@{}", short_digest(digest)),
            (None, None) => repo.to_owned(),
        })
    }
}

/// `sha256:0123456789ab`: enough of a digest for a human to recognise it.
pub fn short_digest(digest: &str) -> &str {
    // By characters: a hostile "digest" need not be ASCII.
    match digest
        .split_once(':')
        .and_then(|(algo, hex)| Some((algo, hex.char_indices().nth(12)?)))
    {
        Some((algo, (end, _))) => &digest[..algo.len() + 1 + end],
        None => digest,
    }
}

/// True for `algo:hex` references such as `sha256:...`, which Harbor sometimes puts in `tag`.
pub fn is_digest(reference: &str) -> bool {
    match reference.split_once(':') {
        Some((algo, hex)) => {
            !algo.is_empty()
                && algo.bytes().all(|b| b.is_ascii_alphanumeric())
                && hex.len() >= 32
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => false,
    }
}

/// `https://host:port/path` -> `host:port`.
pub fn host_of_url(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// `https://host/path/` -> `host/path`: an endpoint without scheme or trailing slash.
fn host_and_path_of_url(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_as_rules_compare_them() {
        assert!(ScanSeverity::None < ScanSeverity::Unknown);
        assert!(ScanSeverity::Unknown < ScanSeverity::Negligible);
        assert!(ScanSeverity::Negligible < ScanSeverity::Low);
        assert!(ScanSeverity::High < ScanSeverity::Critical);
        assert_eq!(ScanSeverity::parse("medium"), Some(ScanSeverity::Medium));
        assert_eq!(ScanSeverity::parse("bogus"), None);
    }

    #[test]
    fn highest_count_wins_and_zero_counts_are_none() {
        let mut counts = VulnCounts::default();
        assert_eq!(counts.highest(), ScanSeverity::None);
        counts.add(ScanSeverity::Unknown, 3);
        assert_eq!(counts.highest(), ScanSeverity::Unknown);
        counts.add(ScanSeverity::High, 1);
        assert_eq!(counts.highest(), ScanSeverity::High);
    }

    #[test]
    fn digests_are_recognised_and_shortened() {
        let d = "sha256:279de0f302447ee788ec20612facf44e4ec21f48ce7456f300d52667f319bd8c";
        assert!(is_digest(d));
        assert!(!is_digest("v2.7.1"));
        assert!(!is_digest("1.0:beta"));
        assert_eq!(short_digest(d), "sha256:279de0f30244");
        assert_eq!(
            short_digest("sha256:文文文文文文文文文文文文文文"),
            "sha256:文文文文文文文文文文文文"
        );
        assert_eq!(short_digest("sha256:abc"), "sha256:abc");
    }

    #[test]
    fn every_known_type_round_trips_through_its_names() {
        for name in [
            "PUSH_ARTIFACT",
            "PULL_ARTIFACT",
            "DELETE_ARTIFACT",
            "UPLOAD_CHART",
            "DOWNLOAD_CHART",
            "DELETE_CHART",
            "SCANNING_COMPLETED",
            "SCANNING_FAILED",
            "SCANNING_STOPPED",
            "QUOTA_EXCEED",
            "QUOTA_WARNING",
            "REPLICATION",
            "TAG_RETENTION",
        ] {
            let kind = EventType::from_default_name(name);
            assert_eq!(kind.as_str(), name);
            for alias in kind.aliases() {
                if alias.starts_with("harbor.") {
                    assert_eq!(EventType::from_cloudevents_name(alias), kind);
                } else if *alias != "projectQuota" {
                    assert_eq!(EventType::from_default_name(alias), kind);
                }
            }
        }
        assert_eq!(
            EventType::from_cloudevents_name("harbor.project.created"),
            EventType::Other("harbor.project.created".into())
        );
    }

    #[test]
    fn hosts_come_out_of_urls() {
        assert_eq!(
            host_of_url("https://harbor.example.com:8443/x"),
            "harbor.example.com:8443"
        );
        assert_eq!(
            host_of_url("harbor.example.com/payments/api:v1"),
            "harbor.example.com"
        );
    }
}
