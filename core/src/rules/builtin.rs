//! The built-in rules (SPEC section 7): what happens to an event no user rule matches.

use crate::event::{Details, Event, EventType, ScanKind, ScanSeverity};
use crate::severity::Severity;

/// The built-in severity of an event; `None` means drop it.
pub fn severity(event: &Event) -> Option<Severity> {
    match &event.kind {
        EventType::PushArtifact
        | EventType::DeleteArtifact
        | EventType::UploadChart
        | EventType::DeleteChart => Some(Severity::Info),
        EventType::PullArtifact | EventType::DownloadChart => None,
        EventType::ScanningCompleted => scan_completed(event),
        EventType::ScanningFailed => Some(Severity::Warning),
        EventType::ScanningStopped => Some(Severity::Info),
        EventType::QuotaWarning => Some(Severity::Warning),
        EventType::QuotaExceed => Some(Severity::Critical),
        EventType::Replication => replication(event.status().unwrap_or("")),
        EventType::TagRetention => match event.status() {
            Some(result) if result.eq_ignore_ascii_case("SUCCESS") => Some(Severity::Info),
            _ => Some(Severity::Warning),
        },
        EventType::ScannerUpdateCompleted => match &event.details {
            Details::ScannerUpdate(update) if update.success == Some(false) => {
                Some(Severity::Warning)
            }
            _ => None,
        },
        EventType::Other(_) => Some(Severity::Info),
    }
}

/// Critical findings page; High warns; anything lower means the artifact is healthy, which
/// resolves an earlier alert on the same key. SBOM scans and Scan All without an overview say
/// nothing about vulnerabilities and are dropped.
fn scan_completed(event: &Event) -> Option<Severity> {
    if let Details::Scan(scan) = &event.details
        && scan.kind == ScanKind::Sbom
    {
        return None;
    }
    let overall = event.vulnerability_report()?.overall_severity()?;
    Some(match overall {
        ScanSeverity::Critical => Severity::Critical,
        ScanSeverity::High => Severity::Warning,
        _ => Severity::Ok,
    })
}

fn replication(status: &str) -> Option<Severity> {
    const CRITICAL: [&str; 2] = ["Error", "Failed"];
    const OK: [&str; 2] = ["Success", "Succeed"];
    const QUIET: [&str; 4] = ["Running", "Pending", "InProgress", "Scheduled"];
    let is = |set: &[&str]| set.iter().any(|s| s.eq_ignore_ascii_case(status));
    if is(&CRITICAL) {
        Some(Severity::Critical)
    } else if is(&OK) {
        Some(Severity::Ok)
    } else if is(&QUIET) {
        None
    } else {
        // `Stopped`, and any status Harbor may add later: tell someone, quietly.
        Some(Severity::Info)
    }
}
