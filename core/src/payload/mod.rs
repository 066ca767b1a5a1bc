//! Wire formats: recognise a webhook body and turn it into canonical [`Event`]s.
//!
//! The format is told from the body's top-level keys, never from the URL:
//! `specversion` is CloudEvents, `contents` is MSR 3, `event_type` + `events` is the envelope
//! printed in Harbor 1.9's documentation, and `type` is Harbor's Default envelope (2.x names or
//! 1.x camelCase ones). CloudEvents binary mode arrives as `ce-*` headers with the data as body.

mod cloudevents;
mod docs;
mod harbor;
mod msr3;

pub use cloudevents::CloudEventAttributes;

use crate::event::Event;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use std::fmt;

/// Why a body is not a payload we can convert. The message says what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the body is not valid JSON: {reason} at line {line}, column {column}")]
    Syntax {
        reason: String,
        line: usize,
        column: usize,
    },
    #[error(
        "this is Harbor's Slack notify format: set the webhook's notify type to HTTP \
         (payload format Default or CloudEvents)"
    )]
    Slack,
    #[error("the body is {found}, but a webhook payload is a JSON object")]
    NotAnObject { found: &'static str },
    #[error(
        "not a Harbor webhook: expected `type` and `event_data` (Harbor Default), `specversion` \
         (CloudEvents), `event_type` and `events` (Harbor 1.9 documentation) or `type` and \
         `contents` (MSR 3) at the top level"
    )]
    Unrecognised,
    #[error("`{field}` {problem}")]
    Field { field: String, problem: String },
}

impl PayloadError {
    pub(crate) fn field(field: impl Into<String>, problem: impl fmt::Display) -> Self {
        Self::Field {
            field: field.into(),
            problem: problem.to_string(),
        }
    }
}

/// Parses one webhook body. `binary_ce` carries CloudEvents attributes from `ce-*` headers.
///
/// Returns one event for every format except the 1.9 documentation envelope, whose `events`
/// array may hold several.
pub fn parse(
    body: &[u8],
    binary_ce: Option<&CloudEventAttributes>,
) -> Result<Vec<Event>, PayloadError> {
    if let Some(attributes) = binary_ce
        && body.iter().all(u8::is_ascii_whitespace)
    {
        return cloudevents::parse_binary(None, attributes).map(|event| vec![event]);
    }
    ensure_object(body)?;
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| json_error(&e, body, "."))?;
    if envelope.blocks.is_some() {
        return Err(PayloadError::Slack);
    }
    if let Some(attributes) = binary_ce
        && envelope.specversion.is_none()
    {
        let data = from_json(body, "data")?;
        return cloudevents::parse_binary(Some(data), attributes).map(|event| vec![event]);
    }
    if envelope.specversion.is_some() {
        return cloudevents::parse_structured(&envelope).map(|event| vec![event]);
    }
    if envelope.contents.is_some() && envelope.kind.is_some() {
        return msr3::parse(&envelope).map(|event| vec![event]);
    }
    if envelope.event_type.is_some() && envelope.events.is_some() {
        return docs::parse(&envelope);
    }
    if envelope.kind.is_some() && (envelope.event_data.is_some() || envelope.occur_at.is_some()) {
        return harbor::parse_default(&envelope).map(|event| vec![event]);
    }
    Err(PayloadError::Unrecognised)
}

/// Every top-level key any format uses, borrowed as raw JSON: one pass over the body tells the
/// formats apart, and each parser then reads only its own fields.
#[derive(Deserialize)]
pub(crate) struct Envelope<'a> {
    #[serde(default, borrow, rename = "type")]
    pub kind: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub occur_at: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub operator: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub event_data: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub specversion: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub source: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub time: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub data: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub contents: Option<&'a RawValue>,
    #[serde(default, borrow, rename = "createdAt")]
    pub created_at: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub location: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub event_type: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub events: Option<&'a RawValue>,
    #[serde(default)]
    pub blocks: Option<IgnoredAny>,
}

/// Reads one optional top-level field of the envelope as `T`.
pub(crate) fn field<'a, T: Deserialize<'a>>(
    raw: Option<&'a RawValue>,
    name: &str,
) -> Result<Option<T>, PayloadError> {
    raw.map(|r| from_json(r.get().as_bytes(), name)).transpose()
}

/// Reads a top-level field the format cannot do without.
pub(crate) fn required<'a, T: Deserialize<'a>>(
    raw: Option<&'a RawValue>,
    name: &str,
) -> Result<T, PayloadError> {
    field(raw, name)?.ok_or_else(|| PayloadError::field(name, "is missing"))
}

/// serde would read a JSON array into a struct field by field; a payload must be an object.
fn ensure_object(body: &[u8]) -> Result<(), PayloadError> {
    let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    if first == Some(b'{') {
        return Ok(());
    }
    // Report a syntax error before a type error, so broken JSON is called broken.
    serde_json::from_slice::<IgnoredAny>(body).map_err(|e| json_error(&e, body, "."))?;
    Err(PayloadError::NotAnObject {
        found: match first {
            Some(b'[') => "a JSON array",
            Some(b'"') => "a JSON string",
            Some(b't' | b'f') => "a JSON boolean",
            Some(b'n') => "JSON null",
            _ => "a JSON number",
        },
    })
}

/// Deserialises `json` into `T`, naming the field at fault. `at` is where `json` sits in the
/// whole payload (`"."` for the body itself, `"data"` for a CloudEvent's data, ...).
pub(crate) fn from_json<'de, T: Deserialize<'de>>(
    json: &'de [u8],
    at: &str,
) -> Result<T, PayloadError> {
    // Fast path: plain serde_json. Only a failure pays for path tracking, to name the field.
    if let Ok(value) = serde_json::from_slice(json) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = join_path(at, &e.path().to_string());
        json_error(e.inner(), json, &path)
    })?;
    de.end().map_err(|e| json_error(&e, json, at))?;
    Ok(value)
}

fn join_path(at: &str, inner: &str) -> String {
    match (at, inner) {
        (".", inner) => inner.to_owned(),
        (at, ".") => at.to_owned(),
        (at, inner) => format!("{at}.{inner}"),
    }
}

/// Maps a serde_json error to ours: syntax errors keep line and column, data errors name the
/// field.
fn json_error(e: &serde_json::Error, body: &[u8], path: &str) -> PayloadError {
    use serde_json::error::Category;
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let reason = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            if looks_like_slack(body) {
                PayloadError::Slack
            } else {
                PayloadError::Syntax {
                    reason,
                    line: e.line(),
                    column: e.column(),
                }
            }
        }
        Category::Data => {
            let field = if path == "." { "payload" } else { path };
            PayloadError::field(field, reason)
        }
    }
}

/// Harbor's Slack body (`{"blocks": [...]}`) carries raw newlines in strings, so it fails as
/// JSON; recognise it so the error says what to change in Harbor.
fn looks_like_slack(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&body[..body.len().min(64)]);
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    compact.starts_with("{\"blocks\":[")
}

/// `#[serde(deserialize_with = "text")]`: a text field that Harbor sends as `""` (or blanks)
/// when empty is absent, so nothing downstream checks for blank strings.
pub(crate) fn text<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    let value: Option<String> = Deserialize::deserialize(de)?;
    Ok(value.filter(|v| crate::event::is_present(v)))
}

/// The same for a value that is already parsed.
pub(crate) fn present(value: Option<String>) -> Option<String> {
    value.filter(|v| crate::event::is_present(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_give_line_and_column() {
        let err = parse(b"{\n  \"type\": \"PUSH_ARTIFACT\",\n  oops\n}", None).unwrap_err();
        match err {
            PayloadError::Syntax { line, column, .. } => assert_eq!((line, column), (3, 3)),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn non_objects_are_named() {
        assert_eq!(
            parse(b"[1, 2]", None).unwrap_err(),
            PayloadError::NotAnObject {
                found: "a JSON array"
            }
        );
        assert_eq!(
            parse(b"42", None).unwrap_err(),
            PayloadError::NotAnObject {
                found: "a JSON number"
            }
        );
    }

    #[test]
    fn unknown_objects_are_not_harbor_payloads() {
        assert_eq!(
            parse(br#"{"hello": 1}"#, None).unwrap_err(),
            PayloadError::Unrecognised
        );
    }

    #[test]
    fn wrong_types_name_the_field() {
        let body = br#"{"type": "PUSH_ARTIFACT", "occur_at": 1,
            "event_data": {"resources": [{"tag": 5}]}}"#;
        let err = parse(body, None).unwrap_err().to_string();
        assert!(err.contains("event_data.resources[0].tag"), "{err}");
        assert!(err.contains("expected a string"), "{err}");
    }

    #[test]
    fn slack_bodies_are_recognised_valid_or_not() {
        let broken = b"{\"blocks\": [{\"type\": \"section\", \"text\": {\"text\": \"a\n\tb\"}}]}";
        assert_eq!(parse(broken, None).unwrap_err(), PayloadError::Slack);
        let valid = br#"{"blocks": []}"#;
        assert_eq!(parse(valid, None).unwrap_err(), PayloadError::Slack);
    }
}
