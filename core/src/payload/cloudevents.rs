//! Harbor 2.8+ CloudEvents: structured mode (the event is the body) and binary mode (the
//! attributes are `ce-*` headers and the body is the data). `data` is Harbor's `event_data`.

use super::harbor;
use super::{Envelope, PayloadError, field, present, required};
use crate::event::{Event, EventType, Format, Origin, Registry};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// CloudEvents attributes as a binary-mode sender puts them in `ce-*` headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloudEventAttributes {
    pub specversion: String,
    pub kind: String,
    pub source: Option<String>,
    pub id: Option<String>,
    pub time: Option<String>,
    /// Harbor's `operator` extension.
    pub operator: Option<String>,
}

impl CloudEventAttributes {
    /// Reads the attributes from headers; `None` unless `ce-specversion` is present.
    /// `header` looks a header up by its lower-case name.
    pub fn from_headers<'h>(header: impl Fn(&str) -> Option<&'h str>) -> Option<Self> {
        let get = |name: &str| header(name).map(str::to_owned);
        Some(Self {
            specversion: get("ce-specversion")?,
            kind: get("ce-type").unwrap_or_default(),
            source: get("ce-source"),
            id: get("ce-id"),
            time: get("ce-time"),
            operator: get("ce-operator"),
        })
    }
}

pub(super) fn parse_structured(envelope: &Envelope<'_>) -> Result<Event, PayloadError> {
    build(
        required(envelope.kind, "type")?,
        field(envelope.source, "source")?,
        field(envelope.time, "time")?,
        field(envelope.operator, "operator")?,
        envelope.data,
        "data",
        "time",
    )
}

/// Binary mode: the attributes came as headers, `data` (if any) is the whole body.
pub(super) fn parse_binary(
    data: Option<&RawValue>,
    attributes: &CloudEventAttributes,
) -> Result<Event, PayloadError> {
    if attributes.kind.is_empty() {
        return Err(PayloadError::field(
            "ce-type header",
            "is missing: binary-mode CloudEvents need a type",
        ));
    }
    build(
        attributes.kind.clone(),
        attributes.source.clone(),
        attributes.time.clone(),
        attributes.operator.clone(),
        data,
        "data",
        "ce-time header",
    )
}

fn build(
    kind: String,
    source: Option<String>,
    time: Option<String>,
    operator: Option<String>,
    data: Option<&RawValue>,
    data_at: &str,
    time_at: &str,
) -> Result<Event, PayloadError> {
    let occurred_at = present(time)
        .map(|t| {
            OffsetDateTime::parse(&t, &Rfc3339).map_err(|e| {
                PayloadError::field(time_at, format!("is not an RFC 3339 time ({t:?}): {e}"))
            })
        })
        .transpose()?;
    let event_type = EventType::from_cloudevents_name(&kind);
    let origin = Origin {
        registry: Registry::Harbor,
        format: Format::CloudEvents,
        wire_type: kind,
        occurred_at,
        operator: present(operator),
    };
    let project_id = source.as_deref().and_then(project_id_of_source);
    harbor::build(event_type, origin, project_id, data, data_at)
}

/// `/projects/5/webhook/policies/3` -> 5.
fn project_id_of_source(source: &str) -> Option<u64> {
    let mut parts = source.split('/').filter(|p| !p.is_empty());
    while let Some(part) = parts.next() {
        if part == "projects" {
            return parts.next()?.parse().ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_id_comes_from_source() {
        assert_eq!(
            project_id_of_source("/projects/5/webhook/policies/3"),
            Some(5)
        );
        assert_eq!(project_id_of_source("/projects/x/webhook"), None);
        assert_eq!(project_id_of_source("urn:example"), None);
    }

    #[test]
    fn bad_time_names_the_attribute() {
        let body = br#"{"specversion":"1.0","type":"harbor.artifact.pushed","time":"yesterday","data":{}}"#;
        let err = crate::payload::parse(body, None).unwrap_err().to_string();
        assert!(err.starts_with("`time` is not an RFC 3339 time"), "{err}");
    }
}
