//! The alert key (docs/SPEC.md section 6): which Flashduty alert an event lands on.

use super::truncate;
use crate::event::{Event, Family, ScanKind, ScanOutcome};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;

pub const MAX_ALERT_KEY: usize = 255;

/// Deterministic identity: the same for Default, CloudEvents and legacy forms of one event;
/// `occur_at` and the operator only count where the table says so.
pub fn alert_key(event: &Event) -> String {
    let repository = || opt(event.repository().map(|r| r.as_str()));
    let tag_first = || vec![repository(), opt(event.tag().or(event.digest()))];
    let (family, fields): (&str, Vec<String>) = match &event.family {
        Family::Scan(scan) => match scan.outcome {
            ScanOutcome::Completed if scan.vulnerability_report().is_some() => {
                ("scan", tag_first())
            }
            ScanOutcome::Completed if scan.kind == ScanKind::Sbom => ("sbom", tag_first()),
            ScanOutcome::Completed => ("scan-completed", tag_first()),
            ScanOutcome::Failed | ScanOutcome::Stopped => ("scan-failure", tag_first()),
        },
        Family::Quota(_) => ("quota", vec![opt(event.project())]),
        Family::Replication(r) => (
            "replication",
            vec![
                r.src.identity().to_owned(),
                opt(r.src.namespace.as_deref()),
                r.dest.identity().to_owned(),
                opt(r.dest.namespace.as_deref()),
                repository(),
            ],
        ),
        // By digest: a push by tag and the same push by digest are one artifact.
        Family::Artifact(_) => (
            event.type_name(),
            vec![repository(), opt(event.digest().or(event.tag()))],
        ),
        Family::Chart(_) => (event.type_name(), tag_first()),
        Family::Retention(r) => (
            "retention",
            vec![
                opt(r.policy_id.map(|id| id.to_string()).as_deref()),
                opt(event.project()),
                repository(),
                time_field(event),
            ],
        ),
        Family::ScannerUpdate(_) => (
            "scanner-update",
            vec![opt(event.subject.harbor_host.as_deref())],
        ),
        Family::Other { data_digest } => (
            event.type_name(),
            vec![time_field(event), data_digest.clone()],
        ),
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

fn opt(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

fn time_field(event: &Event) -> String {
    event
        .origin
        .occurred_at
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "-".to_owned())
}
