//! Security checks in-process: credentials compared in constant time, the push URL scheme.

use crate::harness::{handler_with, one, runtime};
use crate::support::fixtures::fixture;
use crate::support::hostile::keys;
use crate::support::report;
use serde_json::json;
use std::time::Instant;

/// The credential comparison does not stop at the first differing byte (`subtle::ct_eq` in
/// `handler.rs`): with a 1 MiB secret, a wrong value differing in its first byte takes as long
/// to refuse as one differing in its last. An early-exit `==` (memcmp) would refuse the first
/// in microseconds and the second after scanning 1 MiB; the ratio would be several times 1.
/// Lengths are equal on purpose: a different length is refused at once (subtle documents that
/// the length is not secret).
#[test]
fn credentials_are_compared_in_constant_time() {
    const LEN: usize = 1 << 20;
    const SAMPLES: usize = 21;
    let secret = "a".repeat(LEN);
    let (handler, _) = handler_with(vec![
        ("FLASHDUTY_PUSH_URL", keys().push_url.clone()),
        ("HARBOR_AUTH_HEADER", secret.clone()),
    ]);
    let rt = runtime();
    let first = format!("b{}", &secret[1..]);
    let last = format!("{}b", &secret[..LEN - 1]);
    let body = fixture("harbor/default_PUSH_ARTIFACT.json");
    let time = |auth: &str| {
        let started = Instant::now();
        let (status, _) = one(&handler, &rt, body.clone(), Some(auth));
        assert_eq!(status, 401);
        started.elapsed()
    };
    time(&first);
    time(&last);
    let (mut t_first, mut t_last) = (Vec::new(), Vec::new());
    for _ in 0..SAMPLES {
        t_first.push(time(&first));
        t_last.push(time(&last));
    }
    t_first.sort();
    t_last.sort();
    let (m_first, m_last) = (t_first[SAMPLES / 2], t_last[SAMPLES / 2]);
    let ratio = m_last.as_secs_f64() / m_first.as_secs_f64();
    println!(
        "refusing a 1 MiB credential: first byte wrong {m_first:?}, last byte wrong {m_last:?}, ratio {ratio:.2}"
    );
    report::write(
        "hostile_constant_time",
        &json!({"secret_bytes": LEN, "median_first_byte_wrong_us": m_first.as_micros() as u64,
                "median_last_byte_wrong_us": m_last.as_micros() as u64, "ratio": (ratio * 100.0).round() / 100.0}),
    );
    assert!(
        (0.6..1.67).contains(&ratio),
        "refusal time depends on where the credential differs (ratio {ratio:.2}): not constant time"
    );
}

/// SPEC §3: the push URL must be https; plain http only to 127.0.0.1, ::1 or localhost. A
/// refused URL is a configuration error (503) that never shows the integration key.
#[test]
fn push_url_scheme_rule() {
    let rt = runtime();
    let key = "SECRETKEY0123456789";
    let cases: [(&str, bool); 18] = [
        (
            "https://api.flashcat.cloud/event/push/alert/standard?integration_key=K",
            true,
        ),
        (
            "HTTPS://API.FLASHCAT.CLOUD/event/push/alert/standard?integration_key=K",
            true,
        ),
        (
            "http://127.0.0.1:9/event/push/alert/standard?integration_key=K",
            true,
        ),
        (
            "http://localhost:9/event/push/alert/standard?integration_key=K",
            true,
        ),
        (
            "http://[::1]:9/event/push/alert/standard?integration_key=K",
            true,
        ),
        (
            "http://api.flashcat.cloud/event/push/alert/standard?integration_key=K",
            false,
        ),
        ("http://127.0.0.1.nip.io/x?integration_key=K", false),
        ("http://localhost.example.com/x?integration_key=K", false),
        ("http://127.0.0.2/x?integration_key=K", false),
        ("http://10.0.0.1/x?integration_key=K", false),
        ("http://[::ffff:127.0.0.1]/x?integration_key=K", false),
        ("http://user:K@example.com/x", false),
        ("ftp://api.flashcat.cloud/x?integration_key=K", false),
        ("file:///etc/passwd?integration_key=K", false),
        ("javascript:alert(1)//?integration_key=K", false),
        ("ws://127.0.0.1/x?integration_key=K", false),
        ("//api.flashcat.cloud/x?integration_key=K", false),
        (
            "api.flashcat.cloud/event/push/alert/standard?integration_key=K",
            false,
        ),
    ];
    let mut failures = Vec::new();
    for (url, allowed) in cases {
        let url = url.replace('K', key);
        let (handler, _) = handler_with(vec![
            ("FLASHDUTY_PUSH_URL", url.clone()),
            ("HARBOR_AUTH_HEADER", keys().auth.clone()),
        ]);
        let (status, answer) = one(
            &handler,
            &rt,
            fixture("harbor/default_PUSH_ARTIFACT.json"),
            Some(&keys().auth),
        );
        let text = answer.to_string();
        let want = if allowed { 200 } else { 503 };
        if status != want {
            failures.push(format!("{url}: expected {want}, got {status}: {text}"));
        }
        if text.contains(key) {
            failures.push(format!(
                "{url}: the integration key is in the answer: {text}"
            ));
        }
        if !allowed && !text.contains("FLASHDUTY_PUSH_URL") {
            failures.push(format!(
                "{url}: the error does not name FLASHDUTY_PUSH_URL: {text}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
