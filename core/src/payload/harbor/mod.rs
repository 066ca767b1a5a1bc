//! Harbor's Default envelope (`{type, occur_at, operator, event_data}`), used by 2.x with
//! UPPER_SNAKE types and by 1.9/1.10 with camelCase ones, and the `event_data` object that
//! CloudEvents carries as `data`.
//!
//! Every field is optional: Harbor omits empty ones, sends `null` arrays, and changed the shape
//! across versions (see `tests/fixtures/README.md`).

mod replication;
mod retention;
mod scan;

use super::{Envelope, PayloadError, field, from_json, required, text};
use crate::event::{
    ArtifactAction, ChartAction, Event, EventType, Family, Format, LEGACY_QUOTA, Origin, Quota,
    QuotaLevel, Reference, Registry, Repository, Subject, host_of_url,
};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use time::OffsetDateTime;

pub(super) fn parse_default(envelope: &Envelope<'_>) -> Result<Event, PayloadError> {
    let wire_type: String = required(envelope.kind, "type")?;
    let occur_at: Option<i64> = field(envelope.occur_at, "occur_at")?;
    let operator: Option<String> = field(envelope.operator, "operator")?;
    let occurred_at = occur_at
        .map(|secs| {
            OffsetDateTime::from_unix_timestamp(secs).map_err(|_| {
                PayloadError::field("occur_at", format!("{secs} is not a Unix time in seconds"))
            })
        })
        .transpose()?;
    let is_legacy = wire_type.starts_with(|c: char| c.is_ascii_lowercase());
    let kind = EventType::from_default_name(&wire_type);
    let origin = Origin {
        registry: Registry::Harbor,
        format: if is_legacy {
            Format::Legacy
        } else {
            Format::Default
        },
        wire_type,
        occurred_at,
        operator: operator.filter(|o| crate::event::is_present(o)),
    };
    build(kind, origin, None, envelope.event_data, "event_data")
}

/// Builds the event from Harbor's `event_data` (`raw`, found at `at` in the payload).
/// `portal_project_id` comes from a CloudEvent's `source`, which makes a portal link possible.
pub(super) fn build(
    kind: EventType,
    origin: Origin,
    portal_project_id: Option<u64>,
    raw: Option<&RawValue>,
    at: &str,
) -> Result<Event, PayloadError> {
    let data: EventData = match raw {
        Some(raw) => from_json(raw.get().as_bytes(), at)?,
        None => EventData::default(),
    };
    let resources = data.resources.unwrap_or_default();
    let subject = artifact_subject(
        data.repository.unwrap_or_default(),
        &resources,
        portal_project_id,
    );
    let family = match kind {
        EventType::Replication => {
            let (subject, replication) =
                replication::family(subject, data.replication.unwrap_or_default());
            return Ok(Event::new(
                origin,
                subject,
                Family::Replication(replication),
            ));
        }
        EventType::TagRetention => {
            let (subject, retention) =
                retention::family(subject, data.retention.unwrap_or_default());
            return Ok(Event::new(origin, subject, Family::Retention(retention)));
        }
        EventType::ScanningCompleted | EventType::ScanningFailed | EventType::ScanningStopped => {
            let overview_at = format!("{at}.resources[0]");
            Family::Scan(scan::family(
                kind,
                resources.first(),
                data.scan.as_ref(),
                &overview_at,
            )?)
        }
        EventType::QuotaExceed => quota(QuotaLevel::Exceeded, data.custom_attributes.as_ref()),
        EventType::QuotaWarning => quota(QuotaLevel::Warning, data.custom_attributes.as_ref()),
        EventType::Other if origin.wire_type == LEGACY_QUOTA => {
            let details = quota_details(data.custom_attributes.as_ref());
            let exceeded = details
                .as_deref()
                .is_some_and(|d| d.to_ascii_lowercase().contains("exceed"));
            let level = if exceeded {
                QuotaLevel::Exceeded
            } else {
                QuotaLevel::Warning
            };
            Family::Quota(Quota { level, details })
        }
        kind => match (ArtifactAction::of(kind), ChartAction::of(kind)) {
            (Some(action), _) => Family::Artifact(action),
            (None, Some(action)) => Family::Chart(action),
            // Unknown types, and MSR 3's scanner update, which Harbor does not send.
            (None, None) => Family::Other {
                data_digest: digest_of_json(raw),
            },
        },
    };
    Ok(Event::new(origin, subject, family))
}

fn quota(level: QuotaLevel, attributes: Option<&BTreeMap<String, Value>>) -> Family {
    Family::Quota(Quota {
        level,
        details: quota_details(attributes),
    })
}

/// `custom_attributes.Details` (capital D on the wire; any case accepted).
fn quota_details(attributes: Option<&BTreeMap<String, Value>>) -> Option<String> {
    attributes?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("details"))
        .and_then(|(_, v)| match v {
            Value::String(s) => Some(s.clone()).filter(|s| crate::event::is_present(s)),
            Value::Null => None,
            other => Some(other.to_string()),
        })
}

/// What push, pull, scan and quota events are about: the repository and the first resource.
fn artifact_subject(
    repository: RepositoryData,
    resources: &[Resource],
    portal_project_id: Option<u64>,
) -> Subject {
    let full_name = repository.full_name();
    let project = repository.namespace.or_else(|| {
        full_name
            .as_ref()
            .and_then(|r| r.project())
            .map(str::to_owned)
    });
    let first = resources.first();
    let reference = first.map_or_else(Reference::default, Resource::reference);
    let resource_url = first.and_then(|r| r.resource_url.as_deref());
    let harbor_host = resource_url.map(|u| host_of_url(u).to_owned());
    let link = artifact_link(
        harbor_host.as_deref(),
        resource_url,
        portal_project_id,
        full_name.as_ref(),
        reference.digest(),
    );
    let described = resources
        .iter()
        .filter_map(|r| r.describe(full_name.as_ref()))
        .collect();
    Subject {
        project,
        repository: full_name,
        reference,
        harbor_host,
        link,
        resources: described,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EventData {
    resources: Option<Vec<Resource>>,
    repository: Option<RepositoryData>,
    replication: Option<replication::ReplicationData>,
    retention: Option<retention::RetentionData>,
    scan: Option<scan::ScanData>,
    custom_attributes: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Resource {
    #[serde(deserialize_with = "text")]
    digest: Option<String>,
    #[serde(deserialize_with = "text")]
    tag: Option<String>,
    #[serde(deserialize_with = "text")]
    resource_url: Option<String>,
    /// Kept raw: only the report that counts is deserialised.
    scan_overview: Option<Box<RawValue>>,
    sbom_overview: Option<IgnoredAny>,
}

impl Resource {
    fn reference(&self) -> Reference {
        Reference::new(self.tag.as_deref(), self.digest.as_deref())
    }

    /// `repo:tag` or `repo@digest` for the description, else the resource URL.
    fn describe(&self, repository: Option<&Repository>) -> Option<String> {
        let reference = self.reference();
        match repository {
            Some(repository) if !reference.is_empty() => Some(
                crate::event::ArtifactRef {
                    repository,
                    reference: &reference,
                    short_digest: false,
                }
                .to_string(),
            ),
            _ => self.resource_url.clone(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RepositoryData {
    #[serde(deserialize_with = "text")]
    name: Option<String>,
    #[serde(deserialize_with = "text")]
    namespace: Option<String>,
    #[serde(deserialize_with = "text")]
    repo_full_name: Option<String>,
}

impl RepositoryData {
    /// `project/name`. Some events leave `repo_full_name` empty or without the project (copy
    /// quota events send `"api"`), so fall back to the parts.
    fn full_name(&self) -> Option<Repository> {
        let namespace = self.namespace.as_deref();
        match (self.repo_full_name.as_deref(), self.name.as_deref()) {
            (Some(full), _) if full.contains('/') => Repository::from_full_name(full),
            (Some(name), _) | (None, Some(name)) => Repository::in_project(namespace, name),
            (None, None) => None,
        }
    }
}

/// The Harbor portal page of the artifact where the event says enough to build it (CloudEvents
/// carries the project id), else the chart's own https URL, else the Harbor host.
fn artifact_link(
    host: Option<&str>,
    resource_url: Option<&str>,
    project_id: Option<u64>,
    repository: Option<&Repository>,
    digest: Option<&str>,
) -> Option<String> {
    if let (Some(host), Some(id), Some(repo), Some(digest)) = (host, project_id, repository, digest)
    {
        let name = percent_encoding::utf8_percent_encode(repo.name(), PATH_SEGMENT);
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
    fn json_digest_ignores_layout() {
        let a = RawValue::from_string(r#"{"b": 1, "a": [1, 2]}"#.into()).unwrap();
        let b = RawValue::from_string(r#"{"a":[1,2],"b":1}"#.into()).unwrap();
        assert_eq!(digest_of_json(Some(&a)), digest_of_json(Some(&b)));
    }

    #[test]
    fn repository_names_fall_back_to_their_parts() {
        let data = |full: Option<&str>, ns: Option<&str>, name: Option<&str>| RepositoryData {
            repo_full_name: full.map(str::to_owned),
            namespace: ns.map(str::to_owned),
            name: name.map(str::to_owned),
        };
        let full = |d: RepositoryData| d.full_name().map(|r| r.to_string());
        assert_eq!(
            full(data(Some("a/b"), Some("x"), None)).as_deref(),
            Some("a/b")
        );
        assert_eq!(
            full(data(Some("api"), Some("p"), None)).as_deref(),
            Some("p/api")
        );
        assert_eq!(
            full(data(None, Some("p"), Some("api"))).as_deref(),
            Some("p/api")
        );
        assert_eq!(full(data(None, None, Some("api"))).as_deref(), Some("api"));
        assert_eq!(full(data(None, Some("p"), None)), None);
    }
}
