//! End-to-end tests of the SSM configuration mode (SPEC §3): the function reads its push URL,
//! auth header, URL token and rules from SSM Parameter Store under `SSM_PREFIX`, here served by a
//! per-test `moto_server` (`AWS_ENDPOINT_URL_SSM`), and delivers to the Flashduty stand-in.
//!
//! Run with the venv tools on PATH: `make e2e`, or
//! `PATH="$PWD/.venv/bin:$PATH" cargo nextest run --test e2e -E 'test(/^ssm::/)'`.

use crate::support::fixtures::fixture;
use crate::support::process::{closed_port, random_hex};
use crate::support::{FlashdutyStandIn, Function, Moto, Reply, Secrets};
use serde_json::json;
use std::time::{Duration, Instant};

const QUOTA_EXCEEDED: &str = "harbor/default_QUOTA_EXCEED.json";
const PUSH: &str = "harbor/default_PUSH_ARTIFACT.json";
const MSR3_TAG_PUSH: &str = "msr3/msr3_TAG_PUSH.json";
/// Harbor waits 3 s for an answer (SPEC §4).
const HARBOR_TIMEOUT: Duration = Duration::from_secs(3);
/// A short `CONFIG_TTL_SECONDS`, so refreshes happen within a test.
const TTL_SECONDS: u64 = 1;

/// A moto SSM server, a Flashduty stand-in and a fresh parameter prefix.
struct Ssm {
    secrets: Secrets,
    flashduty: FlashdutyStandIn,
    moto: Moto,
    prefix: String,
}

impl Ssm {
    async fn start() -> Ssm {
        let secrets = Secrets::random();
        let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
        let moto = Moto::start().await;
        Ssm {
            secrets,
            flashduty,
            moto,
            prefix: format!("/e2e-{}", random_hex(6)),
        }
    }

    /// `<prefix>/<name>`.
    fn param(&self, name: &str) -> String {
        format!("{}/{name}", self.prefix)
    }

    async fn put(&self, name: &str, value: &str, secure: bool) {
        self.moto.put(&self.param(name), value, secure).await;
    }

    /// `push-url` (the stand-in) and `auth-header`, both SecureString, as the README says.
    async fn put_push_url_and_auth_header(&self) {
        self.put("push-url", &self.flashduty.push_url(), true).await;
        self.put("auth-header", &self.secrets.auth_header, true)
            .await;
    }

    /// The function in SSM mode, with `extra` variables on top.
    async fn function(&self, extra: &[(&str, &str)]) -> Function {
        let ttl = TTL_SECONDS.to_string();
        let mut env = vec![
            ("SSM_PREFIX", self.prefix.as_str()),
            ("AWS_ENDPOINT_URL_SSM", self.moto.url()),
            ("CONFIG_TTL_SECONDS", ttl.as_str()),
        ];
        env.extend_from_slice(extra);
        Function::start(&env).await
    }

    async fn send(&self, function: &Function, rel: &str) -> Reply {
        function
            .post_fixture(rel, Some(&self.secrets.auth_header))
            .await
    }
}

fn expect_status_json(reply: &Reply, status: u16, context: &str) {
    reply.expect_status(status, context).expect_json(context);
}

/// Fails when the answer or the function's logs contain a secret.
fn assert_no_secret_in(secrets: &Secrets, reply: &Reply, function: &Function) {
    let logs = function.logs();
    for (what, needle) in secrets.needles() {
        assert!(
            !reply.raw.contains(&needle),
            "the {what} leaked into the answer: {}",
            reply.raw
        );
        let leaked: Vec<&str> = logs.lines().filter(|l| l.contains(&needle)).collect();
        assert!(
            leaked.is_empty(),
            "the {what} leaked into the logs:\n{}",
            leaked.join("\n")
        );
    }
}

/// moto works as SSM for the harness: put, read back (decrypted), overwrite, delete, stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_self_check() {
    let mut moto = Moto::start().await;
    let name = format!("/e2e-{}/secret", random_hex(4));
    moto.put(&name, "s3cr3t-value", true).await;
    assert_eq!(moto.get(&name, true).await.as_deref(), Some("s3cr3t-value"));
    let encrypted = moto.get(&name, false).await.unwrap_or_default();
    assert_ne!(
        encrypted, "s3cr3t-value",
        "a SecureString read without decryption is not plain"
    );

    moto.put(&name, "plain", false).await;
    assert_eq!(
        moto.get(&name, false).await.as_deref(),
        Some("plain"),
        "overwritten"
    );

    let by_path = moto
        .client()
        .get_parameters_by_path()
        .path(name.rsplit_once('/').map(|(dir, _)| dir).unwrap_or("/"))
        .recursive(true)
        .with_decryption(true)
        .send()
        .await
        .expect("GetParametersByPath on moto");
    assert_eq!(by_path.parameters().len(), 1);

    moto.delete(&name).await;
    assert_eq!(moto.get(&name, true).await, None);
    moto.delete(&name).await; // deleting again is fine

    moto.stop();
    let after_stop = moto.client().get_parameter().name(&name).send().await;
    assert!(after_stop.is_err(), "a stopped moto does not answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_from_ssm_delivers_alerts_with_rule_labels() {
    let ssm = Ssm::start().await;
    ssm.put_push_url_and_auth_header().await;
    let rules = json!({
        "labels": {"team": "platform"},
        "rules": [
            {"name": "quota to storage", "when": {"event": "QUOTA_*"}, "labels": {"owner": "storage"}}
        ]
    });
    ssm.put("rules", &rules.to_string(), false).await;
    let function = ssm.function(&[]).await;

    let reply = ssm.send(&function, QUOTA_EXCEEDED).await;
    expect_status_json(&reply, 200, "QUOTA_EXCEED with SSM configuration");
    let alert = reply.single_alert();
    assert_eq!(
        alert["event_status"], "Critical",
        "the rule keeps the built-in severity: {alert}"
    );
    let labels = &alert["labels"];
    assert_eq!(
        labels["team"], "platform",
        "top-level rules label: {labels}"
    );
    assert_eq!(
        labels["owner"], "storage",
        "matching rule's label: {labels}"
    );
    assert_eq!(labels["rule"], "quota to storage", "{labels}");

    let reply = ssm.send(&function, PUSH).await;
    expect_status_json(&reply, 200, "PUSH_ARTIFACT");
    let labels = &reply.single_alert()["labels"];
    assert_eq!(labels["team"], "platform", "{labels}");
    assert_eq!(labels["rule"], "default", "{labels}");
    assert!(
        labels.get("owner").is_none(),
        "the quota rule did not match: {labels}"
    );

    assert_eq!(
        ssm.flashduty.accepted_count(),
        2,
        "both delivered to the SSM push URL"
    );
    ssm.flashduty.assert_all_valid();
    assert_no_secret_in(&ssm.secrets, &reply, &function);
}

/// `auth-header` is not required when `url-token` is set (SPEC §3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_token_from_ssm_authenticates_msr3() {
    let ssm = Ssm::start().await;
    ssm.put("push-url", &ssm.flashduty.push_url(), true).await;
    ssm.put("url-token", &ssm.secrets.url_token, true).await;
    let function = ssm.function(&[]).await;
    let json_only = [("content-type", "application/json")];

    let query = format!("token={}", ssm.secrets.url_token);
    let reply = function
        .post_with_query(&query, fixture(MSR3_TAG_PUSH), &json_only)
        .await;
    expect_status_json(&reply, 200, "MSR 3 with the SSM url-token");
    assert_eq!(ssm.flashduty.accepted_count(), 1);

    let reply = function.post(fixture(MSR3_TAG_PUSH), &json_only).await;
    expect_status_json(&reply, 401, "MSR 3 without the token");
    assert_no_secret_in(&ssm.secrets, &reply, &function);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_push_url_is_503_naming_it() {
    let ssm = Ssm::start().await;
    ssm.put("auth-header", &ssm.secrets.auth_header, true).await;
    let function = ssm.function(&[]).await;
    let reply = ssm.send(&function, QUOTA_EXCEEDED).await;
    expect_status_json(&reply, 503, "no push-url parameter");
    assert!(
        reply.error().contains("push-url"),
        "name the parameter: {}",
        reply.error()
    );
    ssm.flashduty.assert_nothing_pushed("no push-url parameter");
}

/// `push-url` must be https; plain http only for a loopback host (SPEC §3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_push_url_to_a_remote_host_is_503() {
    let ssm = Ssm::start().await;
    let remote = format!(
        "http://example.com/event/push/alert/standard?integration_key={}",
        ssm.secrets.integration_key
    );
    ssm.put("push-url", &remote, true).await;
    ssm.put("auth-header", &ssm.secrets.auth_header, true).await;
    let function = ssm.function(&[]).await;
    let reply = ssm.send(&function, QUOTA_EXCEEDED).await;
    expect_status_json(&reply, 503, "http:// push URL to example.com");
    let error = reply.error();
    assert!(
        error.contains("push-url") && error.contains("https"),
        "name the parameter and say it must be https: {error}"
    );
    assert_no_secret_in(&ssm.secrets, &reply, &function);
}

/// `auth-header` is required unless `url-token` is set or `ALLOW_UNAUTHENTICATED=true`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_auth_header_is_503_naming_it() {
    let ssm = Ssm::start().await;
    ssm.put("push-url", &ssm.flashduty.push_url(), true).await;
    let function = ssm.function(&[]).await;
    let reply = ssm.send(&function, QUOTA_EXCEEDED).await;
    expect_status_json(&reply, 503, "no auth-header, no url-token");
    assert!(
        reply.error().contains("auth-header"),
        "name the parameter: {}",
        reply.error()
    );
    ssm.flashduty
        .assert_nothing_pushed("no auth-header parameter");
    drop(function);

    let function = ssm.function(&[("ALLOW_UNAUTHENTICATED", "true")]).await;
    let reply = function.post_fixture(QUOTA_EXCEEDED, None).await;
    expect_status_json(&reply, 200, "no auth-header but ALLOW_UNAUTHENTICATED=true");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_rules_are_503_naming_rules() {
    let ssm = Ssm::start().await;
    ssm.put_push_url_and_auth_header().await;
    ssm.put("rules", "{\"rules\": [", false).await;
    let function = ssm.function(&[]).await;
    let reply = ssm.send(&function, QUOTA_EXCEEDED).await;
    expect_status_json(&reply, 503, "rules parameter is not JSON");
    assert!(
        reply.error().contains("rules"),
        "name the parameter: {}",
        reply.error()
    );
    drop(function);

    let bad_rule = json!({"rules": [
        {"name": "fine", "when": {"event": "PULL_ARTIFACT"}, "severity": "drop"},
        {"name": "bad one", "when": {"event": "PUSH_ARTIFACT"}, "severity": "Severe"}
    ]});
    ssm.put("rules", &bad_rule.to_string(), false).await;
    let function = ssm.function(&[]).await;
    let reply = ssm.send(&function, QUOTA_EXCEEDED).await;
    expect_status_json(&reply, 503, "a rule with an unknown severity");
    let error = reply.error();
    assert!(
        error.contains("rules") && error.contains("bad one"),
        "name the parameter and the rule (SPEC §7): {error}"
    );
    ssm.flashduty.assert_nothing_pushed("invalid rules");
}

/// Changed rules are picked up once the TTL has passed, without restarting the function.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_rules_apply_after_the_ttl() {
    let ssm = Ssm::start().await;
    ssm.put_push_url_and_auth_header().await;
    let function = ssm.function(&[]).await;

    let reply = ssm.send(&function, PUSH).await;
    expect_status_json(&reply, 200, "PUSH_ARTIFACT with built-in rules");
    assert_eq!(
        reply.alerts().len(),
        1,
        "pushes are Info alerts by default: {}",
        reply.raw
    );

    let mute = json!({"rules": [
        {"name": "mute pushes", "when": {"event": "PUSH_ARTIFACT"}, "severity": "drop"}
    ]});
    ssm.put("rules", &mute.to_string(), false).await;
    let deadline = Instant::now() + Duration::from_secs(TTL_SECONDS + 5);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let reply = ssm.send(&function, PUSH).await;
        expect_status_json(&reply, 200, "PUSH_ARTIFACT after the rules changed");
        if reply.dropped().len() == 1 {
            assert_eq!(
                reply.body["dropped"],
                json!([{"event_type": "PUSH_ARTIFACT", "rule": "mute pushes"}]),
                "{}",
                reply.raw
            );
            assert_eq!(reply.alerts().len(), 0, "{}", reply.raw);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new rules were not applied {TTL_SECONDS} s (TTL) + 5 s after the change: {}",
            reply.raw
        );
    }
}

/// A failed refresh keeps the last good configuration and logs a warning (SPEC §3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ssm_outage_after_a_good_load_keeps_the_last_configuration() {
    let mut ssm = Ssm::start().await;
    ssm.put_push_url_and_auth_header().await;
    let function = ssm.function(&[]).await;
    let reply = ssm.send(&function, QUOTA_EXCEEDED).await;
    expect_status_json(&reply, 200, "first request, SSM up");

    ssm.moto.stop();
    let logs_before = function.logs().len();
    tokio::time::sleep(Duration::from_millis(TTL_SECONDS * 1000 + 500)).await;

    let reply = ssm.send(&function, QUOTA_EXCEEDED).await;
    expect_status_json(
        &reply,
        200,
        "SSM down, TTL expired: the last good configuration serves",
    );
    assert!(
        reply.elapsed < HARBOR_TIMEOUT,
        "answered in {:?}",
        reply.elapsed
    );
    assert_eq!(ssm.flashduty.accepted_count(), 2, "both requests delivered");

    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let logs = function.logs();
        let since_stop = logs.get(logs_before..).unwrap_or(&logs);
        if since_stop.lines().any(is_config_warning) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "expected a WARN log line about the failed configuration refresh; logs since SSM stopped:\n{since_stop}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A warning (tracing's text or JSON output) about configuration, SSM or a refresh.
fn is_config_warning(line: &str) -> bool {
    let lower = line.to_lowercase();
    line.contains("WARN")
        && ["config", "ssm", "refresh"]
            .iter()
            .any(|w| lower.contains(w))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssm_unreachable_at_cold_start_is_503() {
    let secrets = Secrets::random();
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let nowhere = format!("http://127.0.0.1:{}", closed_port());
    let prefix = format!("/e2e-{}", random_hex(6));
    let function = Function::start(&[
        ("SSM_PREFIX", &prefix),
        ("AWS_ENDPOINT_URL_SSM", &nowhere),
        ("CONFIG_TTL_SECONDS", "1"),
    ])
    .await;
    let reply = function
        .post_fixture(QUOTA_EXCEEDED, Some(&secrets.auth_header))
        .await;
    expect_status_json(&reply, 503, "SSM unreachable at cold start");
    assert!(!reply.error().trim().is_empty());
    assert!(
        reply.elapsed < HARBOR_TIMEOUT,
        "answered in {:?}",
        reply.elapsed
    );
    flashduty.assert_nothing_pushed("no configuration");
}
