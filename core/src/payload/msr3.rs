//! Mirantis Secure Registry 3 / Docker Trusted Registry 2.2+: `{type, createdAt, contents,
//! location?}`. Scan counts come on MSR's three-level scale and are mapped onto Harbor's
//! (critical -> Critical, major -> High, minor -> Low) so rules and labels work unchanged.

use super::harbor::digest_of_json;
use super::{Envelope, PayloadError, field, from_json, non_empty, required};
use crate::event::{
    Details, Event, EventType, Format, Registry, Scan, ScanKind, ScanSeverity, ScannerUpdate,
    VulnCounts, VulnReport, is_digest,
};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The documented `contents` keys of every type; each is optional because the docs clip
/// examples and some types have no schema at all.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Contents {
    namespace: Option<String>,
    repository: Option<String>,
    tag: Option<String>,
    digest: Option<String>,
    #[serde(rename = "imageName")]
    image_name: Option<String>,
    author: Option<String>,
    #[serde(rename = "scanSummary")]
    scan_summary: Option<ScanSummary>,
    error: Option<String>,
    scanner_version: Option<String>,
    db_version: Option<Value>,
    success: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScanSummary {
    namespace: Option<String>,
    repository: Option<String>,
    /// Some MSR versions name the repository `reponame`.
    reponame: Option<String>,
    tag: Option<String>,
    critical: Option<u64>,
    major: Option<u64>,
    minor: Option<u64>,
    check_completed_at: Option<String>,
}

pub(super) fn parse(envelope: &Envelope<'_>) -> Result<Event, PayloadError> {
    let wire_type: String = required(envelope.kind, "type")?;
    let raw_contents: &RawValue = required(envelope.contents, "contents")?;
    let contents: Contents = from_json(raw_contents.get().as_bytes(), "contents")?;
    let created_at: Option<String> = field(envelope.created_at, "createdAt")?;
    let location: Option<String> = field(envelope.location, "location")?;
    let occurred_at = non_empty(created_at)
        .map(|t| {
            OffsetDateTime::parse(&t, &Rfc3339).map_err(|e| {
                PayloadError::field("createdAt", format!("is not an RFC 3339 time ({t:?}): {e}"))
            })
        })
        .transpose()?;
    let kind = EventType::from_msr3_name(&wire_type);

    let summary = contents.scan_summary.as_ref();
    let project = non_empty(contents.namespace.clone())
        .or_else(|| summary.and_then(|s| non_empty(s.namespace.clone())));
    let repo_name = non_empty(contents.repository.clone()).or_else(|| {
        summary
            .and_then(|s| non_empty(s.repository.clone()).or_else(|| non_empty(s.reponame.clone())))
    });
    let repository = match (&project, repo_name) {
        (Some(project), Some(name)) => Some(format!("{project}/{name}")),
        (None, name) => name,
        (Some(_), None) => None,
    };
    let image = non_empty(contents.image_name.clone());
    let image_digest = image
        .as_deref()
        .and_then(|i| i.split_once('@'))
        .map(|(_, d)| d.to_owned());
    let (tag, digest) = match non_empty(contents.tag.clone())
        .or_else(|| summary.and_then(|s| non_empty(s.tag.clone())))
    {
        Some(tag) if is_digest(&tag) => (None, Some(tag)),
        tag => (tag, non_empty(contents.digest.clone()).or(image_digest)),
    };
    let host = image.as_deref().and_then(registry_host);
    let link = host
        .as_deref()
        .map(|h| match (non_empty(location), &repository, &tag) {
            (Some(location), _, _) if location.starts_with('/') => format!("https://{h}{location}"),
            (_, Some(repo), Some(tag)) => format!("https://{h}/repositories/{repo}/tags/{tag}"),
            _ => format!("https://{h}"),
        });
    let resources = match (&repository, &tag, &digest) {
        (Some(repo), Some(tag), _) => vec![format!("{repo}:{tag}")],
        (Some(repo), None, Some(digest)) => vec![format!("{repo}@{digest}")],
        _ => Vec::new(),
    };

    let details = match &kind {
        EventType::ScanningCompleted => Details::Scan(Scan {
            kind: ScanKind::Vulnerability,
            report: summary.map(vuln_report),
            error: None,
        }),
        EventType::ScanningFailed => Details::Scan(Scan {
            kind: ScanKind::Vulnerability,
            report: Some(VulnReport {
                status: Some("Error".to_owned()),
                ..VulnReport::default()
            }),
            error: non_empty(contents.error.clone()),
        }),
        EventType::ScannerUpdateCompleted => Details::ScannerUpdate(ScannerUpdate {
            success: contents.success,
            scanner_version: non_empty(contents.scanner_version.clone()),
            db_version: contents.db_version.as_ref().and_then(|v| match v {
                Value::String(s) => non_empty(Some(s.clone())),
                Value::Null => None,
                other => Some(other.to_string()),
            }),
        }),
        EventType::Other(_) => Details::Other {
            data_digest: digest_of_json(Some(raw_contents)),
        },
        _ => Details::Artifact,
    };

    Ok(Event {
        kind,
        registry: Registry::Msr3,
        format: Format::Msr3,
        wire_type,
        occurred_at,
        operator: non_empty(contents.author),
        project,
        repository,
        tag,
        digest,
        harbor_host: host,
        link,
        resources,
        details,
    })
}

fn vuln_report(summary: &ScanSummary) -> VulnReport {
    let mut counts = VulnCounts::default();
    counts.add(ScanSeverity::Critical, summary.critical.unwrap_or(0));
    counts.add(ScanSeverity::High, summary.major.unwrap_or(0));
    counts.add(ScanSeverity::Low, summary.minor.unwrap_or(0));
    counts.total = counts
        .critical
        .saturating_add(counts.high)
        .saturating_add(counts.low);
    VulnReport {
        status: Some("Success".to_owned()),
        reported_severity: None,
        counts: Some(counts),
        scanner: None,
        started_at: None,
        finished_at: non_empty(summary.check_completed_at.clone()),
    }
}

/// `msr.example.com/payments/api:1.42.0` -> `msr.example.com`; a first segment without a dot,
/// a port or `localhost` is a namespace, not a host.
fn registry_host(image_name: &str) -> Option<String> {
    let (first, _) = image_name.split_once('/')?;
    let is_host = first.contains('.') || first.contains(':') || first == "localhost";
    is_host.then(|| first.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_come_from_image_names() {
        assert_eq!(
            registry_host("msr.example.com/payments/api:1"),
            Some("msr.example.com".into())
        );
        assert_eq!(
            registry_host("10.10.10.1:443/foo/bar:tag"),
            Some("10.10.10.1:443".into())
        );
        assert_eq!(registry_host("payments/api:1"), None);
    }

    #[test]
    fn created_at_keeps_nanoseconds() {
        let body =
            br#"{"type":"TAG_PUSH","createdAt":"2019-05-15T19:39:40.607337713Z","contents":{}}"#;
        let event = crate::payload::parse(body, None).unwrap().remove(0);
        assert_eq!(event.occurred_at.unwrap().nanosecond(), 607_337_713);
    }
}
