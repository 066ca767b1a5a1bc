//! Alert labels: the event's own, then the top-level rules labels, then the matching rule's.

use super::truncate;
use crate::event::{Event, Family, ScanSeverity};
use crate::rules::{Decision, Rules};
use std::collections::BTreeMap;

pub const MAX_LABELS: usize = 50;
pub const MAX_LABEL_KEY: usize = 128;
pub const MAX_LABEL_VALUE: usize = 2048;

/// Later labels win on equal keys. At most [`MAX_LABELS`]: the event's own come first.
pub fn labels(event: &Event, decision: &Decision<'_>, rules: &Rules) -> BTreeMap<String, String> {
    let mut own: Vec<(&str, String)> = Vec::with_capacity(32);
    let mut put = |key: &'static str, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            own.push((key, v.to_owned()));
        }
    };
    let repository = event.repository().map(|r| r.as_str());
    put("source", Some(event.origin.registry.label()));
    put("event_type", Some(event.type_name()));
    put("project", event.project());
    put("repository", repository);
    put("tag", event.tag());
    put("digest", event.digest());
    put("operator", event.origin.operator.as_deref());
    put("harbor_host", event.subject.harbor_host.as_deref());
    put("resource", repository.or(event.project()));
    put("check", Some(event.type_name()));
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
    match &event.family {
        Family::Replication(r) => {
            put("replication_status", Some(&r.status.raw));
            put("src_registry", r.src.registry());
            put("src_namespace", r.src.namespace.as_deref());
            put("dest_registry", r.dest.registry());
            put("dest_namespace", r.dest.namespace.as_deref());
            put("trigger_type", r.trigger_type.as_deref());
        }
        Family::Quota(quota) => put("quota_details", quota.details.as_deref()),
        Family::Retention(r) => {
            put(
                "retention_policy_id",
                r.policy_id.map(|id| id.to_string()).as_deref(),
            );
            put("retention_total", Some(&r.total.to_string()));
            put("retention_retained", Some(&r.retained.to_string()));
            put("retention_deleted", Some(&r.deleted.len().to_string()));
        }
        Family::Artifact(_)
        | Family::Chart(_)
        | Family::Scan(_)
        | Family::ScannerUpdate(_)
        | Family::Other { .. } => {}
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
