//! Harbor's Default envelope (`{type, occur_at, operator, event_data}`), used by 2.x with
//! UPPER_SNAKE types and by 1.9/1.10 with camelCase ones, and the `event_data` object that
//! CloudEvents carries as `data`.
//!
//! Every field is optional: Harbor omits empty ones, sends `null` arrays, and changed the shape
//! across versions (see the fixtures' README).

use super::{Envelope, PayloadError, field, from_json, non_empty, required};
use crate::event::{
    Details, Event, EventType, Format, Registry, Replication, ReplicationEnd, Retention, Scan,
    ScanKind, ScanSeverity, VulnCounts, VulnReport, host_of_url, is_digest,
};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use time::OffsetDateTime;

pub(super) fn parse_default(envelope: &Envelope<'_>) -> Result<Event, PayloadError> {
    let kind: String = required(envelope.kind, "type")?;
    let occur_at: Option<i64> = field(envelope.occur_at, "occur_at")?;
    let operator: Option<String> = field(envelope.operator, "operator")?;
    let occurred_at = occur_at
        .map(|secs| {
            OffsetDateTime::from_unix_timestamp(secs).map_err(|_| {
                PayloadError::field("occur_at", format!("{secs} is not a Unix time in seconds"))
            })
        })
        .transpose()?;
    let is_legacy = kind.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let context = Context {
        wire_type: kind,
        format: if is_legacy {
            Format::Legacy
        } else {
            Format::Default
        },
        occurred_at,
        operator: non_empty(operator),
        portal_project_id: None,
    };
    let kind = EventType::from_default_name(&context.wire_type);
    build(kind, context, envelope.event_data, "event_data")
}

/// Envelope facts that `event_data` itself does not carry.
pub(super) struct Context {
    pub wire_type: String,
    pub format: Format,
    pub occurred_at: Option<OffsetDateTime>,
    pub operator: Option<String>,
    /// CloudEvents `source` names the project id, which makes a portal link possible.
    pub portal_project_id: Option<u64>,
}

/// Builds the event from Harbor's `event_data` (`raw`, found at `at` in the payload).
pub(super) fn build(
    kind: EventType,
    context: Context,
    raw: Option<&RawValue>,
    at: &str,
) -> Result<Event, PayloadError> {
    let data: EventData = match raw {
        Some(raw) => from_json(raw.get().as_bytes(), at)?,
        None => EventData::default(),
    };
    let quota_details = data.quota_details();
    let kind = match (kind, context.wire_type.as_str()) {
        (EventType::Other(_), "projectQuota") => {
            let exceeded = quota_details
                .as_deref()
                .is_some_and(|d| d.to_ascii_lowercase().contains("exceed"));
            if exceeded {
                EventType::QuotaExceed
            } else {
                EventType::QuotaWarning
            }
        }
        (kind, _) => kind,
    };

    let resources = data.resources.unwrap_or_default();
    let repo = data.repository.unwrap_or_default();
    let repository = repo.full_name();
    let project = non_empty(repo.namespace).or_else(|| {
        repository
            .as_deref()
            .and_then(|r| r.split_once('/'))
            .map(|(p, _)| p.to_owned())
    });

    let first = resources.first();
    let (tag, digest) = first.map_or((None, None), |r| {
        split_reference(r.tag.clone(), r.digest.clone())
    });
    let resource_url = first.and_then(|r| non_empty(r.resource_url.clone()));
    let harbor_host = resource_url.as_deref().map(|u| host_of_url(u).to_owned());
    let resource_refs = resources
        .iter()
        .filter_map(|r| describe_resource(repository.as_deref(), r))
        .collect();

    let mut event = Event {
        kind,
        registry: Registry::Harbor,
        format: context.format,
        wire_type: context.wire_type,
        occurred_at: context.occurred_at,
        operator: context.operator,
        link: artifact_link(
            harbor_host.as_deref(),
            resource_url.as_deref(),
            context.portal_project_id,
            repository.as_deref(),
            digest.as_deref(),
        ),
        project,
        repository,
        tag,
        digest,
        harbor_host,
        resources: resource_refs,
        details: Details::Artifact,
    };

    event.details = match &event.kind {
        EventType::ScanningCompleted | EventType::ScanningFailed | EventType::ScanningStopped => {
            let overview_at = format!("{at}.resources[0]");
            Details::Scan(scan_details(first, data.scan.as_ref(), &overview_at)?)
        }
        EventType::QuotaExceed | EventType::QuotaWarning => Details::Quota {
            details: quota_details,
        },
        EventType::Replication => match data.replication {
            Some(replication) => replication_details(&mut event, replication),
            None => Details::Artifact,
        },
        EventType::TagRetention => match data.retention {
            Some(retention) => retention_details(&mut event, retention),
            None => Details::Artifact,
        },
        EventType::Other(_) => Details::Other {
            data_digest: digest_of_json(raw),
        },
        _ => Details::Artifact,
    };
    Ok(event)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EventData {
    resources: Option<Vec<Resource>>,
    repository: Option<Repository>,
    replication: Option<ReplicationData>,
    retention: Option<RetentionData>,
    scan: Option<ScanData>,
    custom_attributes: Option<BTreeMap<String, Value>>,
}

impl EventData {
    /// `custom_attributes.Details` (capital D on the wire; any case accepted).
    fn quota_details(&self) -> Option<String> {
        let attributes = self.custom_attributes.as_ref()?;
        attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("details"))
            .and_then(|(_, v)| match v {
                Value::String(s) => non_empty(Some(s.clone())),
                Value::Null => None,
                other => Some(other.to_string()),
            })
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct Resource {
    digest: Option<String>,
    tag: Option<String>,
    resource_url: Option<String>,
    /// Kept raw: only the report that counts is deserialised.
    scan_overview: Option<Box<RawValue>>,
    sbom_overview: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Repository {
    name: Option<String>,
    namespace: Option<String>,
    repo_full_name: Option<String>,
}

impl Repository {
    /// `project/name`. Some events leave `repo_full_name` empty or without the project (copy
    /// quota events send `"api"`), so fall back to the parts.
    fn full_name(&self) -> Option<String> {
        let full = non_empty(self.repo_full_name.clone());
        let namespace = non_empty(self.namespace.clone());
        let name = non_empty(self.name.clone());
        match (full, namespace, name) {
            (Some(full), _, _) if full.contains('/') => Some(full),
            (Some(name), Some(ns), _) | (None, Some(ns), Some(name)) => {
                Some(format!("{ns}/{name}"))
            }
            (full, None, name) => full.or(name),
            (None, Some(_), None) => None,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScanData {
    scan_type: Option<String>,
}

/// A real tag stays a tag; a digest sent in `tag` becomes the digest (Harbor does this for
/// artifacts pushed or pulled by digest).
fn split_reference(
    tag: Option<String>,
    digest: Option<String>,
) -> (Option<String>, Option<String>) {
    let tag = non_empty(tag);
    let digest = non_empty(digest);
    match tag {
        Some(t) if is_digest(&t) => (None, digest.or(Some(t))),
        tag => (tag, digest),
    }
}

fn describe_resource(repository: Option<&str>, resource: &Resource) -> Option<String> {
    let (tag, digest) = split_reference(resource.tag.clone(), resource.digest.clone());
    match (repository, tag, digest) {
        (Some(repo), Some(tag), _) => Some(format!("{repo}:{tag}")),
        (Some(repo), None, Some(digest)) => Some(format!("{repo}@{digest}")),
        _ => non_empty(resource.resource_url.clone()),
    }
}

/// The Harbor portal page of the artifact where the event says enough to build it (CloudEvents
/// carries the project id), else the chart's own https URL, else the Harbor host.
fn artifact_link(
    host: Option<&str>,
    resource_url: Option<&str>,
    project_id: Option<u64>,
    repository: Option<&str>,
    digest: Option<&str>,
) -> Option<String> {
    if let (Some(host), Some(id), Some(repo), Some(digest)) = (host, project_id, repository, digest)
    {
        let name = repo.split_once('/').map_or(repo, |(_, name)| name);
        let name = percent_encoding::utf8_percent_encode(name, PATH_SEGMENT);
        return Some(format!(
            "https://{host}/harbor/projects/{id}/repositories/{name}/artifacts-tab/artifacts/{digest}"
        ));
    }
    if let Some(url) = resource_url.filter(|u| u.starts_with("https://")) {
        return Some(url.to_owned());
    }
    host.map(|h| format!("https://{h}"))
}

/// Characters that must be escaped inside one URL path segment (`/` included).
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Native (2.x, 1.10) report summary, one per MIME type in `scan_overview`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NativeReport {
    scan_status: Option<String>,
    severity: Option<String>,
    summary: Option<NativeSummary>,
    scanner: Option<Scanner>,
    start_time: Option<String>,
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
    name: Option<String>,
    version: Option<String>,
}

/// Harbor 1.9's Clair overview: one object, integer severities.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ClairOverview {
    scan_status: Option<String>,
    severity: Option<i64>,
    components: Option<ClairComponents>,
    creation_time: Option<String>,
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

/// MIME types in the order SPEC section 5 prefers them.
const PREFERRED_REPORTS: [&str; 2] = [
    "application/vnd.security.vulnerability.report;version=1.1",
    "application/vnd.scanner.adapter.vuln.report.harbor+json;version=1.0",
];

fn scan_details(
    resource: Option<&Resource>,
    scan: Option<&ScanData>,
    at: &str,
) -> Result<Scan, PayloadError> {
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
        status: non_empty(report.scan_status),
        reported_severity: non_empty(report.severity)
            .map(|s| ScanSeverity::parse(&s).unwrap_or(ScanSeverity::Unknown)),
        counts,
        scanner: report
            .scanner
            .and_then(|s| match (non_empty(s.name), non_empty(s.version)) {
                (Some(name), Some(version)) => Some(format!("{name} {version}")),
                (name, _) => name,
            }),
        started_at: non_empty(report.start_time),
        finished_at: non_empty(report.end_time),
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
        status: non_empty(clair.scan_status),
        reported_severity: clair.severity.and_then(ScanSeverity::from_clair_code),
        counts,
        scanner: Some("Clair".to_owned()),
        started_at: non_empty(clair.creation_time),
        finished_at: non_empty(clair.update_time),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReplicationData {
    harbor_hostname: Option<String>,
    job_status: Option<String>,
    description: Option<String>,
    trigger_type: Option<String>,
    src_resource: Option<ReplicationResource>,
    dest_resource: Option<ReplicationResource>,
    successful_artifact: Option<Vec<ArtifactInfo>>,
    failed_artifact: Option<Vec<ArtifactInfo>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReplicationResource {
    registry_name: Option<String>,
    registry_type: Option<String>,
    endpoint: Option<String>,
    namespace: Option<String>,
}

impl From<ReplicationResource> for ReplicationEnd {
    fn from(r: ReplicationResource) -> Self {
        Self {
            registry_name: non_empty(r.registry_name),
            registry_type: non_empty(r.registry_type),
            endpoint: non_empty(r.endpoint),
            namespace: non_empty(r.namespace),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ArtifactInfo {
    name_tag: Option<String>,
    references: Option<Vec<Option<String>>>,
}

fn replication_details(event: &mut Event, data: ReplicationData) -> Details {
    let hostname = non_empty(data.harbor_hostname);
    let src = ReplicationEnd::from(data.src_resource.unwrap_or_default());
    let dest = ReplicationEnd::from(data.dest_resource.unwrap_or_default());
    let push_mode = is_push_mode(hostname.as_deref(), &src, &dest);
    let artifact = data
        .successful_artifact
        .into_iter()
        .chain(data.failed_artifact)
        .flatten()
        .next();
    let (resource, item_count) = artifact
        .as_ref()
        .and_then(|a| a.name_tag.as_deref())
        .map_or((None, None), parse_name_tag);
    let references = artifact
        .and_then(|a| a.references)
        .unwrap_or_default()
        .into_iter()
        .filter_map(non_empty)
        .collect();

    let local = if push_mode { &src } else { &dest };
    event.project = local.namespace.clone();
    event.repository = match (&event.project, &resource) {
        (Some(project), Some(name)) => Some(format!("{project}/{name}")),
        (None, Some(name)) => Some(name.clone()),
        _ => None,
    };
    event.harbor_host = hostname.clone();
    event.link = hostname.map(|h| format!("https://{h}"));
    Details::Replication(Replication {
        status: non_empty(data.job_status).unwrap_or_else(|| "Unknown".to_owned()),
        src,
        dest,
        trigger_type: non_empty(data.trigger_type),
        policy_description: non_empty(data.description),
        resource,
        item_count,
        references,
        push_mode,
    })
}

/// Which side is this Harbor? The one whose endpoint is `harbor_hostname`; failing that, the
/// side without a registry name (Harbor names only remote registries).
fn is_push_mode(hostname: Option<&str>, src: &ReplicationEnd, dest: &ReplicationEnd) -> bool {
    let is_local = |end: &ReplicationEnd| match (hostname, end.endpoint.as_deref()) {
        (Some(host), Some(endpoint)) => {
            let endpoint_host = host_of_url(endpoint);
            let endpoint_host = endpoint_host.split(':').next().unwrap_or(endpoint_host);
            endpoint_host.eq_ignore_ascii_case(host)
        }
        _ => false,
    };
    match (is_local(src), is_local(dest)) {
        (true, false) => true,
        (false, true) => false,
        _ => src.registry_name.is_none() || dest.registry_name.is_some(),
    }
}

/// `"api [2 item(s) in total]"` -> (`api`, 2).
fn parse_name_tag(name_tag: &str) -> (Option<String>, Option<u64>) {
    let (name, count) = match name_tag.split_once(" [") {
        Some((name, rest)) => (
            name,
            rest.split_whitespace().next().and_then(|n| n.parse().ok()),
        ),
        None => (name_tag, None),
    };
    (non_empty(Some(name.trim().to_owned())), count)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RetentionData {
    total: Option<u64>,
    retained: Option<u64>,
    harbor_hostname: Option<String>,
    project_name: Option<String>,
    retention_policy_id: Option<i64>,
    retention_rule: Option<Vec<RetentionRule>>,
    result: Option<String>,
    deleted_artifact: Option<Vec<ArtifactInfo>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RetentionRule {
    template: Option<String>,
}

fn retention_details(event: &mut Event, data: RetentionData) -> Details {
    let deleted: Vec<String> = data
        .deleted_artifact
        .unwrap_or_default()
        .into_iter()
        .filter_map(|a| non_empty(a.name_tag))
        .collect();
    event.project = non_empty(data.project_name);
    let first_repo = deleted
        .first()
        .map(|name_tag| repository_of_name_tag(name_tag));
    event.repository = match (&event.project, first_repo) {
        (Some(project), Some(name)) => Some(format!("{project}/{name}")),
        (None, Some(name)) => Some(name.to_owned()),
        _ => None,
    };
    event.harbor_host = non_empty(data.harbor_hostname);
    event.link = event.harbor_host.as_ref().map(|h| format!("https://{h}"));
    if let Some(project) = &event.project {
        event.resources = deleted.iter().map(|d| format!("{project}/{d}")).collect();
    }
    Details::Retention(Retention {
        policy_id: data.retention_policy_id,
        total: data.total.unwrap_or(0),
        retained: data.retained.unwrap_or(0),
        deleted,
        result: non_empty(data.result),
        rule_templates: data
            .retention_rule
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| non_empty(r.template))
            .collect(),
    })
}

/// `api:v2.3.0` or `api@sha256:...` -> `api`.
fn repository_of_name_tag(name_tag: &str) -> &str {
    if let Some((name, _)) = name_tag.split_once('@') {
        return name;
    }
    name_tag.rsplit_once(':').map_or(name_tag, |(name, _)| name)
}

/// A short, format-independent digest of JSON: keys sorted, whitespace dropped. Identifies
/// events of unknown types the same way whichever envelope brought them.
pub(super) fn digest_of_json(raw: Option<&RawValue>) -> String {
    let canonical = raw
        .and_then(|r| serde_json::from_str::<Value>(r.get()).ok())
        .map(|v| v.to_string())
        .unwrap_or_default();
    let hash = Sha256::digest(canonical.as_bytes());
    hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_tags_lose_their_item_count() {
        assert_eq!(
            parse_name_tag("api [2 item(s) in total]"),
            (Some("api".into()), Some(2))
        );
        assert_eq!(parse_name_tag("team/api"), (Some("team/api".into()), None));
        assert_eq!(repository_of_name_tag("api:v2.3.0"), "api");
        assert_eq!(repository_of_name_tag("a/b@sha256:00"), "a/b");
    }

    #[test]
    fn digests_in_tag_move_to_digest() {
        let d =
            "sha256:0ec9aeb10a28b56bcca312d7b72ad12f1aa7da5c6c45853e3a468e9512dceeea".to_owned();
        assert_eq!(
            split_reference(Some(d.clone()), Some(d.clone())),
            (None, Some(d.clone()))
        );
        assert_eq!(split_reference(Some(d.clone()), None), (None, Some(d)));
        assert_eq!(
            split_reference(Some("v1".into()), None),
            (Some("v1".into()), None)
        );
        assert_eq!(split_reference(Some(String::new()), None), (None, None));
    }

    #[test]
    fn json_digest_ignores_layout() {
        let a = RawValue::from_string(r#"{"b": 1, "a": [1, 2]}"#.into()).unwrap();
        let b = RawValue::from_string(r#"{"a":[1,2],"b":1}"#.into()).unwrap();
        assert_eq!(digest_of_json(Some(&a)), digest_of_json(Some(&b)));
    }
}
