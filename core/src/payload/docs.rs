//! The `{"event_type": "pushImage", "events": [...]}` envelope printed in Harbor 1.9's
//! documentation. Harbor never sent it, but tools copied it from the docs; each element of
//! `events` is one event.

use super::harbor::digest_of_json;
use super::{Envelope, PayloadError, from_json, required, text};
use crate::event::{
    ArtifactAction, ArtifactRef, ChartAction, Event, EventType, Family, Format, Origin, Quota,
    QuotaLevel, Reference, Registry, Repository, Scan, ScanKind, ScanOutcome, Subject,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

#[derive(Deserialize, Default)]
#[serde(default)]
struct DocsEvent {
    #[serde(deserialize_with = "text")]
    project: Option<String>,
    #[serde(deserialize_with = "text")]
    repo_name: Option<String>,
    #[serde(deserialize_with = "text")]
    tag: Option<String>,
    #[serde(deserialize_with = "text")]
    full_name: Option<String>,
    trigger_time: Option<i64>,
    #[serde(deserialize_with = "text")]
    image_id: Option<String>,
}

/// Harbor sends one event per request; a list is a hand-made payload. Past this, delivery could
/// not finish within Harbor's 3 s and every retry would resend the same first alerts.
const MAX_EVENTS: usize = 100;

pub(super) fn parse(envelope: &Envelope<'_>) -> Result<Vec<Event>, PayloadError> {
    let event_type: String = required(envelope.event_type, "event_type")?;
    let events: Vec<&RawValue> = required(envelope.events, "events")?;
    if events.len() > MAX_EVENTS {
        return Err(PayloadError::field(
            "events",
            format!(
                "holds {} events; at most {MAX_EVENTS} are accepted in one request",
                events.len()
            ),
        ));
    }
    if events.is_empty() {
        return Err(PayloadError::field(
            "events",
            "is empty: there is no event to convert",
        ));
    }
    let kind = EventType::from_default_name(&event_type);
    events
        .into_iter()
        .enumerate()
        .map(|(i, raw)| event(kind, &event_type, raw, i))
        .collect()
}

fn event(
    kind: EventType,
    wire_type: &str,
    raw: &RawValue,
    index: usize,
) -> Result<Event, PayloadError> {
    let e: DocsEvent = from_json(raw.get().as_bytes(), &format!("events[{index}]"))?;
    let occurred_at = e
        .trigger_time
        .map(|secs| {
            OffsetDateTime::from_unix_timestamp(secs).map_err(|_| {
                PayloadError::field(
                    format!("events[{index}].trigger_time"),
                    format!("{secs} is not a Unix time in seconds"),
                )
            })
        })
        .transpose()?;
    let project = e.project;
    let repository = match (e.full_name.as_deref(), e.repo_name.as_deref()) {
        (Some(full), _) => Repository::from_full_name(full),
        (None, Some(name)) if name.contains('/') => Repository::from_full_name(name),
        (None, Some(name)) => Repository::in_project(project.as_deref(), name),
        (None, None) => None,
    };
    let reference = Reference::new(e.tag.as_deref(), e.image_id.as_deref());
    let resources = match (&repository, reference.tag()) {
        (Some(repository), Some(_)) => vec![
            ArtifactRef {
                repository,
                reference: &reference,
                short_digest: false,
            }
            .to_string(),
        ],
        _ => Vec::new(),
    };
    let origin = Origin {
        registry: Registry::Harbor,
        format: Format::DocsEnvelope,
        wire_type: wire_type.to_owned(),
        occurred_at,
        operator: None,
    };
    let subject = Subject {
        project,
        repository,
        reference,
        harbor_host: None,
        link: None,
        resources,
    };
    Ok(Event::new(origin, subject, family(kind, raw)))
}

/// The documented envelope carries only an artifact's fields, whatever its type says: scans
/// come without a report, quota events without details.
fn family(kind: EventType, raw: &RawValue) -> Family {
    let scan = |outcome| {
        Family::Scan(Scan {
            outcome,
            kind: ScanKind::Unspecified,
            report: None,
            error: None,
        })
    };
    let quota = |level| {
        Family::Quota(Quota {
            level,
            details: None,
        })
    };
    match kind {
        EventType::ScanningCompleted => scan(ScanOutcome::Completed),
        EventType::ScanningFailed => scan(ScanOutcome::Failed),
        EventType::ScanningStopped => scan(ScanOutcome::Stopped),
        EventType::QuotaExceed => quota(QuotaLevel::Exceeded),
        EventType::QuotaWarning => quota(QuotaLevel::Warning),
        kind => match (ArtifactAction::of(kind), ChartAction::of(kind)) {
            (Some(action), _) => Family::Artifact(action),
            (None, Some(action)) => Family::Chart(action),
            (None, None) => Family::Other {
                data_digest: digest_of_json(Some(raw)),
            },
        },
    }
}
