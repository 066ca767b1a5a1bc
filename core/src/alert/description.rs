//! The alert description: the facts a person on call needs, one per line.

use super::title::{count_list, end_name};
use crate::event::{Event, Family, ReplicationEnd, ScanKind, ScanSeverity};
use std::fmt::Write as _;
use time::format_description::well_known::Rfc3339;

/// Lists in descriptions stop here, so the facts after them are never cut off.
const MAX_LISTED: usize = 20;

pub fn description(event: &Event) -> String {
    let mut out = String::with_capacity(512);
    let mut line = |name: &str, value: &str| {
        let _ = writeln!(out, "{name}: {value}");
    };
    let origin = &event.origin;
    let subject = &event.subject;
    line(
        "Event",
        &format!(
            "{} ({} {}, type {})",
            event.type_name(),
            origin.registry.display_name(),
            origin.format.as_str(),
            origin.wire_type
        ),
    );
    let facts = [
        ("Project", event.project()),
        ("Repository", event.repository().map(|r| r.as_str())),
        ("Tag", event.tag()),
        ("Digest", event.digest()),
    ];
    for (name, value) in facts {
        if let Some(value) = value {
            line(name, value);
        }
    }
    line(
        "Operator",
        origin
            .operator
            .as_deref()
            .unwrap_or("(anonymous or not given)"),
    );
    if let Some(time) = origin.occurred_at.and_then(|t| t.format(&Rfc3339).ok()) {
        line("Time", &time);
    }
    if let Some(link) = &subject.link {
        line("Link", link);
    }
    if let Some(host) = &subject.harbor_host {
        line("Registry", host);
    }
    match &event.family {
        Family::Scan(scan) => {
            if let Some(report) = &scan.report {
                if let Some(status) = &report.status {
                    line("Scan status", status);
                }
                if scan.vulnerability_report().is_some() {
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
        Family::Quota(quota) => {
            if let Some(details) = &quota.details {
                line("Quota", details);
            }
        }
        Family::Replication(r) => {
            line("Status", &r.status.raw);
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
                line("References", &list(&r.references));
            }
        }
        Family::Retention(r) => {
            if let Some(id) = r.policy_id {
                line("Retention policy", &id.to_string());
            }
            if let Some(result) = &r.result {
                line("Result", &result.raw);
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
        Family::ScannerUpdate(u) => {
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
        Family::Artifact(_) | Family::Chart(_) | Family::Other { .. } => {}
    }
    if matches!(event.family, Family::Retention(_)) {
        line("Deleted", &list(&subject.resources));
    } else if subject.resources.len() > 1 {
        line("Resources", &list(&subject.resources));
    }
    out.truncate(out.trim_end().len());
    out
}

/// `a, b, c and 7 more`.
fn list(items: &[String]) -> String {
    let mut text = items
        .iter()
        .take(MAX_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > MAX_LISTED {
        let _ = write!(text, " and {} more", items.len() - MAX_LISTED);
    }
    text
}

fn end_description(end: &ReplicationEnd) -> String {
    let mut text = end_name(end.registry(), end.namespace.as_deref());
    if let Some(endpoint) = &end.endpoint {
        let _ = write!(text, " ({endpoint})");
    }
    text
}
