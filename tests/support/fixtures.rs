//! Payload fixtures (`tests/fixtures/harbor`, `tests/fixtures/msr3`), the headers Harbor sends
//! with them, and the per-test secrets.

use super::process::random_hex;
use std::path::{Path, PathBuf};

/// `tests/fixtures` of this package.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The bytes of a fixture, by its path relative to `tests/fixtures` (`harbor/default_QUOTA_EXCEED.json`).
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = fixtures_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// A fixture parsed as JSON.
pub fn fixture_json(rel: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(rel))
        .unwrap_or_else(|e| panic!("fixture {rel} is not valid JSON: {e}"))
}

/// Every fixture: every `*.json` file directly under `tests/fixtures/harbor` and
/// `tests/fixtures/msr3` (not `raw/`, not `tls/`), relative to `tests/fixtures`, sorted. This is
/// the core suite's definition (`core/tests/core/support.rs`, `all_json_fixtures`), whose table
/// (`core/tests/core/expectations.rs`) must list exactly these files; it includes the
/// `X.headers.json` half of a binary-mode CloudEvent, which [`payload_fixtures`] leaves out.
pub fn all_json_fixtures() -> Vec<String> {
    let mut all = Vec::new();
    for sub in ["harbor", "msr3"] {
        let dir = fixtures_dir().join(sub);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list fixtures in {}: {e}", dir.display()));
        for entry in entries {
            let entry = entry.expect("reading a fixture directory entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_file = entry
                .file_type()
                .unwrap_or_else(|e| panic!("{sub}/{name}: {e}"))
                .is_file();
            if is_file && name.ends_with(".json") {
                all.push(format!("{sub}/{name}"));
            }
        }
    }
    all.sort();
    assert!(
        all.len() >= 10,
        "expected the Harbor and MSR 3 fixtures under {}, found {all:?}",
        fixtures_dir().display()
    );
    all
}

/// Every fixture that is a request body of its own: [`all_json_fixtures`] without the
/// `X.headers.json` files, each of which holds the `ce-*` headers of the binary-mode CloudEvent
/// whose body is `X.body.json` (it is part of that request, see [`harbor_request`]). A
/// `X.headers.json` without its `X.body.json` is a broken fixture and panics here.
pub fn payload_fixtures() -> Vec<String> {
    let all = all_json_fixtures();
    let mut payloads = Vec::new();
    for rel in &all {
        match rel.strip_suffix(".headers.json") {
            Some(stem) => assert!(
                all.contains(&format!("{stem}.body.json")),
                "{rel} holds the headers of a binary-mode CloudEvent, but {stem}.body.json is missing"
            ),
            None => payloads.push(rel.clone()),
        }
    }
    payloads
}

/// The `Content-Type` Harbor sends with a fixture: CloudEvents payloads go out as
/// `application/cloudevents+json`, everything else as `application/json`.
pub fn content_type_for(rel: &str) -> &'static str {
    let file = rel.rsplit('/').next().unwrap_or(rel);
    if file.starts_with("cloudevents_") {
        "application/cloudevents+json"
    } else {
        "application/json"
    }
}

/// The headers Harbor's jobservice sends (`raw/http_request_*.txt`): only `Content-Type`,
/// `Authorization` when configured, and what Go's net/http adds.
pub fn harbor_headers(content_type: &str, authorization: Option<&str>) -> Vec<(String, String)> {
    let mut headers = vec![
        ("content-type".to_owned(), content_type.to_owned()),
        ("user-agent".to_owned(), "Go-http-client/1.1".to_owned()),
        ("accept-encoding".to_owned(), "gzip".to_owned()),
    ];
    if let Some(value) = authorization {
        headers.push(("authorization".to_owned(), value.to_owned()));
    }
    headers
}

/// The request Harbor would send for a payload fixture: its body and headers.
///
/// A binary-mode CloudEvent (`X.body.json`) carries its attributes as the `ce-*` headers (and
/// the content type) stored next to it in `X.headers.json`.
pub fn harbor_request(rel: &str, authorization: Option<&str>) -> (Vec<u8>, Vec<(String, String)>) {
    let body = fixture(rel);
    let Some(stem) = rel.strip_suffix(".body.json") else {
        return (body, harbor_headers(content_type_for(rel), authorization));
    };
    let attributes = fixture_json(&format!("{stem}.headers.json"));
    let attributes = attributes
        .as_object()
        .unwrap_or_else(|| panic!("{stem}.headers.json must be an object of header values"));
    let content_type = attributes
        .get("content-type")
        .and_then(|v| v.as_str())
        .unwrap_or("application/json");
    let mut headers = harbor_headers(content_type, authorization);
    for (name, value) in attributes {
        if name != "content-type" {
            let value = value
                .as_str()
                .unwrap_or_else(|| panic!("header {name} must be a string"));
            headers.push((name.clone(), value.to_owned()));
        }
    }
    (body, headers)
}

/// The body Harbor sends for a *Slack* notify target (`raw/slack_PUSH_ARTIFACT_body.txt`
/// without its leading `#` comment lines). Not even strict JSON.
pub fn slack_body() -> Vec<u8> {
    let text = String::from_utf8(fixture("harbor/raw/slack_PUSH_ARTIFACT_body.txt"))
        .expect("the Slack fixture is UTF-8");
    let body: Vec<&str> = text
        .lines()
        .skip_while(|line| line.starts_with('#') || line.trim().is_empty())
        .collect();
    body.join("\n").into_bytes()
}

/// Distinctive per-test secrets, so a leak can be found by searching logs and responses.
#[derive(Clone, Debug)]
pub struct Secrets {
    /// The full `Authorization` value, e.g. `Bearer e2e-auth-<hex>`.
    pub auth_header: String,
    /// The Flashduty `integration_key`.
    pub integration_key: String,
    /// The MSR 3 `?token=` value.
    pub url_token: String,
}

impl Secrets {
    /// Fresh secrets, recorded in the test's capture (`tests/support/capture.rs`).
    pub fn random() -> Secrets {
        let secrets = Secrets {
            auth_header: format!("Bearer e2e-auth-{}", random_hex(16)),
            integration_key: random_hex(16),
            url_token: format!("e2etoken{}", random_hex(16)),
        };
        for (kind, value) in secrets.needles() {
            super::capture::secret(kind, &value);
        }
        secrets
    }

    /// The strings that must never appear in a log line or a response: each secret whole, and
    /// the random part of the auth header on its own (in case only the scheme is stripped).
    pub fn needles(&self) -> Vec<(&'static str, String)> {
        let auth_secret = self
            .auth_header
            .strip_prefix("Bearer ")
            .unwrap_or(&self.auth_header)
            .to_owned();
        vec![
            ("auth header", self.auth_header.clone()),
            ("auth header secret", auth_secret),
            ("integration key", self.integration_key.clone()),
            ("URL token", self.url_token.clone()),
        ]
    }
}
