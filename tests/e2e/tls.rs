//! End-to-end tests of the function's one HTTPS client (src/transport): Flashduty and SSM are
//! reached over real TLS, through a TLS front whose certificate for 127.0.0.1 is signed by a
//! test CA (`tests/fixtures/tls/`). The compiled-in Mozilla roots do not trust that CA;
//! `SSL_CERT_FILE` naming it does.
//!
//! Run with the venv tools on PATH: `make e2e`, or
//! `PATH="$PWD/.venv/bin:$PATH" cargo nextest run --test e2e -E 'test(/^tls::/)'`.

use crate::support;
use crate::support::flashduty::PUSH_PATH;
use crate::support::tls::{TlsFront, ca_file};
use crate::support::{FlashdutyStandIn, Function, Moto, Secrets};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const QUOTA_EXCEEDED: &str = "harbor/default_QUOTA_EXCEED.json";

/// `http://127.0.0.1:<port>[/...]` → the socket address.
fn addr_of(url: &str) -> SocketAddr {
    let rest = url.trim_start_matches("http://");
    rest.split('/')
        .next()
        .and_then(|host| host.parse().ok())
        .unwrap_or_else(|| panic!("not a loopback http URL: {url}"))
}

/// The stand-in behind a TLS front: the push URL is `https://127.0.0.1:<front>/...`.
async fn flashduty_over_tls(secrets: &Secrets) -> (FlashdutyStandIn, TlsFront, String) {
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let front = TlsFront::start(addr_of(&flashduty.base_url())).await;
    let push_url = format!(
        "{}{PUSH_PATH}?integration_key={}",
        front.url(),
        secrets.integration_key
    );
    (flashduty, front, push_url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_reach_flashduty_over_https_when_ssl_cert_file_trusts_its_ca() {
    let secrets = Secrets::random();
    let (flashduty, _front, push_url) = flashduty_over_tls(&secrets).await;
    let ca = ca_file().display().to_string();
    let function = Function::start(&[
        ("FLASHDUTY_PUSH_URL", push_url.as_str()),
        ("HARBOR_AUTH_HEADER", secrets.auth_header.as_str()),
        ("SSL_CERT_FILE", ca.as_str()),
    ])
    .await;

    let reply = function
        .post_fixture(QUOTA_EXCEEDED, Some(&secrets.auth_header))
        .await;
    reply.expect_status(200, "delivered over TLS");
    assert_eq!(reply.single_alert()["event_status"], "Critical");
    assert_eq!(
        flashduty.accepted_count(),
        1,
        "the alert crossed the TLS front"
    );
    flashduty.assert_all_valid();
}

/// Without `SSL_CERT_FILE` only the compiled-in roots count: the test CA is not among them, so
/// the handshake fails; the answer is 503 (Flashduty unreachable, SPEC §4) at once, because
/// the same certificate would be refused on every retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_flashduty_certificate_is_refused_without_retrying() {
    let secrets = Secrets::random();
    let (flashduty, _front, push_url) = flashduty_over_tls(&secrets).await;
    let function = Function::start(&[
        ("FLASHDUTY_PUSH_URL", push_url.as_str()),
        ("HARBOR_AUTH_HEADER", secrets.auth_header.as_str()),
    ])
    .await;

    let started = Instant::now();
    let reply = function
        .post_fixture(QUOTA_EXCEEDED, Some(&secrets.auth_header))
        .await;
    let took = started.elapsed();
    reply
        .expect_status(503, "untrusted certificate")
        .expect_json("503");
    let error = reply.error().to_owned();
    assert!(
        error.contains("after 1 attempt(s)") && error.to_lowercase().contains("certificate"),
        "one attempt, and the reason names the certificate: {error}"
    );
    assert!(
        took < Duration::from_millis(1500),
        "no retries until the 2.5 s budget runs out: answered after {took:?}"
    );
    assert_eq!(
        flashduty.received().len(),
        0,
        "nothing crossed the TLS front"
    );
    assert!(
        !reply.raw.contains(&secrets.integration_key),
        "the push URL's key stays out of the answer: {}",
        reply.raw
    );
}

/// The SSM client runs over the same HTTPS client: with `AWS_ENDPOINT_URL_SSM` on the TLS front
/// (moto behind it) the configuration loads only when `SSL_CERT_FILE` trusts the test CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssm_is_read_over_https_with_the_same_trust() {
    let secrets = Secrets::random();
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let moto = Moto::start().await;
    let front = TlsFront::start(addr_of(moto.url())).await;
    let prefix = format!("/e2e-tls-{}", support::process::random_hex(6));
    moto.put(&format!("{prefix}/push-url"), &flashduty.push_url(), true)
        .await;
    moto.put(&format!("{prefix}/auth-header"), &secrets.auth_header, true)
        .await;
    let endpoint = front.url();
    let ca = ca_file().display().to_string();

    let trusted = Function::start(&[
        ("SSM_PREFIX", prefix.as_str()),
        ("AWS_ENDPOINT_URL_SSM", endpoint.as_str()),
        ("SSL_CERT_FILE", ca.as_str()),
    ])
    .await;
    let reply = trusted
        .post_fixture(QUOTA_EXCEEDED, Some(&secrets.auth_header))
        .await;
    reply.expect_status(200, "configuration read from SSM over TLS");
    assert_eq!(flashduty.accepted_count(), 1);

    let untrusted = Function::start(&[
        ("SSM_PREFIX", prefix.as_str()),
        ("AWS_ENDPOINT_URL_SSM", endpoint.as_str()),
    ])
    .await;
    let reply = untrusted
        .post_fixture(QUOTA_EXCEEDED, Some(&secrets.auth_header))
        .await;
    reply.expect_status(503, "SSM's certificate is not trusted");
    assert_eq!(flashduty.accepted_count(), 1, "nothing more delivered");
}
