//! The function's HTTP contract in local mode, end to end (SPEC §3, §4, §6).
//!
//! Each test runs the built `harbor-flashduty` binary behind its local Function URL
//! (`tests/support/function.rs`) and points it at an in-process Flashduty stand-in
//! (`tests/support/flashduty.rs`) through `FLASHDUTY_PUSH_URL`. Requests are sent the way Harbor
//! sends them (its content types, `Go-http-client/1.1`, the configured `Authorization`).
//!
//! * [`standin`]: the stand-in itself validates, records and fails on command;
//! * [`contract`]: methods, the empty test request, authentication, size, parsing;
//! * [`alerts`]: what is sent to Flashduty, dry runs;
//! * [`delivery`]: retries, the time budget, nothing lost;
//! * [`credentials`]: the URL token (MSR 3), unauthenticated mode, no secret in logs or answers.
//!
//! The same contract is checked in-process, status by status, by the `handler` binary
//! (`tests/handler/contract`). Run with the venv tools on PATH: `make e2e`, or
//! `PATH="$PWD/.venv/bin:$PATH" cargo nextest run --test e2e -E 'test(/^http::/)'`.

mod alerts;
mod contract;
mod credentials;
mod delivery;
mod standin;

use crate::support::fixtures::fixture;
use crate::support::{FlashdutyStandIn, Function, Reply, Secrets};
use serde_json::Value;
use std::time::Duration;

pub(crate) const QUOTA_EXCEEDED: &str = "harbor/default_QUOTA_EXCEED.json";
pub(crate) const PULL: &str = "harbor/default_PULL_ARTIFACT.json";
pub(crate) const MSR3_TAG_PUSH: &str = "msr3/msr3_TAG_PUSH.json";
pub(crate) const MSR3_SCAN_CRITICAL: &str = "msr3/msr3_SCAN_COMPLETED_critical.json";
/// Harbor waits 3 s for an answer (SPEC §4; the function's own budget is 2.5 s).
pub(crate) const HARBOR_TIMEOUT: Duration = Duration::from_secs(3);
pub(crate) const ONE_MIB: usize = 1024 * 1024;

/// The function in local mode in front of a fresh Flashduty stand-in.
pub(crate) struct Local {
    pub(crate) secrets: Secrets,
    pub(crate) flashduty: FlashdutyStandIn,
    pub(crate) function: Function,
}

impl Local {
    /// Local mode with the stand-in's push URL and an auth header, plus `extra` variables.
    pub(crate) async fn start(extra: &[(&'static str, &str)]) -> Local {
        Local::start_with(|secrets, flashduty| {
            let mut env = vec![
                ("FLASHDUTY_PUSH_URL", flashduty.push_url()),
                ("HARBOR_AUTH_HEADER", secrets.auth_header.clone()),
            ];
            env.extend(
                extra
                    .iter()
                    .map(|(name, value)| (*name, (*value).to_owned())),
            );
            env
        })
        .await
    }

    /// Local mode with exactly the variables `env` returns (beyond the fixed AWS ones).
    pub(crate) async fn start_with(
        env: impl FnOnce(&Secrets, &FlashdutyStandIn) -> Vec<(&'static str, String)>,
    ) -> Local {
        let secrets = Secrets::random();
        let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
        let env = env(&secrets, &flashduty);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let function = Function::start(&env).await;
        Local {
            secrets,
            flashduty,
            function,
        }
    }

    /// Harbor's request for a fixture, with the configured `Authorization`.
    pub(crate) async fn send(&self, rel: &str) -> Reply {
        self.function
            .post_fixture(rel, Some(&self.secrets.auth_header))
            .await
    }

    /// A JSON body with the configured `Authorization` (and nothing Harbor-specific).
    pub(crate) async fn post_authorized(&self, body: impl Into<Vec<u8>>) -> Reply {
        self.function
            .post(
                body,
                &[
                    ("content-type", "application/json"),
                    ("authorization", &self.secrets.auth_header),
                ],
            )
            .await
    }
}

/// Asserts a success answer: `200`, JSON, the three fields of SPEC §4.
pub(crate) fn expect_success(reply: &Reply, context: &str) {
    reply.expect_status(200, context).expect_json(context);
    assert!(
        reply.body["dry_run"].is_boolean(),
        "{context}: `dry_run` must be a boolean: {}",
        reply.raw
    );
    reply.alerts();
    reply.dropped();
}

/// Asserts an error answer with this status: JSON `{"error": "<sentence>"}`.
pub(crate) fn expect_error(reply: &Reply, status: u16, context: &str) {
    reply.expect_status(status, context).expect_json(context);
    assert!(
        !reply.error().trim().is_empty(),
        "{context}: the error sentence is empty: {}",
        reply.raw
    );
}

/// A fixture padded with trailing whitespace (still valid JSON) to exactly `len` bytes.
pub(crate) fn padded_fixture(rel: &str, len: usize) -> Vec<u8> {
    let mut body = fixture(rel);
    while body.last().is_some_and(u8::is_ascii_whitespace) {
        body.pop();
    }
    assert!(
        body.len() <= len,
        "{rel} is already longer than {len} bytes"
    );
    body.resize(len, b' ');
    body
}

/// The alert as the function reports it, without the field only the response carries.
pub(crate) fn sent_body(alert: &Value) -> Value {
    let mut body = alert.clone();
    if let Some(object) = body.as_object_mut() {
        object.remove("flashduty_request_id");
    }
    body
}
