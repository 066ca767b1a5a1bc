//! Mirantis Secure Registry 3 / Docker Trusted Registry 2.2+: `{type, createdAt, contents,
//! location?}`. Scan counts come on MSR's three-level scale and are mapped onto Harbor's
//! (critical -> Critical, major -> High, minor -> Low) so rules and labels work unchanged.

use super::harbor::digest_of_json;
use super::{Envelope, PayloadError, field, from_json, present, required, text};
use crate::event::{
    ArtifactAction, ArtifactRef, ChartAction, Event, EventType, Family, Format, Origin, Reference,
    Registry, Repository, Scan, ScanKind, ScanOutcome, ScanSeverity, ScannerUpdate, Subject,
    VulnCounts, VulnReport,
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
    #[serde(deserialize_with = "text")]
    namespace: Option<String>,
    #[serde(deserialize_with = "text")]
    repository: Option<String>,
    #[serde(deserialize_with = "text")]
    tag: Option<String>,
    #[serde(deserialize_with = "text")]
    digest: Option<String>,
    #[serde(deserialize_with = "text")]
    #[serde(rename = "imageName")]
    image_name: Option<String>,
    #[serde(deserialize_with = "text")]
    author: Option<String>,
    #[serde(rename = "scanSummary")]
    scan_summary: Option<ScanSummary>,
    #[serde(deserialize_with = "text")]
    error: Option<String>,
    #[serde(deserialize_with = "text")]
    scanner_version: Option<String>,
    db_version: Option<Value>,
    success: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScanSummary {
    #[serde(deserialize_with = "text")]
    namespace: Option<String>,
    #[serde(deserialize_with = "text")]
    repository: Option<String>,
    /// Some MSR versions name the repository `reponame`.
    #[serde(deserialize_with = "text")]
    reponame: Option<String>,
    #[serde(deserialize_with = "text")]
    tag: Option<String>,
    critical: Option<u64>,
    major: Option<u64>,
    minor: Option<u64>,
    #[serde(deserialize_with = "text")]
    check_completed_at: Option<String>,
}

pub(super) fn parse(envelope: &Envelope<'_>) -> Result<Event, PayloadError> {
    let wire_type: String = required(envelope.kind, "type")?;
    let raw_contents: &RawValue = required(envelope.contents, "contents")?;
    let contents: Contents = from_json(raw_contents.get().as_bytes(), "contents")?;
    let created_at: Option<String> = field(envelope.created_at, "createdAt")?;
    let location: Option<String> = field(envelope.location, "location")?;
    let occurred_at = present(created_at)
        .map(|t| {
            OffsetDateTime::parse(&t, &Rfc3339).map_err(|e| {
                PayloadError::field("createdAt", format!("is not an RFC 3339 time ({t:?}): {e}"))
            })
        })
        .transpose()?;
    let kind = EventType::from_msr3_name(&wire_type);
    let origin = Origin {
        registry: Registry::Msr3,
        format: Format::Msr3,
        wire_type,
        occurred_at,
        operator: contents.author.clone(),
    };
    let subject = subject(&contents, present(location));
    let family = match kind {
        EventType::ScanningCompleted => Family::Scan(Scan {
            outcome: ScanOutcome::Completed,
            kind: ScanKind::Vulnerability,
            report: contents.scan_summary.as_ref().map(vuln_report),
            error: None,
        }),
        EventType::ScanningFailed => Family::Scan(Scan {
            outcome: ScanOutcome::Failed,
            kind: ScanKind::Vulnerability,
            report: Some(VulnReport {
                status: Some("Error".to_owned()),
                ..VulnReport::default()
            }),
            error: contents.error,
        }),
        EventType::ScannerUpdateCompleted => Family::ScannerUpdate(ScannerUpdate {
            success: contents.success,
            scanner_version: contents.scanner_version,
            db_version: contents.db_version.and_then(|v| match v {
                Value::String(s) => present(Some(s)),
                Value::Null => None,
                other => Some(other.to_string()),
            }),
        }),
        kind => match (ArtifactAction::of(kind), ChartAction::of(kind)) {
            (Some(action), _) => Family::Artifact(action),
            (None, Some(action)) => Family::Chart(action),
            (None, None) => Family::Other {
                data_digest: digest_of_json(Some(raw_contents)),
            },
        },
    };
    Ok(Event::new(origin, subject, family))
}

/// The repository, tag and registry host, from `contents` or its `scanSummary`, and a link to
/// the repository page (or `location`, where MSR gives one).
fn subject(contents: &Contents, location: Option<String>) -> Subject {
    let summary = contents.scan_summary.as_ref();
    let project = contents
        .namespace
        .clone()
        .or_else(|| summary.and_then(|s| s.namespace.clone()));
    let repo_name = contents
        .repository
        .as_deref()
        .or_else(|| summary.and_then(|s| s.repository.as_deref().or(s.reponame.as_deref())));
    let repository = repo_name.and_then(|name| Repository::in_project(project.as_deref(), name));
    let image = contents.image_name.as_deref();
    let image_digest = image.and_then(|i| i.split_once('@')).map(|(_, d)| d);
    let tag = contents
        .tag
        .as_deref()
        .or_else(|| summary.and_then(|s| s.tag.as_deref()));
    let reference = Reference::new(tag, contents.digest.as_deref().or(image_digest));
    let host = image.and_then(registry_host);
    let link = host
        .as_deref()
        .map(|h| match (location, &repository, reference.tag()) {
            (Some(location), _, _) if location.starts_with('/') => format!("https://{h}{location}"),
            (_, Some(repo), Some(tag)) => format!("https://{h}/repositories/{repo}/tags/{tag}"),
            _ => format!("https://{h}"),
        });
    let resources = repository
        .as_ref()
        .filter(|_| !reference.is_empty())
        .map(|repository| {
            ArtifactRef {
                repository,
                reference: &reference,
                short_digest: false,
            }
            .to_string()
        })
        .into_iter()
        .collect();
    Subject {
        project,
        repository,
        reference,
        harbor_host: host,
        link,
        resources,
    }
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
        finished_at: summary.check_completed_at.clone(),
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
        assert_eq!(event.origin.occurred_at.unwrap().nanosecond(), 607_337_713);
    }
}
