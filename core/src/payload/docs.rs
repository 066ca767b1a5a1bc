//! The `{"event_type": "pushImage", "events": [...]}` envelope printed in Harbor 1.9's
//! documentation. Harbor never sent it, but tools copied it from the docs; each element of
//! `events` is one event.

use super::harbor::digest_of_json;
use super::{Envelope, PayloadError, from_json, non_empty, required};
use crate::event::{Details, Event, EventType, Format, Registry, is_digest};
use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

#[derive(Deserialize, Default)]
#[serde(default)]
struct DocsEvent {
    project: Option<String>,
    repo_name: Option<String>,
    tag: Option<String>,
    full_name: Option<String>,
    trigger_time: Option<i64>,
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
        .map(|(i, raw)| event(kind.clone(), &event_type, raw, i))
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
    let project = non_empty(e.project);
    let repo_name = non_empty(e.repo_name);
    let repository = non_empty(e.full_name).or_else(|| match (&project, repo_name) {
        (_, Some(name)) if name.contains('/') => Some(name),
        (Some(project), Some(name)) => Some(format!("{project}/{name}")),
        (_, name) => name,
    });
    let (tag, digest) = match non_empty(e.tag) {
        Some(tag) if is_digest(&tag) => (None, Some(tag)),
        tag => (tag, non_empty(e.image_id)),
    };
    let resources = match (&repository, &tag) {
        (Some(repo), Some(tag)) => vec![format!("{repo}:{tag}")],
        _ => Vec::new(),
    };
    Ok(Event {
        registry: Registry::Harbor,
        format: Format::DocsEnvelope,
        wire_type: wire_type.to_owned(),
        occurred_at,
        operator: None,
        project,
        repository,
        tag,
        digest,
        harbor_host: None,
        link: None,
        resources,
        details: match &kind {
            EventType::Other(_) => Details::Other {
                data_digest: digest_of_json(Some(raw)),
            },
            _ => Details::Artifact,
        },
        kind,
    })
}
