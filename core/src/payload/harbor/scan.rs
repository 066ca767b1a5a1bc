//! Harbor's `scan_overview`: a map keyed by report MIME type (2.x, 1.10), or 1.9's Clair
//! object; the one report that counts becomes a [`VulnReport`].

use super::super::{PayloadError, from_json, text};
use super::Resource;
use crate::event::{EventType, Scan, ScanKind, ScanOutcome, ScanSeverity, VulnCounts, VulnReport};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ScanData {
    scan_type: Option<String>,
}

/// Native (2.x, 1.10) report summary, one per MIME type in `scan_overview`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NativeReport {
    #[serde(deserialize_with = "text")]
    scan_status: Option<String>,
    #[serde(deserialize_with = "text")]
    severity: Option<String>,
    summary: Option<NativeSummary>,
    scanner: Option<Scanner>,
    #[serde(deserialize_with = "text")]
    start_time: Option<String>,
    #[serde(deserialize_with = "text")]
    end_time: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NativeSummary {
    total: Option<u64>,
    fixable: Option<u64>,
    summary: Option<BTreeMap<String, u64>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Scanner {
    #[serde(deserialize_with = "text")]
    name: Option<String>,
    #[serde(deserialize_with = "text")]
    version: Option<String>,
}

/// Harbor 1.9's Clair overview: one object, integer severities.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ClairOverview {
    #[serde(deserialize_with = "text")]
    scan_status: Option<String>,
    severity: Option<i64>,
    components: Option<ClairComponents>,
    #[serde(deserialize_with = "text")]
    creation_time: Option<String>,
    #[serde(deserialize_with = "text")]
    update_time: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ClairComponents {
    total: Option<u64>,
    summary: Option<Vec<ClairCount>>,
}

#[derive(Deserialize)]
struct ClairCount {
    severity: i64,
    count: u64,
}

/// MIME types in the order docs/SPEC.md section 5 prefers them.
const PREFERRED_REPORTS: [&str; 2] = [
    "application/vnd.security.vulnerability.report;version=1.1",
    "application/vnd.scanner.adapter.vuln.report.harbor+json;version=1.0",
];

pub(super) fn family(
    kind: EventType,
    resource: Option<&Resource>,
    scan: Option<&ScanData>,
    at: &str,
) -> Result<Scan, PayloadError> {
    let outcome = match kind {
        EventType::ScanningFailed => ScanOutcome::Failed,
        EventType::ScanningStopped => ScanOutcome::Stopped,
        _ => ScanOutcome::Completed,
    };
    let overview = resource.and_then(|r| r.scan_overview.as_ref());
    let has_sbom = resource.is_some_and(|r| r.sbom_overview.is_some());
    let kind = match scan.and_then(|s| s.scan_type.as_deref()) {
        Some(t) if t.eq_ignore_ascii_case("sbom") => ScanKind::Sbom,
        Some(t) if t.eq_ignore_ascii_case("vulnerability") => ScanKind::Vulnerability,
        _ if has_sbom => ScanKind::Sbom,
        _ if overview.is_some() => ScanKind::Vulnerability,
        _ => ScanKind::Unspecified,
    };
    let report = match overview {
        Some(raw) if kind != ScanKind::Sbom => vuln_report(raw, &format!("{at}.scan_overview"))?,
        _ => None,
    };
    Ok(Scan {
        outcome,
        kind,
        report,
        error: None,
    })
}

/// Picks the report that counts out of a MIME-keyed overview (or reads 1.9's Clair shape).
fn vuln_report(raw: &RawValue, at: &str) -> Result<Option<VulnReport>, PayloadError> {
    let overview: BTreeMap<String, Box<RawValue>> = from_json(raw.get().as_bytes(), at)?;
    let is_number = |v: &RawValue| {
        v.get()
            .starts_with(|c: char| c == '-' || c.is_ascii_digit())
    };
    let is_clair = overview.contains_key("components")
        || overview.contains_key("image_digest")
        || overview.get("severity").is_some_and(|v| is_number(v));
    if is_clair {
        let clair: ClairOverview = from_json(raw.get().as_bytes(), at)?;
        return Ok(Some(clair_report(clair)));
    }

    let normalise = |mime: &str| -> String {
        mime.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let mut candidates: Vec<(usize, &String, &RawValue)> = overview
        .iter()
        .filter(|(_, v)| v.get().starts_with('{'))
        .map(|(mime, v)| {
            let rank = PREFERRED_REPORTS
                .iter()
                .position(|p| *p == normalise(mime))
                .unwrap_or(PREFERRED_REPORTS.len());
            (rank, mime, &**v)
        })
        .collect();
    candidates.sort_by_key(|(rank, _, _)| *rank);

    let mut fallback = None;
    for (rank, mime, value) in candidates {
        let report: NativeReport = from_json(value.get().as_bytes(), &format!("{at}[\"{mime}\"]"))?;
        let report = native_report(report);
        if rank < PREFERRED_REPORTS.len() || report.counts.is_some() {
            return Ok(Some(report));
        }
        fallback.get_or_insert(report);
    }
    Ok(fallback)
}

fn native_report(report: NativeReport) -> VulnReport {
    let counts = report.summary.map(|s| {
        let mut counts = VulnCounts {
            total: s.total.unwrap_or(0),
            fixable: s.fixable.unwrap_or(0),
            ..VulnCounts::default()
        };
        for (name, n) in s.summary.unwrap_or_default() {
            if let Some(severity) = ScanSeverity::parse(&name) {
                counts.add(severity, n);
            }
        }
        counts
    });
    VulnReport {
        status: report.scan_status,
        reported_severity: report
            .severity
            .map(|s| ScanSeverity::parse(&s).unwrap_or(ScanSeverity::Unknown)),
        counts,
        scanner: report.scanner.and_then(|s| match (s.name, s.version) {
            (Some(name), Some(version)) => Some(format!("{name} {version}")),
            (name, _) => name,
        }),
        started_at: report.start_time,
        finished_at: report.end_time,
    }
}

fn clair_report(clair: ClairOverview) -> VulnReport {
    let counts = clair.components.map(|c| {
        let mut counts = VulnCounts {
            total: c.total.unwrap_or(0),
            ..VulnCounts::default()
        };
        for item in c.summary.unwrap_or_default() {
            if let Some(severity) = ScanSeverity::from_clair_code(item.severity) {
                counts.add(severity, item.count);
            }
        }
        counts
    });
    VulnReport {
        status: clair.scan_status,
        reported_severity: clair.severity.and_then(ScanSeverity::from_clair_code),
        counts,
        scanner: Some("Clair".to_owned()),
        started_at: clair.creation_time,
        finished_at: clair.update_time,
    }
}
