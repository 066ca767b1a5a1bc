//! Event type names: the canonical type, and one table of names per wire format.
//!
//! Each table is the only place its format's names are written; parsing and the aliases that
//! rules match against are both derived from them.

use std::fmt;

/// Canonical event type: the Harbor 2.x Default name. Unknown types are [`EventType::Other`]
/// (the event keeps the name it came with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// Any other type inside a recognised envelope.
    Other,
}

use EventType::*;

/// Harbor 2.x Default names, which are also the canonical names.
const DEFAULT: &[(&str, EventType)] = &[
    ("PUSH_ARTIFACT", PushArtifact),
    ("PULL_ARTIFACT", PullArtifact),
    ("DELETE_ARTIFACT", DeleteArtifact),
    ("UPLOAD_CHART", UploadChart),
    ("DOWNLOAD_CHART", DownloadChart),
    ("DELETE_CHART", DeleteChart),
    ("SCANNING_COMPLETED", ScanningCompleted),
    ("SCANNING_FAILED", ScanningFailed),
    ("SCANNING_STOPPED", ScanningStopped),
    ("QUOTA_EXCEED", QuotaExceed),
    ("QUOTA_WARNING", QuotaWarning),
    ("REPLICATION", Replication),
    ("TAG_RETENTION", TagRetention),
];

/// Harbor 1.9/1.10 camelCase names. `projectQuota` is [`LEGACY_QUOTA`]: its type depends on the
/// event's details.
const LEGACY: &[(&str, EventType)] = &[
    ("pushImage", PushArtifact),
    ("pullImage", PullArtifact),
    ("deleteImage", DeleteArtifact),
    ("uploadChart", UploadChart),
    ("downloadChart", DownloadChart),
    ("deleteChart", DeleteChart),
    ("scanningCompleted", ScanningCompleted),
    ("scanningFailed", ScanningFailed),
];

/// Harbor 1.x's one quota event: `QUOTA_EXCEED` when its details say "exceed", else
/// `QUOTA_WARNING` (docs/SPEC.md section 5).
pub const LEGACY_QUOTA: &str = "projectQuota";

/// Harbor 2.8+ CloudEvents `type`s.
const CLOUDEVENTS: &[(&str, EventType)] = &[
    ("harbor.artifact.pushed", PushArtifact),
    ("harbor.artifact.pulled", PullArtifact),
    ("harbor.artifact.deleted", DeleteArtifact),
    ("harbor.scan.completed", ScanningCompleted),
    ("harbor.scan.failed", ScanningFailed),
    ("harbor.scan.stopped", ScanningStopped),
    ("harbor.quota.exceeded", QuotaExceed),
    ("harbor.quota.warned", QuotaWarning),
    ("harbor.replication.status.changed", Replication),
    ("harbor.tag_retention.finished", TagRetention),
];

/// MSR 3 / DTR names (docs/SPEC.md section 5, item 6); the others are kept as given.
const MSR3: &[(&str, EventType)] = &[
    ("TAG_PUSH", PushArtifact),
    ("MANIFEST_PUSH", PushArtifact),
    ("TAG_PULL", PullArtifact),
    ("MANIFEST_PULL", PullArtifact),
    ("TAG_DELETE", DeleteArtifact),
    ("MANIFEST_DELETE", DeleteArtifact),
    ("SCAN_COMPLETED", ScanningCompleted),
    ("SCAN_FAILED", ScanningFailed),
    ("CHART_PUSH", UploadChart),
    ("CHART_PULL", DownloadChart),
    ("CHART_DELETE", DeleteChart),
    ("SCANNER_UPDATE_COMPLETED", ScannerUpdateCompleted),
];

fn lookup(table: &[(&str, EventType)], name: &str) -> EventType {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(Other, |(_, t)| *t)
}

impl EventType {
    /// The canonical name; `None` for [`EventType::Other`], whose name is the one received.
    /// Harbor has no scanner-update event, so that type's canonical name is MSR 3's.
    pub fn canonical_name(self) -> Option<&'static str> {
        let table = if self == ScannerUpdateCompleted {
            MSR3
        } else {
            DEFAULT
        };
        table.iter().find(|(_, t)| *t == self).map(|(n, _)| *n)
    }

    /// A type in Harbor's Default envelope: 2.x names, or 1.9/1.10 camelCase ones (except
    /// [`LEGACY_QUOTA`], which the parser decides).
    pub fn from_default_name(name: &str) -> Self {
        match lookup(DEFAULT, name) {
            Other => lookup(LEGACY, name),
            known => known,
        }
    }

    /// True for Harbor 1.x camelCase names.
    pub fn is_legacy_name(name: &str) -> bool {
        name == LEGACY_QUOTA || LEGACY.iter().any(|(n, _)| *n == name)
    }

    pub fn from_cloudevents_name(name: &str) -> Self {
        lookup(CLOUDEVENTS, name)
    }

    pub fn from_msr3_name(name: &str) -> Self {
        lookup(MSR3, name)
    }

    /// The names this type goes by besides the canonical one (CloudEvents, Harbor 1.x), so a
    /// rule written with any of them matches.
    pub fn aliases(self) -> impl Iterator<Item = &'static str> {
        let quota = matches!(self, QuotaExceed | QuotaWarning).then_some(LEGACY_QUOTA);
        CLOUDEVENTS
            .iter()
            .chain(LEGACY)
            .filter(move |(_, t)| *t == self && self != Other)
            .map(|(n, _)| *n)
            .chain(quota)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.canonical_name().unwrap_or("OTHER"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_in_every_table_maps_back_to_its_type() {
        for (name, kind) in DEFAULT {
            assert_eq!(EventType::from_default_name(name), *kind);
            assert_eq!(kind.canonical_name(), Some(*name));
        }
        for (name, kind) in LEGACY {
            assert_eq!(EventType::from_default_name(name), *kind);
            assert!(kind.aliases().any(|a| a == *name), "{name}");
        }
        for (name, kind) in CLOUDEVENTS {
            assert_eq!(EventType::from_cloudevents_name(name), *kind);
            assert!(kind.aliases().any(|a| a == *name), "{name}");
        }
        for (name, kind) in MSR3 {
            assert_eq!(EventType::from_msr3_name(name), *kind);
        }
        assert_eq!(
            ScannerUpdateCompleted.canonical_name(),
            Some("SCANNER_UPDATE_COMPLETED")
        );
        assert_eq!(
            EventType::from_default_name("SCANNER_UPDATE_COMPLETED"),
            Other
        );
    }

    #[test]
    fn unknown_names_are_other_and_have_no_aliases() {
        assert_eq!(
            EventType::from_cloudevents_name("harbor.project.created"),
            Other
        );
        assert_eq!(EventType::from_default_name("PROJECT_CREATED"), Other);
        assert_eq!(Other.aliases().count(), 0);
        assert_eq!(Other.canonical_name(), None);
    }

    #[test]
    fn both_quota_types_answer_to_the_legacy_name() {
        assert!(QuotaExceed.aliases().any(|a| a == LEGACY_QUOTA));
        assert!(QuotaWarning.aliases().any(|a| a == LEGACY_QUOTA));
        assert!(!PushArtifact.aliases().any(|a| a == LEGACY_QUOTA));
    }
}
