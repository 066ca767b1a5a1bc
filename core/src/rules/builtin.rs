//! The built-in rules (docs/SPEC.md section 7): what happens to an event no user rule matches.

use crate::event::{
    ArtifactAction, ChartAction, Event, Family, QuotaLevel, ReplicationStatus, RetentionResult,
    ScanKind, ScanOutcome, ScanSeverity,
};
use crate::severity::Severity;

/// The built-in severity of an event; `None` means drop it.
pub fn severity(event: &Event) -> Option<Severity> {
    match &event.family {
        Family::Artifact(ArtifactAction::Pushed | ArtifactAction::Deleted)
        | Family::Chart(ChartAction::Uploaded | ChartAction::Deleted) => Some(Severity::Info),
        Family::Artifact(ArtifactAction::Pulled) | Family::Chart(ChartAction::Downloaded) => None,
        Family::Scan(scan) => match scan.outcome {
            ScanOutcome::Completed if scan.kind == ScanKind::Sbom => None,
            ScanOutcome::Completed => scan_completed(event),
            ScanOutcome::Failed => Some(Severity::Warning),
            ScanOutcome::Stopped => Some(Severity::Info),
        },
        Family::Quota(quota) => Some(match quota.level {
            QuotaLevel::Warning => Severity::Warning,
            QuotaLevel::Exceeded => Severity::Critical,
        }),
        Family::Replication(r) => match r.status.kind {
            ReplicationStatus::Failed => Some(Severity::Critical),
            ReplicationStatus::Succeeded => Some(Severity::Ok),
            ReplicationStatus::Running | ReplicationStatus::Pending => None,
            // `Stopped`, and any status Harbor may add later: tell someone, quietly.
            ReplicationStatus::Stopped | ReplicationStatus::Unrecognised => Some(Severity::Info),
        },
        Family::Retention(r) => match r.result.as_ref().map(|s| s.kind) {
            Some(RetentionResult::Success) => Some(Severity::Info),
            _ => Some(Severity::Warning),
        },
        Family::ScannerUpdate(update) if update.success == Some(false) => Some(Severity::Warning),
        Family::ScannerUpdate(_) => None,
        Family::Other { .. } => Some(Severity::Info),
    }
}

/// Critical findings page; High warns; anything lower means the artifact is healthy, which
/// resolves an earlier alert on the same key. Scan All without an overview says nothing about
/// vulnerabilities and is dropped.
fn scan_completed(event: &Event) -> Option<Severity> {
    let overall = event.vulnerability_report()?.overall_severity()?;
    Some(match overall {
        ScanSeverity::Critical => Severity::Critical,
        ScanSeverity::High => Severity::Warning,
        _ => Severity::Ok,
    })
}
