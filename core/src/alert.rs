//! The Flashduty standard alert built from an event and a rules decision (SPEC section 6).
//!
//! Limits are Flashduty's, enforced here by cutting (never by rejecting): lengths are counted
//! in bytes, which also keeps them within the documented character limits.

use crate::event::{Details, Event, EventType, ScanKind, ScanSeverity, VulnCounts};
use crate::rules::{Decision, Rules};
use crate::severity::Severity;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use time::format_description::well_known::Rfc3339;

pub const MAX_ALERT_KEY: usize = 255;
pub const MAX_TITLE: usize = 512;
pub const MAX_DESCRIPTION: usize = 2048;
pub const MAX_LABELS: usize = 50;
pub const MAX_LABEL_KEY: usize = 128;
pub const MAX_LABEL_VALUE: usize = 2048;

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

// ---------------------------------------------------------------------------------------------
// Alert key

/// Deterministic identity (SPEC section 6): the same for Default, CloudEvents and legacy forms
/// of one event; `occur_at` and the operator only count where the table says so.
pub fn alert_key(event: &Event) -> String {
    let artifact = || {
        let reference = event.tag.as_deref().or(event.digest.as_deref());
        vec![opt(&event.repository), opt_str(reference)]
    };
    let (family, fields): (&str, Vec<String>) = match &event.kind {
        EventType::ScanningCompleted => {
            let family = match &event.details {
                _ if event.vulnerability_report().is_some() => "scan",
                Details::Scan(scan) if scan.kind == ScanKind::Sbom => "sbom",
                _ => "scan-completed",
            };
            (family, artifact())
        }
        EventType::ScanningFailed | EventType::ScanningStopped => ("scan-failure", artifact()),
        EventType::QuotaWarning | EventType::QuotaExceed => ("quota", vec![opt(&event.project)]),
        EventType::Replication => match &event.details {
            Details::Replication(r) => (
                "replication",
                vec![
                    r.src.identity().to_owned(),
                    opt(&r.src.namespace),
                    r.dest.identity().to_owned(),
                    opt(&r.dest.namespace),
                    opt(&event.repository),
                ],
            ),
            _ => ("replication", vec![opt(&event.repository)]),
        },
        EventType::PushArtifact | EventType::PullArtifact | EventType::DeleteArtifact => {
            let reference = event.digest.as_deref().or(event.tag.as_deref());
            (
                event.kind.as_str(),
                vec![opt(&event.repository), opt_str(reference)],
            )
        }
        EventType::UploadChart | EventType::DownloadChart | EventType::DeleteChart => {
            (event.kind.as_str(), artifact())
        }
        EventType::TagRetention => {
            let policy = match &event.details {
                Details::Retention(r) => r.policy_id.map(|id| id.to_string()),
                _ => None,
            };
            (
                "retention",
                vec![
                    opt(&policy),
                    opt(&event.project),
                    opt(&event.repository),
                    time_field(event),
                ],
            )
        }
        EventType::ScannerUpdateCompleted => ("scanner-update", vec![opt(&event.harbor_host)]),
        EventType::Other(name) => {
            let data = match &event.details {
                Details::Other { data_digest } => data_digest.clone(),
                _ => "-".to_owned(),
            };
            (name.as_str(), vec![time_field(event), data])
        }
    };
    let key = format!("harbor|{family}|{}", fields.join("|"));
    if key.len() <= MAX_ALERT_KEY {
        return key;
    }
    // Too long to send as is: keep the family readable and hash the identity.
    let hash: String = Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("harbor|{}|sha256:{hash}", truncate(family.to_owned(), 64))
}

fn opt(value: &Option<String>) -> String {
    opt_str(value.as_deref())
}

fn opt_str(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

fn time_field(event: &Event) -> String {
    event
        .occurred_at
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "-".to_owned())
}

// ---------------------------------------------------------------------------------------------
// Title

/// What happened and to what, e.g. `Harbor: 2 critical, 9 high vulnerabilities in payments/api:v2.7.1`.
pub fn title(event: &Event) -> String {
    let what = event.artifact_ref();
    let subject = what
        .as_deref()
        .or(event.repository.as_deref())
        .or(event.project.as_deref())
        .unwrap_or("an unknown artifact");
    let project = event.project.as_deref().unwrap_or("(unknown project)");
    let text = match (&event.kind, &event.details) {
        (EventType::ScanningCompleted, Details::Scan(scan)) => {
            match (scan.kind, event.vulnerability_report()) {
                (ScanKind::Sbom, _) => format!("SBOM generated for {subject}"),
                (_, Some(report)) => match &report.counts {
                    Some(counts) => vulnerability_title(counts, subject),
                    None => match report.overall_severity() {
                        Some(ScanSeverity::None) | None => {
                            format!("no vulnerabilities in {subject}")
                        }
                        Some(s) => format!("vulnerabilities up to {s} in {subject}"),
                    },
                },
                _ => format!("scan completed for {subject}"),
            }
        }
        (EventType::ScanningFailed, Details::Scan(scan)) => {
            format!("{} failed for {subject}", scan_noun(scan.kind))
        }
        (EventType::ScanningStopped, Details::Scan(scan)) => {
            format!("{} stopped for {subject}", scan_noun(scan.kind))
        }
        (EventType::ScanningFailed, _) => format!("scan failed for {subject}"),
        (EventType::ScanningStopped, _) => format!("scan stopped for {subject}"),
        (EventType::ScanningCompleted, _) => format!("scan completed for {subject}"),
        (EventType::QuotaExceed, _) => match (&what, event.tag.is_some() || event.digest.is_some())
        {
            (Some(artifact), true) => {
                format!("storage quota exceeded in project {project} (push of {artifact} refused)")
            }
            (Some(repository), false) => {
                format!(
                    "storage quota exceeded in project {project} (upload to {repository} refused)"
                )
            }
            (None, _) => format!("storage quota exceeded in project {project}"),
        },
        (EventType::QuotaWarning, _) => match &what {
            Some(artifact) => format!(
                "storage quota of project {project} is nearly used up (after push of {artifact})"
            ),
            None => format!("storage quota of project {project} is nearly used up"),
        },
        (EventType::Replication, Details::Replication(r)) => {
            let verb = replication_verb(&r.status);
            let from = end_name(r.src.registry(), r.src.namespace.as_deref());
            let to = end_name(r.dest.registry(), r.dest.namespace.as_deref());
            match event.repository.as_ref().or(r.resource.as_ref()) {
                Some(name) => format!("replication of {name} {verb}: {from} → {to}"),
                None => format!("replication {verb}: {from} → {to}"),
            }
        }
        (EventType::TagRetention, Details::Retention(r)) => {
            let n = r.deleted.len();
            let place = event.repository.as_deref().unwrap_or(project);
            match r.result.as_deref() {
                Some(result) if !result.eq_ignore_ascii_case("SUCCESS") => {
                    format!("tag retention run ended {result} in {place} ({n} deleted)")
                }
                _ => format!(
                    "tag retention deleted {n} {} in {place}",
                    plural(n as u64, "artifact", "artifacts")
                ),
            }
        }
        (EventType::PushArtifact, _) => format!("pushed {subject}"),
        (EventType::PullArtifact, _) => format!("pulled {subject}"),
        (EventType::DeleteArtifact, _) => format!("deleted {subject}"),
        (EventType::UploadChart, _) => format!("chart uploaded: {subject}"),
        (EventType::DownloadChart, _) => format!("chart downloaded: {subject}"),
        (EventType::DeleteChart, _) => format!("chart deleted: {subject}"),
        (EventType::ScannerUpdateCompleted, Details::ScannerUpdate(u)) => {
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
        (kind, _) => match (&what, &event.project) {
            (Some(artifact), _) => format!("{} event for {artifact}", wire_name(event, kind)),
            (None, Some(project)) => {
                format!("{} event in project {project}", wire_name(event, kind))
            }
            (None, None) => format!("{} event", wire_name(event, kind)),
        },
    };
    format!("{}: {text}", event.registry.display_name())
}

fn wire_name<'a>(event: &'a Event, kind: &'a EventType) -> &'a str {
    if event.wire_type.is_empty() {
        kind.as_str()
    } else {
        &event.wire_type
    }
}

fn scan_noun(kind: ScanKind) -> &'static str {
    match kind {
        ScanKind::Sbom => "SBOM generation",
        _ => "vulnerability scan",
    }
}

fn vulnerability_title(counts: &VulnCounts, subject: &str) -> String {
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

fn count_list(counts: &VulnCounts, severities: &[ScanSeverity]) -> String {
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

fn replication_verb(status: &str) -> String {
    match status.to_ascii_lowercase().as_str() {
        "error" | "failed" => "failed".to_owned(),
        "success" | "succeed" => "succeeded".to_owned(),
        "stopped" => "stopped".to_owned(),
        "running" | "inprogress" => "running".to_owned(),
        "pending" | "scheduled" => "pending".to_owned(),
        _ => format!("is {status}"),
    }
}

fn end_name(registry: Option<&str>, namespace: Option<&str>) -> String {
    match (registry, namespace) {
        (Some(r), Some(ns)) => format!("{r}/{ns}"),
        (Some(r), None) => r.to_owned(),
        (None, Some(ns)) => ns.to_owned(),
        (None, None) => "(unknown)".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Description

/// The facts a person on call needs, one per line.
pub fn description(event: &Event) -> String {
    let mut out = String::with_capacity(512);
    let mut line = |name: &str, value: &str| {
        let _ = writeln!(out, "{name}: {value}");
    };
    line(
        "Event",
        &format!(
            "{} ({} {}, type {})",
            event.kind,
            event.registry.display_name(),
            event.format.as_str(),
            event.wire_type
        ),
    );
    if let Some(project) = &event.project {
        line("Project", project);
    }
    if let Some(repository) = &event.repository {
        line("Repository", repository);
    }
    if let Some(tag) = &event.tag {
        line("Tag", tag);
    }
    if let Some(digest) = &event.digest {
        line("Digest", digest);
    }
    line(
        "Operator",
        event
            .operator
            .as_deref()
            .unwrap_or("(anonymous or not given)"),
    );
    if let Some(time) = event.occurred_at.and_then(|t| t.format(&Rfc3339).ok()) {
        line("Time", &time);
    }
    if let Some(link) = &event.link {
        line("Link", link);
    }
    if let Some(host) = &event.harbor_host {
        line("Registry", host);
    }
    match &event.details {
        Details::Scan(scan) => {
            if let Some(report) = &scan.report {
                if let Some(status) = &report.status {
                    line("Scan status", status);
                }
                if event.vulnerability_report().is_some() {
                    let severity = report.overall_severity().unwrap_or(ScanSeverity::None);
                    let findings = match &report.counts {
                        Some(c) => {
                            let list = count_list(
                                c,
                                &[
                                    ScanSeverity::Critical,
                                    ScanSeverity::High,
                                    ScanSeverity::Medium,
                                    ScanSeverity::Low,
                                    ScanSeverity::Negligible,
                                    ScanSeverity::Unknown,
                                ],
                            );
                            let list = if list.is_empty() {
                                "none".to_owned()
                            } else {
                                list
                            };
                            format!("{list} ({} total, {} fixable)", c.total, c.fixable)
                        }
                        None => "counts not given".to_owned(),
                    };
                    line("Severity", severity.as_str());
                    line("Vulnerabilities", &findings);
                }
                if let Some(scanner) = &report.scanner {
                    line("Scanner", scanner);
                }
                if let Some(finished) = &report.finished_at {
                    line("Scan finished", finished);
                }
            }
            if let Some(error) = &scan.error {
                line("Error", error);
            }
            if scan.kind == ScanKind::Unspecified && scan.report.is_none() {
                line(
                    "Scan",
                    "no scan overview in the event (Harbor's Scan All sends none)",
                );
            }
        }
        Details::Quota {
            details: Some(details),
        } => line("Quota", details),
        Details::Replication(r) => {
            line("Status", &r.status);
            line("Source", &end_description(&r.src));
            line("Destination", &end_description(&r.dest));
            if let Some(trigger) = &r.trigger_type {
                line("Trigger", trigger);
            }
            if let Some(description) = &r.policy_description {
                line("Policy", description);
            }
            if let Some(resource) = &r.resource {
                let count = r
                    .item_count
                    .map(|n| format!(" ({n} items)"))
                    .unwrap_or_default();
                line("Resource", &format!("{resource}{count}"));
            }
            if !r.references.is_empty() {
                line("References", &list(&r.references, MAX_LISTED));
            }
        }
        Details::Retention(r) => {
            if let Some(id) = r.policy_id {
                line("Retention policy", &id.to_string());
            }
            if let Some(result) = &r.result {
                line("Result", result);
            }
            line(
                "Artifacts",
                &format!(
                    "{} candidates, {} retained, {} deleted",
                    r.total,
                    r.retained,
                    r.deleted.len()
                ),
            );
            if !r.rule_templates.is_empty() {
                line("Rules", &r.rule_templates.join(", "));
            }
        }
        Details::ScannerUpdate(u) => {
            if let Some(v) = &u.scanner_version {
                line("Scanner version", v);
            }
            if let Some(v) = &u.db_version {
                line("Database version", v);
            }
            line(
                "Result",
                match u.success {
                    Some(true) => "success",
                    Some(false) => "failed",
                    None => "not given",
                },
            );
        }
        _ => {}
    }
    if event.resources.len() > 1 || matches!(event.details, Details::Retention(_)) {
        line(
            if matches!(event.details, Details::Retention(_)) {
                "Deleted"
            } else {
                "Resources"
            },
            &list(&event.resources, MAX_LISTED),
        );
    }
    out.truncate(out.trim_end().len());
    out
}

/// Lists in descriptions stop here, so the facts after them are never cut off.
const MAX_LISTED: usize = 20;

/// `a, b, c and 7 more`.
fn list(items: &[String], max: usize) -> String {
    let mut text = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        let _ = write!(text, " and {} more", items.len() - max);
    }
    text
}

fn end_description(end: &crate::event::ReplicationEnd) -> String {
    let mut text = end_name(end.registry(), end.namespace.as_deref());
    if let Some(endpoint) = &end.endpoint {
        let _ = write!(text, " ({endpoint})");
    }
    text
}

// ---------------------------------------------------------------------------------------------
// Labels

/// The event's own labels, then the top-level rules labels, then the matching rule's labels:
/// later ones win on equal keys. At most [`MAX_LABELS`]: the event's own come first.
pub fn labels(event: &Event, decision: &Decision<'_>, rules: &Rules) -> BTreeMap<String, String> {
    let mut own: Vec<(&str, String)> = Vec::with_capacity(32);
    let mut put = |key: &'static str, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            own.push((key, v.to_owned()));
        }
    };
    put("source", Some(event.registry.label()));
    put("event_type", Some(event.kind.as_str()));
    put("project", event.project.as_deref());
    put("repository", event.repository.as_deref());
    put("tag", event.tag.as_deref());
    put("digest", event.digest.as_deref());
    put("operator", event.operator.as_deref());
    put("harbor_host", event.harbor_host.as_deref());
    put(
        "resource",
        event.repository.as_deref().or(event.project.as_deref()),
    );
    put("check", Some(event.kind.as_str()));
    put("rule", Some(decision.rule));

    if let Some(report) = event.vulnerability_report() {
        let counts = report.counts.unwrap_or_default();
        let severity = report.overall_severity().unwrap_or(ScanSeverity::None);
        put("scan_severity", Some(severity.as_str()));
        put("scanner", report.scanner.as_deref());
        for (key, n) in [
            ("vuln_critical", counts.critical),
            ("vuln_high", counts.high),
            ("vuln_medium", counts.medium),
            ("vuln_low", counts.low),
            ("vuln_unknown", counts.unknown),
            ("vuln_total", counts.total),
            ("vuln_fixable", counts.fixable),
        ] {
            put(key, Some(&n.to_string()));
        }
    }
    match &event.details {
        Details::Replication(r) => {
            put("replication_status", Some(&r.status));
            put("src_registry", r.src.registry());
            put("src_namespace", r.src.namespace.as_deref());
            put("dest_registry", r.dest.registry());
            put("dest_namespace", r.dest.namespace.as_deref());
            put("trigger_type", r.trigger_type.as_deref());
        }
        Details::Quota { details } => put("quota_details", details.as_deref()),
        Details::Retention(r) => {
            put(
                "retention_policy_id",
                r.policy_id.map(|id| id.to_string()).as_deref(),
            );
            put("retention_total", Some(&r.total.to_string()));
            put("retention_retained", Some(&r.retained.to_string()));
            put("retention_deleted", Some(&r.deleted.len().to_string()));
        }
        _ => {}
    }

    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    let user = rules
        .labels()
        .iter()
        .chain(decision.rule_labels.into_iter().flatten());
    for (key, value) in own
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(user.map(|(k, v)| (k.clone(), v.clone())))
    {
        if labels.len() >= MAX_LABELS && !labels.contains_key(&key) {
            continue;
        }
        labels.insert(
            truncate(key, MAX_LABEL_KEY),
            truncate(value, MAX_LABEL_VALUE),
        );
    }
    labels
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
