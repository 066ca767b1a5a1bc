//! What a scan event reports: the scan's kind, outcome and the vulnerability report that counts.

use std::fmt;

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

/// How the scan ended: the event type says it (`SCANNING_COMPLETED`, `_FAILED`, `_STOPPED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanOutcome {
    Completed,
    Failed,
    Stopped,
}

/// The one vulnerability report that counts for an event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VulnReport {
    /// `scan_status` as reported (`Success`, `Error`, `Stopped`, `finished`, ...), for rules.
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
    pub outcome: ScanOutcome,
    pub kind: ScanKind,
    pub report: Option<VulnReport>,
    /// MSR 3 `SCAN_FAILED` carries an error text.
    pub error: Option<String>,
}

impl Scan {
    /// The report of a completed vulnerability scan that says how severe its findings are.
    /// Scan All's empty `scan` counts as a vulnerability scan when it has a report.
    pub fn vulnerability_report(&self) -> Option<&VulnReport> {
        match (self.outcome, self.kind, &self.report) {
            (
                ScanOutcome::Completed,
                ScanKind::Vulnerability | ScanKind::Unspecified,
                Some(report),
            ) if report.overall_severity().is_some() => Some(report),
            _ => None,
        }
    }
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
    fn only_completed_vulnerability_scans_have_a_report_that_counts() {
        let report = VulnReport {
            reported_severity: Some(ScanSeverity::High),
            ..VulnReport::default()
        };
        let scan = |outcome, kind| Scan {
            outcome,
            kind,
            report: Some(report.clone()),
            error: None,
        };
        assert!(
            scan(ScanOutcome::Completed, ScanKind::Vulnerability)
                .vulnerability_report()
                .is_some()
        );
        assert!(
            scan(ScanOutcome::Completed, ScanKind::Unspecified)
                .vulnerability_report()
                .is_some()
        );
        assert!(
            scan(ScanOutcome::Completed, ScanKind::Sbom)
                .vulnerability_report()
                .is_none()
        );
        assert!(
            scan(ScanOutcome::Failed, ScanKind::Vulnerability)
                .vulnerability_report()
                .is_none()
        );
    }
}
