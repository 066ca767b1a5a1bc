//! The alert title: what happened and to what, e.g.
//! `Harbor: 2 critical, 9 high vulnerabilities in payments/api:v2.7.1`.

use crate::event::{
    ArtifactAction, ChartAction, Event, Family, QuotaLevel, ReplicationStatus, RetentionResult,
    ScanKind, ScanOutcome, ScanSeverity, VulnCounts,
};

pub fn title(event: &Event) -> String {
    let what = event.artifact_ref(true).map(|r| r.to_string());
    let subject = what
        .as_deref()
        .or(event.project())
        .unwrap_or("an unknown artifact");
    let project = event.project().unwrap_or("(unknown project)");
    let text = match &event.family {
        Family::Scan(scan) => match (scan.outcome, scan.kind) {
            (ScanOutcome::Completed, ScanKind::Sbom) => format!("SBOM generated for {subject}"),
            (ScanOutcome::Completed, _) => match scan.vulnerability_report() {
                Some(report) => match &report.counts {
                    Some(counts) => vulnerability_title(counts, subject),
                    None => match report.overall_severity() {
                        Some(ScanSeverity::None) | None => {
                            format!("no vulnerabilities in {subject}")
                        }
                        Some(s) => format!("vulnerabilities up to {s} in {subject}"),
                    },
                },
                None => format!("scan completed for {subject}"),
            },
            (ScanOutcome::Failed, kind) => format!("{} failed for {subject}", scan_noun(kind)),
            (ScanOutcome::Stopped, kind) => format!("{} stopped for {subject}", scan_noun(kind)),
        },
        Family::Quota(quota) => match (quota.level, &what) {
            (QuotaLevel::Exceeded, Some(artifact)) if event.tag().or(event.digest()).is_some() => {
                format!("storage quota exceeded in project {project} (push of {artifact} refused)")
            }
            (QuotaLevel::Exceeded, Some(repository)) => format!(
                "storage quota exceeded in project {project} (upload to {repository} refused)"
            ),
            (QuotaLevel::Exceeded, None) => format!("storage quota exceeded in project {project}"),
            (QuotaLevel::Warning, Some(artifact)) => format!(
                "storage quota of project {project} is nearly used up (after push of {artifact})"
            ),
            (QuotaLevel::Warning, None) => {
                format!("storage quota of project {project} is nearly used up")
            }
        },
        Family::Replication(r) => {
            let verb = match r.status.kind {
                ReplicationStatus::Failed => "failed".to_owned(),
                ReplicationStatus::Succeeded => "succeeded".to_owned(),
                ReplicationStatus::Stopped => "stopped".to_owned(),
                ReplicationStatus::Running => "running".to_owned(),
                ReplicationStatus::Pending => "pending".to_owned(),
                ReplicationStatus::Unrecognised => format!("is {}", r.status.raw),
            };
            let from = end_name(r.src.registry(), r.src.namespace.as_deref());
            let to = end_name(r.dest.registry(), r.dest.namespace.as_deref());
            match event
                .repository()
                .map(|r| r.as_str())
                .or(r.resource.as_deref())
            {
                Some(name) => format!("replication of {name} {verb}: {from} → {to}"),
                None => format!("replication {verb}: {from} → {to}"),
            }
        }
        Family::Retention(r) => {
            let n = r.deleted.len();
            let place = event.repository().map_or(project, |r| r.as_str());
            match &r.result {
                Some(result) if result.kind == RetentionResult::NotSuccess => {
                    format!(
                        "tag retention run ended {} in {place} ({n} deleted)",
                        result.raw
                    )
                }
                _ => format!(
                    "tag retention deleted {n} {} in {place}",
                    plural(n as u64, "artifact", "artifacts")
                ),
            }
        }
        Family::Artifact(ArtifactAction::Pushed) => format!("pushed {subject}"),
        Family::Artifact(ArtifactAction::Pulled) => format!("pulled {subject}"),
        Family::Artifact(ArtifactAction::Deleted) => format!("deleted {subject}"),
        Family::Chart(ChartAction::Uploaded) => format!("chart uploaded: {subject}"),
        Family::Chart(ChartAction::Downloaded) => format!("chart downloaded: {subject}"),
        Family::Chart(ChartAction::Deleted) => format!("chart deleted: {subject}"),
        Family::ScannerUpdate(u) => {
            let scanner = u
                .scanner_version
                .as_deref()
                .map(|v| format!(" (scanner {v})"))
                .unwrap_or_default();
            match u.success {
                Some(false) => format!("vulnerability database update failed{scanner}"),
                _ => format!("vulnerability database updated{scanner}"),
            }
        }
        Family::Other { .. } => {
            let name = event.type_name();
            match (&what, event.project()) {
                (Some(artifact), _) => format!("{name} event for {artifact}"),
                (None, Some(project)) => format!("{name} event in project {project}"),
                (None, None) => format!("{name} event"),
            }
        }
    };
    format!("{}: {text}", event.origin.registry.display_name())
}

fn scan_noun(kind: ScanKind) -> &'static str {
    match kind {
        ScanKind::Sbom => "SBOM generation",
        _ => "vulnerability scan",
    }
}

pub(super) fn vulnerability_title(counts: &VulnCounts, subject: &str) -> String {
    let serious: Vec<String> = [(counts.critical, "critical"), (counts.high, "high")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| format!("{n} {name}"))
        .collect();
    if !serious.is_empty() {
        let n = counts.critical + counts.high;
        return format!(
            "{} {} in {subject}",
            serious.join(", "),
            plural(n, "vulnerability", "vulnerabilities")
        );
    }
    let minor = count_list(
        counts,
        &[
            ScanSeverity::Medium,
            ScanSeverity::Low,
            ScanSeverity::Negligible,
            ScanSeverity::Unknown,
        ],
    );
    if minor.is_empty() {
        format!("no vulnerabilities in {subject}")
    } else {
        format!("no critical or high vulnerabilities in {subject} ({minor})")
    }
}

/// `2 medium, 1 low`.
pub(super) fn count_list(counts: &VulnCounts, severities: &[ScanSeverity]) -> String {
    severities
        .iter()
        .filter(|s| counts.get(**s) > 0)
        .map(|s| format!("{} {}", counts.get(*s), s.as_str().to_ascii_lowercase()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// `registry/namespace`, or whichever of the two is known.
pub(super) fn end_name(registry: Option<&str>, namespace: Option<&str>) -> String {
    match (registry, namespace) {
        (Some(r), Some(ns)) => format!("{r}/{ns}"),
        (Some(r), None) => r.to_owned(),
        (None, Some(ns)) => ns.to_owned(),
        (None, None) => "(unknown)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_count_serious_findings() {
        let mut c = VulnCounts::default();
        assert_eq!(vulnerability_title(&c, "a:1"), "no vulnerabilities in a:1");
        c.add(ScanSeverity::Medium, 2);
        assert_eq!(
            vulnerability_title(&c, "a:1"),
            "no critical or high vulnerabilities in a:1 (2 medium)"
        );
        c.add(ScanSeverity::High, 1);
        assert_eq!(
            vulnerability_title(&c, "a:1"),
            "1 high vulnerability in a:1"
        );
        c.add(ScanSeverity::Critical, 2);
        assert_eq!(
            vulnerability_title(&c, "a:1"),
            "2 critical, 1 high vulnerabilities in a:1"
        );
    }
}
