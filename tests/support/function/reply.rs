//! The function's answer, as the test (Harbor) sees it.

use serde_json::Value;
use std::time::{Duration, Instant};

/// The function's answer as the test (Harbor) sees it.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    /// Header names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body as JSON; `Null` when it is not JSON (see `raw`).
    pub body: Value,
    pub raw: String,
    pub elapsed: Duration,
    pub sent_at: Instant,
    pub answered_at: Instant,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Fails unless the status is `status`; the message shows the whole answer.
    pub fn expect_status(&self, status: u16, context: &str) -> &Reply {
        assert_eq!(
            self.status, status,
            "{context}: expected HTTP {status}, got {} after {:?}; body: {}",
            self.status, self.elapsed, self.raw
        );
        self
    }

    /// Fails unless the answer is JSON with `Content-Type: application/json` (SPEC §4).
    pub fn expect_json(&self, context: &str) -> &Reply {
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type
                .split(';')
                .next()
                .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json")),
            "{context}: Content-Type must be application/json, got {content_type:?} (HTTP {}, body {})",
            self.status,
            self.raw
        );
        assert!(
            !self.body.is_null(),
            "{context}: the body is not JSON: {:?}",
            self.raw
        );
        self
    }

    /// The `error` sentence of an error answer.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_else(|| {
            panic!(
                "expected an error answer {{\"error\": \"...\"}}, got HTTP {}: {}",
                self.status, self.raw
            )
        })
    }

    /// `alerts` of a success answer.
    pub fn alerts(&self) -> &Vec<Value> {
        self.body["alerts"].as_array().unwrap_or_else(|| {
            panic!(
                "expected a success answer with `alerts`, got HTTP {}: {}",
                self.status, self.raw
            )
        })
    }

    /// `dropped` of a success answer.
    pub fn dropped(&self) -> &Vec<Value> {
        self.body["dropped"].as_array().unwrap_or_else(|| {
            panic!(
                "expected a success answer with `dropped`, got HTTP {}: {}",
                self.status, self.raw
            )
        })
    }

    /// The only alert of a success answer.
    pub fn single_alert(&self) -> &Value {
        let alerts = self.alerts();
        assert_eq!(
            alerts.len(),
            1,
            "expected exactly one alert, got: {}",
            self.raw
        );
        &alerts[0]
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}
