//! Hostile input against the function's HTTP contract (SPEC §4): whatever a caller sends, the
//! handler does not panic, refuses bad payloads with `400` or `413`, bad credentials with `401`
//! (before looking at the body), other methods with `405`, never answers 5xx while its
//! configuration and Flashduty are fine, never shows a secret, and answers `2xx` only with alerts
//! that respect Flashduty's limits and that it actually handed to Flashduty.
//!
//! The bulk runs in-process: `harbor_flashduty::handler::Handler` with a local configuration
//! (`LocalSource`) and an alert sink that accepts everything and records what it got, driven
//! with `lambda_http::Request`s built directly (any header bytes, any body bytes) or from
//! Function URL event JSON (`lambda_http::request::from_str`, text and base64 bodies):
//!
//! * `mutated_samples`: every fixture, mutated (truncated, bytes and invalid UTF-8 inserted,
//!   values replaced with wrong types, out-of-range numbers, huge strings, deep nesting,
//!   members deleted or duplicated), with every kind of right and wrong credential, odd
//!   content types, `ce-*` headers and methods;
//! * `odd_headers`: valid payloads with arbitrary header bytes (non-UTF-8 and obs-text in
//!   `Authorization`, `ce-*` and `Content-Type`, repeated headers, the secret in the wrong
//!   header or query parameter);
//! * `function_url_events`: Function URL events carrying the same, text or base64.
//!
//! Case counts: 60 000 + 30 000 + 15 000 by default; `HOSTILE_CASES=<n>` scales the total.
//! Deterministic tables cover bodies near and over 1 MiB and deep nesting, the constant-time
//! comparison of credentials, and the push URL scheme rule. A smaller generated set (1 500)
//! goes through the real function over HTTP (`tests/support/function.rs`) to the Flashduty
//! stand-in. Two findings are measured rather than judged (docs/RELIABILITY.md, "Found"): a
//! 1 MiB documentation envelope of ~21 600 events, and the forwarding headers (`Host`,
//! `X-Forwarded-Proto`) on which lambda_http panics before the handler runs; for the latter the
//! test build must survive. Figures go to `target/reliability/hostile_*.json`.
//!
//! Run: `cargo nextest run --test handler_hostile` (the HTTP tests need the venv on PATH, as
//! the e2e tests do); `make hostile`; part of `make test`.

mod support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use harbor_flashduty::config::{ConfigCache, LocalSource, PushUrl};
use harbor_flashduty::flashduty::{Accepted, AlertSink, DeliveryError};
use harbor_flashduty::handler::{Handler, MAX_BODY};
use harbor_flashduty_core::alert::Alert;
use lambda_http::http::{self, HeaderName, HeaderValue, Method};
use lambda_http::{Body, Request, RequestExt};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::fixtures::{fixture, fixture_json, payload_fixtures};
use support::flashduty::validate_alert;
use support::process::random_hex;
use support::report;

// ------------------------------------------------------------------------------------------------
// The function in-process

/// The secrets of the in-process handler (random per run, so no input can know them).
struct Keys {
    auth: String,
    token: String,
    integration_key: String,
    push_url: String,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let integration_key = random_hex(16);
        Keys {
            auth: format!("Bearer hostile-{}", random_hex(16)),
            token: format!("hostiletoken{}", random_hex(12)),
            push_url: format!(
                "https://flashduty.invalid/event/push/alert/standard?integration_key={integration_key}"
            ),
            integration_key,
        }
    })
}

impl Keys {
    /// Strings that must never appear in an answer.
    fn needles(&self) -> [&str; 5] {
        [
            &self.auth,
            self.auth.trim_start_matches("Bearer "),
            &self.token,
            &self.integration_key,
            &self.push_url,
        ]
    }
}

/// Accepts every alert and keeps it, so the test can compare what was "sent" with the answer.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<Alert>>,
    count: AtomicUsize,
}

struct Sink(Arc<Recorder>);

impl AlertSink for Sink {
    async fn send(
        &self,
        _url: &PushUrl,
        alert: &Alert,
        _deadline: Instant,
    ) -> Result<Accepted, DeliveryError> {
        let n = self.0.count.fetch_add(1, Ordering::SeqCst);
        self.0
            .sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(alert.clone());
        Ok(Accepted {
            request_id: Some(format!("hostile-{n}")),
            attempts: 1,
        })
    }
}

impl Recorder {
    fn take(&self) -> Vec<Alert> {
        std::mem::take(&mut *self.sent.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

type InProcess = Handler<LocalSource, Sink>;

fn handler_with(vars: Vec<(&'static str, String)>) -> (InProcess, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let vars: HashMap<&str, String> = vars.into_iter().collect();
    let source = LocalSource::from_env(move |name| vars.get(name).cloned(), false);
    let handler = Handler::new(
        ConfigCache::new(source, Duration::from_secs(300)),
        Sink(Arc::clone(&recorder)),
        false,
    );
    (handler, recorder)
}

fn handler() -> (InProcess, Arc<Recorder>) {
    let keys = keys();
    handler_with(vec![
        ("FLASHDUTY_PUSH_URL", keys.push_url.clone()),
        ("HARBOR_AUTH_HEADER", keys.auth.clone()),
        ("URL_TOKEN", keys.token.clone()),
    ])
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

// ------------------------------------------------------------------------------------------------
// Inputs

/// A fixture to start from: body, and the `ce-*` headers of a binary-mode CloudEvent.
struct Seed {
    name: String,
    body: Vec<u8>,
    value: Option<Value>,
    headers: Vec<(String, String)>,
}

fn seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        payload_fixtures()
            .into_iter()
            .map(|name| {
                let body = fixture(&name);
                let headers = match name.strip_suffix(".body.json") {
                    Some(stem) => fixture_json(&format!("{stem}.headers.json"))
                        .as_object()
                        .map(|o| {
                            o.iter()
                                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                                .collect()
                        })
                        .unwrap_or_default(),
                    None => Vec::new(),
                };
                Seed {
                    value: serde_json::from_slice(&body).ok(),
                    name,
                    body,
                    headers,
                }
            })
            .collect()
    })
}

/// JSON texts that are valid but hostile where a payload expects something else, or invalid.
const RAW: &[&str] = &[
    "null",
    "true",
    "0",
    "-0",
    "-1",
    "1e400",
    "-1e400",
    "18446744073709551616",
    "-9223372036854775809",
    "9223372036854775807",
    "-9223372036854775808",
    "1.7976931348623157e308",
    "4.9e-324",
    "1e-400",
    "123456789012345678901234567890",
    "0.1e1",
    "[]",
    "{}",
    "[null]",
    "{\"\":null}",
    "\"\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"\\uffff\"",
    "\"\\u202e\\u200b\"",
    "\"sha256:\"",
    "\"sha256:zz\"",
    "\"../../etc/passwd\"",
    "\"<script>alert(1)</script>\"",
    "\"${jndi:ldap://127.0.0.1/x}\"",
    "\"%s%n%x\"",
    "\"*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?\"",
    "\"2025-13-45T25:61:61Z\"",
    "\"+275760-09-13T00:00:00Z\"",
    "\"1741948523\"",
    "NaN",
    "Infinity",
    "01",
    "1.",
    "'single'",
    "\"unterminated",
];

/// Bytes that are not UTF-8 on their own.
const NOT_UTF8: &[&[u8]] = &[
    &[0xff],
    &[0xfe, 0xff],
    &[0xc3],
    &[0x80],
    &[0xc0, 0x80],
    &[0xed, 0xa0, 0x80],
    &[0xf4, 0x90, 0x80, 0x80],
    &[0xef, 0xbb, 0xbf],
    &[0x00],
];

#[derive(Debug, Clone)]
enum Replacement {
    Raw(&'static str),
    Text(String),
    Long(usize, char),
    Deep(usize, bool),
}

#[derive(Debug, Clone)]
enum BodyOp {
    Truncate(Index),
    Insert(Index, Vec<u8>),
    NotUtf8(Index, usize),
    Replace(Index, Replacement),
    Delete(Index),
    DuplicateMember(Index),
    Wrap(usize),
}

fn arb_replacement() -> impl Strategy<Value = Replacement> {
    prop_oneof![
        4 => prop::sample::select(RAW).prop_map(Replacement::Raw),
        3 => (any::<u64>(), 0usize..24).prop_map(|(seed, len)| Replacement::Text(text(seed, len))),
        1 => (0usize..20_000, prop::sample::select(vec!['x', 'é', '\u{10ffff}', '\\', '"', '\n']))
            .prop_map(|(n, c)| Replacement::Long(n, c)),
        1 => (1usize..300, any::<bool>()).prop_map(|(n, arrays)| Replacement::Deep(n, arrays)),
    ]
}

fn arb_body_op() -> impl Strategy<Value = BodyOp> {
    prop_oneof![
        2 => any::<Index>().prop_map(BodyOp::Truncate),
        2 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| BodyOp::Insert(i, b)),
        2 => (any::<Index>(), 0..NOT_UTF8.len()).prop_map(|(i, n)| BodyOp::NotUtf8(i, n)),
        6 => (any::<Index>(), arb_replacement()).prop_map(|(i, r)| BodyOp::Replace(i, r)),
        3 => any::<Index>().prop_map(BodyOp::Delete),
        1 => any::<Index>().prop_map(BodyOp::DuplicateMember),
        1 => (1usize..200).prop_map(BodyOp::Wrap),
    ]
}

/// How many nodes a JSON value has (itself included), in pre-order.
fn count(v: &Value) -> usize {
    1 + match v {
        Value::Object(m) => m.values().map(count).sum(),
        Value::Array(a) => a.iter().map(count).sum(),
        _ => 0,
    }
}

/// The `n`-th node in pre-order (0 is `v` itself); `n` must be below `count(v)`.
fn nth(v: &mut Value, mut n: usize) -> &mut Value {
    if n == 0 {
        return v;
    }
    n -= 1;
    let children: Vec<&mut Value> = match v {
        Value::Object(m) => m.values_mut().collect(),
        Value::Array(a) => a.iter_mut().collect(),
        _ => unreachable!("n is below count(v)"),
    };
    for child in children {
        let size = count(child);
        if n < size {
            return nth(child, n);
        }
        n -= size;
    }
    unreachable!("n is below count(v)")
}

/// Removes the `n`-th node below the root (0 is the root's first child); `n` must be below
/// `count(v) - 1`.
fn remove_nth(v: &mut Value, mut n: usize) {
    match v {
        Value::Object(m) => {
            let mut hit = None;
            for (key, child) in m.iter_mut() {
                let size = count(child);
                if n == 0 {
                    hit = Some(key.clone());
                    break;
                }
                if n < size {
                    return remove_nth(child, n - 1);
                }
                n -= size;
            }
            if let Some(key) = hit {
                m.remove(&key);
            }
        }
        Value::Array(a) => {
            let mut hit = None;
            for (i, child) in a.iter_mut().enumerate() {
                let size = count(child);
                if n == 0 {
                    hit = Some(i);
                    break;
                }
                if n < size {
                    return remove_nth(child, n - 1);
                }
                n -= size;
            }
            if let Some(i) = hit {
                a.remove(i);
            }
        }
        _ => {}
    }
}

/// Applies `ops` to a seed: JSON-level ones on its value (raw texts spliced in after
/// serialising), then byte-level ones on the text.
fn mutate(seed: &Seed, ops: &[BodyOp], pretty: bool) -> Vec<u8> {
    let mut raws: Vec<String> = Vec::new();
    let mut text = match &seed.value {
        Some(value) => {
            let mut v = value.clone();
            for op in ops {
                match op {
                    BodyOp::Replace(i, replacement) => {
                        let at = i.index(count(&v));
                        let placeholder = json!(format!("@@RAW{}@@", raws.len()));
                        raws.push(match replacement {
                            Replacement::Raw(raw) => (*raw).to_owned(),
                            Replacement::Text(t) => Value::from(t.as_str()).to_string(),
                            Replacement::Long(n, c) => {
                                // The JSON text of `n` times `c`, built without escaping
                                // character by character (slow in a debug build).
                                let one = Value::from(c.to_string()).to_string();
                                format!("\"{}\"", one[1..one.len() - 1].repeat(*n))
                            }
                            Replacement::Deep(n, arrays) => {
                                if *arrays {
                                    format!("{}{}", "[".repeat(*n), "]".repeat(*n))
                                } else {
                                    format!("{}1{}", "{\"a\":".repeat(*n), "}".repeat(*n))
                                }
                            }
                        });
                        *nth(&mut v, at) = placeholder;
                    }
                    BodyOp::Delete(i) => {
                        let below = count(&v) - 1;
                        if below > 0 {
                            remove_nth(&mut v, i.index(below));
                        }
                    }
                    _ => {}
                }
            }
            let mut text = if pretty {
                serde_json::to_string_pretty(&v)
            } else {
                serde_json::to_string(&v)
            }
            .expect("a Value serialises");
            for (i, raw) in raws.iter().enumerate() {
                text = text.replace(&format!("\"@@RAW{i}@@\""), raw);
            }
            // The document inside `n` arrays (as text: a deep `Value` is slow to build).
            for op in ops {
                if let BodyOp::Wrap(n) = op {
                    text = format!("{}{text}{}", "[".repeat(*n), "]".repeat(*n));
                }
            }
            text.into_bytes()
        }
        None => seed.body.clone(),
    };
    for op in ops {
        match op {
            BodyOp::Truncate(i) => {
                let at = i.index(text.len() + 1);
                text.truncate(at);
            }
            BodyOp::Insert(i, bytes) => {
                let at = i.index(text.len() + 1);
                text.splice(at..at, bytes.iter().copied());
            }
            BodyOp::NotUtf8(i, n) => {
                let at = i.index(text.len() + 1);
                text.splice(at..at, NOT_UTF8[*n].iter().copied());
            }
            BodyOp::DuplicateMember(i) => {
                // `{"type":"X",` becomes `{"type":"X","type":"X",`: a duplicate key.
                if let Some(open) = text.iter().position(|&b| b == b'{')
                    && let Some(comma) = text[open..].iter().position(|&b| b == b',')
                {
                    let member = text[open + 1..open + comma + 1].to_vec();
                    let times = 1 + i.index(3);
                    for _ in 0..times {
                        text.splice(open + 1..open + 1, member.iter().copied());
                    }
                }
            }
            _ => {}
        }
    }
    text
}

/// The credential a request presents.
#[derive(Debug, Clone)]
enum Cred {
    None,
    Correct,
    CorrectToken,
    /// One byte of the right value changed.
    Flip(Index, u8),
    /// A proper prefix of the right value.
    Prefix(Index),
    /// The right value with more after it.
    Extend(Vec<u8>),
    /// ASCII case of the right value swapped.
    CaseSwap,
    /// The right value with a space before or after it.
    Padded(bool),
    /// Any bytes a header value may hold, including obs-text (0x80-0xff).
    Raw(Vec<u8>),
    /// A wrong `?token=`.
    WrongToken(String),
    /// A proper prefix of the right token.
    TokenPrefix(Index),
    /// Two `Authorization` headers.
    Duplicate {
        correct_first: bool,
    },
    /// The right value in a header or query parameter that is not the credential.
    Misplaced(usize),
}

const MISPLACED_HEADERS: [&str; 4] = [
    "x-authorization",
    "proxy-authorization",
    "cookie",
    "x-amz-security-token",
];

/// SplitMix64: random bytes from one generated seed. Generating them element by element with
/// proptest costs several times more in a debug build, and shrinking them buys little: a
/// failure prints its input.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `len` bytes a header value may hold: visible ASCII mostly, obs-text (0x80-0xff), tabs.
fn header_bytes(mut seed: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            let r = splitmix(&mut seed);
            match r % 9 {
                0..=5 => 0x20 + (r >> 8) as u8 % 0x5f,
                6 | 7 => 0x80 | (r >> 8) as u8,
                _ => b'\t',
            }
        })
        .collect()
}

/// `len` characters from a pool with ASCII, controls, Latin-1, RTL and zero-width marks,
/// CJK, emoji and JSON's special characters.
fn text(mut seed: u64, len: usize) -> String {
    const POOL: &[char] = &[
        'a',
        'Z',
        '0',
        '9',
        ' ',
        '-',
        '_',
        '.',
        '/',
        ':',
        '|',
        '*',
        '?',
        '$',
        '%',
        '\\',
        '"',
        '\'',
        '\n',
        '\t',
        '\r',
        '\0',
        '\u{7f}',
        '\u{1b}',
        'é',
        'ß',
        'Ω',
        '\u{202e}',
        '\u{200b}',
        '\u{feff}',
        '中',
        '文',
        '😀',
        '\u{10ffff}',
        '\u{fffd}',
        '<',
        '>',
        '&',
        '{',
        '}',
        '[',
        ']',
    ];
    (0..len)
        .map(|_| POOL[splitmix(&mut seed) as usize % POOL.len()])
        .collect()
}

/// `len` characters of `alphabet`.
fn word(mut seed: u64, len: usize, alphabet: &[u8]) -> String {
    (0..len)
        .map(|_| alphabet[splitmix(&mut seed) as usize % alphabet.len()] as char)
        .collect()
}

fn arb_header_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    (any::<u64>(), 0..max).prop_map(|(seed, len)| header_bytes(seed, len))
}

fn arb_cred() -> impl Strategy<Value = Cred> {
    prop_oneof![
        6 => Just(Cred::Correct),
        2 => Just(Cred::CorrectToken),
        2 => Just(Cred::None),
        2 => (any::<Index>(), 1u8..=255).prop_map(|(i, x)| Cred::Flip(i, x)),
        1 => any::<Index>().prop_map(Cred::Prefix),
        1 => arb_header_bytes(8).prop_filter("non-empty", |b| !b.is_empty()).prop_map(Cred::Extend),
        1 => Just(Cred::CaseSwap),
        1 => any::<bool>().prop_map(Cred::Padded),
        2 => arb_header_bytes(80).prop_map(Cred::Raw),
        1 => (any::<u64>(), 0usize..40).prop_map(|(seed, len)| Cred::WrongToken(word(
            seed,
            len,
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~-",
        ))),
        1 => any::<Index>().prop_map(Cred::TokenPrefix),
        1 => any::<bool>().prop_map(|correct_first| Cred::Duplicate { correct_first }),
        1 => (0usize..6).prop_map(Cred::Misplaced),
    ]
}

/// How the request reaches the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// `http::Request` built directly: any header bytes, any body bytes.
    Direct,
    /// A Function URL event with the body as text (lossy when it is not UTF-8).
    EventText,
    /// A Function URL event with the body base64-encoded.
    EventBase64,
}

/// A request to make.
#[derive(Debug, Clone)]
struct Input {
    /// The fixture it was made from.
    origin: &'static str,
    method: Method,
    cred: Cred,
    body: Vec<u8>,
    /// Headers other than the credential (names lowercase).
    headers: Vec<(String, Vec<u8>)>,
    transport: Transport,
}

fn arb_method() -> impl Strategy<Value = Method> {
    prop_oneof![
        30 => Just(Method::POST),
        1 => prop::sample::select(vec![
            Method::GET,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::OPTIONS,
            Method::HEAD,
            Method::from_bytes(b"PROPFIND").expect("a method"),
            Method::from_bytes(b"post").expect("a method"),
        ]),
    ]
}

fn content_types() -> &'static [Vec<u8>] {
    static TYPES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    TYPES.get_or_init(content_types_list)
}

fn content_types_list() -> Vec<Vec<u8>> {
    [
        "application/json",
        "application/cloudevents+json",
        "application/json; charset=utf-8",
        "application/json; charset=utf-16",
        "text/plain",
        "multipart/form-data; boundary=----x",
        "application/x-www-form-urlencoded",
        "",
        "application/json\tx",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .chain([b"application/\xffjson".to_vec(), vec![b'a'; 8192]])
    .collect()
}

/// Extra headers: content types, `ce-*` attributes, junk.
fn arb_headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let ce_name = prop::sample::select(vec![
        "ce-specversion",
        "ce-type",
        "ce-time",
        "ce-source",
        "ce-id",
        "ce-operator",
        "ce-datacontenttype",
        "ce-subject",
    ]);
    let ce_value = prop_oneof![
        prop::sample::select(vec![
            "1.0",
            "0.3",
            "harbor.artifact.pushed",
            "harbor.scan.completed",
            "harbor.quota.exceeded",
            "harbor.",
            "PUSH_ARTIFACT",
            "2025-03-14T10:35:23Z",
            "2025-02-30T10:35:23Z",
            "+275760-09-13T00:00:00Z",
            "/projects/5/webhook/policies/3",
            "/projects/-1/webhook",
            "/projects/99999999999999999999999/x",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        arb_header_bytes(40),
    ];
    let one = prop_oneof![
        3 => any::<Index>().prop_map(|i| ("content-type".to_owned(), i.get(content_types()).clone())),
        4 => (ce_name, ce_value).prop_map(|(n, v)| (n.to_owned(), v)),
        1 => (any::<u64>(), 1usize..20, arb_header_bytes(40)).prop_map(|(seed, len, value)| {
            // Never x-forwarded-*: see the forwarding tests at the end.
            (format!("x-h{}", word(seed, len, b"abcdefghijklmnopqrstuvwxyz0123456789-")), value)
        }),
    ];
    prop::collection::vec(one, 0..6)
}

fn arb_transport() -> impl Strategy<Value = Transport> {
    prop_oneof![
        4 => Just(Transport::Direct),
        1 => Just(Transport::EventText),
        1 => Just(Transport::EventBase64),
    ]
}

/// Mutated fixtures with any credential, headers, method and transport.
fn arb_mutated() -> impl Strategy<Value = Input> {
    (
        any::<Index>(),
        prop::collection::vec(arb_body_op(), 0..4),
        any::<bool>(),
        arb_method(),
        arb_cred(),
        arb_headers(),
        any::<bool>(),
        arb_transport(),
    )
        .prop_map(
            |(seed, ops, pretty, method, cred, mut headers, seed_headers, transport)| {
                let seed = seed.get(seeds());
                if seed_headers {
                    for (name, value) in &seed.headers {
                        headers.push((name.clone(), value.as_bytes().to_vec()));
                    }
                }
                Input {
                    origin: &seed.name,
                    method,
                    cred,
                    body: mutate(seed, &ops, pretty),
                    headers,
                    transport,
                }
            },
        )
}

/// Valid fixtures with hostile headers and credentials.
fn arb_odd_headers() -> impl Strategy<Value = Input> {
    (any::<Index>(), arb_cred(), arb_headers(), arb_headers()).prop_map(
        |(seed, cred, mut headers, more)| {
            let seed = seed.get(seeds());
            headers.extend(more);
            for (name, value) in &seed.headers {
                headers.push((name.clone(), value.as_bytes().to_vec()));
            }
            Input {
                origin: &seed.name,
                method: Method::POST,
                cred,
                body: seed.body.clone(),
                headers,
                transport: Transport::Direct,
            }
        },
    )
}

/// The same inputs, carried by Function URL events.
fn arb_event() -> impl Strategy<Value = Input> {
    (
        arb_mutated(),
        prop_oneof![Just(Transport::EventText), Just(Transport::EventBase64)],
    )
        .prop_map(|(mut input, transport)| {
            input.transport = transport;
            input
        })
}

// ------------------------------------------------------------------------------------------------
// Requests

/// The `Authorization` values and `?token=` values a credential puts on the request, and
/// whether it is right by construction.
struct Presented {
    authorization: Vec<Vec<u8>>,
    token: Vec<String>,
    other_headers: Vec<(String, Vec<u8>)>,
    other_query: Vec<(String, String)>,
    right: bool,
}

fn present(cred: &Cred, transport: Transport) -> Presented {
    let keys = keys();
    let auth = keys.auth.as_bytes();
    let mut p = Presented {
        authorization: Vec::new(),
        token: Vec::new(),
        other_headers: Vec::new(),
        other_query: Vec::new(),
        right: false,
    };
    match cred {
        Cred::None => {}
        Cred::Correct => {
            p.authorization.push(auth.to_vec());
            p.right = true;
        }
        Cred::CorrectToken => {
            p.token.push(keys.token.clone());
            p.right = true;
        }
        Cred::Flip(i, x) => {
            let mut v = auth.to_vec();
            let at = i.index(v.len());
            v[at] ^= x;
            // Keep it a valid header value: no control bytes.
            if v[at] < 0x20 || v[at] == 0x7f {
                v[at] = b'#';
            }
            p.right = v == auth;
            p.authorization.push(v);
        }
        Cred::Prefix(i) => p.authorization.push(auth[..i.index(auth.len())].to_vec()),
        Cred::Extend(more) => {
            let mut v = auth.to_vec();
            v.extend_from_slice(more);
            p.authorization.push(v);
        }
        Cred::CaseSwap => p.authorization.push(
            auth.iter()
                .map(|b| {
                    if b.is_ascii_lowercase() {
                        b.to_ascii_uppercase()
                    } else {
                        b.to_ascii_lowercase()
                    }
                })
                .collect(),
        ),
        Cred::Padded(before) => {
            let mut v = auth.to_vec();
            if *before {
                v.insert(0, b' ');
            } else {
                v.push(b' ');
            }
            p.authorization.push(v);
        }
        Cred::Raw(bytes) => {
            p.right = bytes == auth;
            p.authorization.push(bytes.clone());
        }
        Cred::WrongToken(t) => {
            p.right = *t == keys.token;
            p.token.push(t.clone());
        }
        Cred::TokenPrefix(i) => p
            .token
            .push(keys.token[..i.index(keys.token.len())].to_owned()),
        Cred::Duplicate { correct_first } => {
            let wrong = b"Bearer wrong".to_vec();
            if *correct_first {
                p.authorization = vec![auth.to_vec(), wrong];
            } else {
                p.authorization = vec![wrong, auth.to_vec()];
            }
            // The handler reads the first value; an event joins them with a comma.
            p.right = *correct_first && transport == Transport::Direct;
        }
        Cred::Misplaced(n) => match MISPLACED_HEADERS.get(*n) {
            Some(name) => p.other_headers.push(((*name).to_owned(), auth.to_vec())),
            None => p.other_query.push((
                ["TOKEN", "tok", "auth"][n % 3].to_owned(),
                keys.token.clone(),
            )),
        },
    }
    p
}

fn query_string(p: &Presented) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    p.token
        .iter()
        .map(|t| format!("token={}", enc(t)))
        .chain(p.other_query.iter().map(|(k, v)| format!("{k}={}", enc(v))))
        .collect::<Vec<_>>()
        .join("&")
}

/// Builds the request; `None` when the transport cannot carry the input (the event JSON has
/// no way to hold it), which the caller counts as skipped.
fn build(input: &Input, p: &Presented) -> Option<Request> {
    let mut headers: Vec<(String, Vec<u8>)> = input.headers.clone();
    headers.extend(p.other_headers.iter().cloned());
    match input.transport {
        Transport::Direct => {
            let mut builder = http::Request::builder()
                .method(input.method.clone())
                .uri(format!(
                    "https://abcdefgh.lambda-url.us-east-1.on.aws/?{}",
                    query_string(p)
                ));
            for value in &p.authorization {
                builder = builder.header(
                    http::header::AUTHORIZATION,
                    HeaderValue::from_bytes(value).ok()?,
                );
            }
            for (name, value) in &headers {
                builder = builder.header(
                    HeaderName::from_bytes(name.as_bytes()).ok()?,
                    HeaderValue::from_bytes(value).ok()?,
                );
            }
            let request = builder.body(Body::from(input.body.clone())).ok()?;
            let mut query: HashMap<String, Vec<String>> = HashMap::new();
            if !p.token.is_empty() {
                query.insert("token".to_owned(), p.token.clone());
            }
            for (k, v) in &p.other_query {
                query.entry(k.clone()).or_default().push(v.clone());
            }
            Some(request.with_query_string_parameters(query))
        }
        Transport::EventText | Transport::EventBase64 => {
            let event = function_url_event(input, p, &headers);
            Some(lambda_http::request::from_str(&event.to_string()).ok()?)
        }
    }
}

/// A Function URL event (payload 2.0) as AWS builds it. Repeated headers are joined with a
/// comma, as AWS does; header values that are not UTF-8 are carried lossily.
fn function_url_event(input: &Input, p: &Presented, headers: &[(String, Vec<u8>)]) -> Value {
    let mut map = Map::new();
    for (name, value) in [
        ("host", b"abcdefgh.lambda-url.us-east-1.on.aws".as_slice()),
        ("x-forwarded-proto", b"https"),
        ("x-forwarded-for", b"203.0.113.7"),
    ] {
        map.insert(name.to_owned(), Value::from(String::from_utf8_lossy(value)));
    }
    let mut add = |name: &str, value: &[u8]| {
        let value = String::from_utf8_lossy(value).into_owned();
        match map.get_mut(name) {
            Some(Value::String(old)) => {
                old.push(',');
                old.push_str(&value);
            }
            _ => {
                map.insert(name.to_owned(), Value::from(value));
            }
        }
    };
    for value in &p.authorization {
        add("authorization", value);
    }
    for (name, value) in headers {
        // The forwarding headers are AWS's own (see forwarding_headers_* below).
        if name != "host" && name != "x-forwarded-proto" {
            add(name, value);
        }
    }
    let raw_query = query_string(p);
    let mut params = Map::new();
    for (k, v) in url::form_urlencoded::parse(raw_query.as_bytes()) {
        match params.get_mut(k.as_ref()) {
            Some(Value::String(old)) => {
                old.push(',');
                old.push_str(&v);
            }
            _ => {
                params.insert(k.into_owned(), Value::from(v.into_owned()));
            }
        }
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": raw_query,
        "headers": map,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefgh",
            "domainName": "abcdefgh.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abcdefgh",
            "http": {
                "method": input.method.as_str(),
                "path": "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "Go-http-client/1.1"
            },
            "requestId": "3b6d3a2e-0d5f-4e8e-9d2b-6f1e2a3b4c5d",
            "routeKey": "$default",
            "stage": "$default",
            "time": "14/Mar/2025:10:35:23 +0000",
            "timeEpoch": 1_741_948_523_000_u64
        },
        "isBase64Encoded": input.transport == Transport::EventBase64,
    });
    if !params.is_empty() {
        event["queryStringParameters"] = Value::Object(params);
    }
    if !input.body.is_empty() {
        event["body"] = match input.transport {
            Transport::EventBase64 => Value::from(BASE64.encode(&input.body)),
            _ => Value::from(String::from_utf8_lossy(&input.body).into_owned()),
        };
    }
    event
}

// ------------------------------------------------------------------------------------------------
// The oracle

/// What the request is, by construction.
struct Expect {
    post: bool,
    empty: bool,
    right: bool,
    too_large: bool,
}

/// Tallies of one property run.
#[derive(Default)]
struct Tally {
    cases: usize,
    skipped: usize,
    statuses: BTreeMap<u16, usize>,
    forged: usize,
    forged_accepted: usize,
    alerts_checked: usize,
    body_bytes: usize,
}

/// Checks one answer against SPEC §4 and the sink; returns the status.
fn check(
    expect: &Expect,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    sent: &[Value],
) -> Result<(), String> {
    let text = String::from_utf8_lossy(body);
    if content_type != Some("application/json") {
        return Err(format!(
            "Content-Type {content_type:?}, not application/json"
        ));
    }
    let answer: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the answer is not JSON ({e}): {text}"))?;
    for needle in keys().needles() {
        if text.contains(needle) {
            return Err(format!("a secret appears in the answer: {text}"));
        }
    }
    let expected = if !expect.post {
        Some(405)
    } else if expect.empty {
        Some(200)
    } else if !expect.right {
        Some(401)
    } else if expect.too_large {
        Some(413)
    } else {
        None
    };
    match expected {
        Some(want) if want != status => {
            return Err(format!("expected HTTP {want}, got {status}: {text}"));
        }
        None if status != 200 && status != 400 => {
            return Err(format!(
                "an authorised POST must give 200 or 400, got {status}: {text}"
            ));
        }
        _ => {}
    }
    if status != 200 {
        if answer["error"].as_str().is_none_or(|e| e.trim().is_empty()) {
            return Err(format!("HTTP {status} without an error sentence: {text}"));
        }
        if !sent.is_empty() {
            return Err(format!(
                "HTTP {status}, but {} alert(s) went to Flashduty",
                sent.len()
            ));
        }
        return Ok(());
    }
    let alerts = answer["alerts"]
        .as_array()
        .ok_or_else(|| format!("200 without alerts: {text}"))?;
    if !answer["dropped"].is_array() || answer["dry_run"] != json!(false) {
        return Err(format!("200 without `dropped` or with a dry run: {text}"));
    }
    if expect.empty
        && (!alerts.is_empty() || !answer["dropped"].as_array().is_some_and(Vec::is_empty))
    {
        return Err(format!(
            "the empty Test Endpoint POST reported events: {text}"
        ));
    }
    let mut reported = Vec::new();
    for alert in alerts {
        if !alert["flashduty_request_id"].is_string() {
            return Err(format!(
                "a forwarded alert without flashduty_request_id: {alert}"
            ));
        }
        let mut body = alert.clone();
        body.as_object_mut()
            .map(|o| o.remove("flashduty_request_id"));
        validate_alert(body.to_string().as_bytes())
            .map_err(|why| format!("an alert Flashduty would refuse ({why}): {body}"))?;
        reported.push(body);
    }
    if reported.as_slice() != sent {
        return Err(format!(
            "the answer reports {} alert(s), the sink got {}: {text}",
            reported.len(),
            sent.len()
        ));
    }
    Ok(())
}

/// Headers for a failure message: lossy text, each cut to 80 characters.
fn show(headers: &[(String, Vec<u8>)]) -> String {
    headers
        .iter()
        .map(|(n, v)| {
            let v = String::from_utf8_lossy(v);
            format!("{n}: {:?}", v.chars().take(80).collect::<String>())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A credential for a failure message.
fn show_cred(cred: &Cred) -> String {
    let text = format!("{cred:?}");
    text.chars().take(200).collect()
}

/// Runs one input in-process and checks it.
fn run_one(
    rt: &tokio::runtime::Runtime,
    handler: &InProcess,
    recorder: &Recorder,
    input: &Input,
    tally: &Mutex<Tally>,
) -> Result<(), TestCaseError> {
    let presented = present(&input.cred, input.transport);
    let Some(request) = build(input, &presented) else {
        tally.lock().unwrap_or_else(|p| p.into_inner()).skipped += 1;
        return Ok(());
    };
    // What the handler will see, for the body-related expectations: an event may have turned
    // a non-UTF-8 text body into a lossy one.
    let body_len = request.body().as_ref().len();
    let expect = Expect {
        post: request.method() == Method::POST,
        empty: body_len == 0,
        right: presented.right,
        too_large: body_len > MAX_BODY,
    };
    recorder.take();
    let response = rt.block_on(handler.handle(request));
    let sent: Vec<Value> = recorder
        .take()
        .iter()
        .map(|a| serde_json::to_value(a).expect("an alert serialises"))
        .collect();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.body().as_ref().to_vec();
    {
        let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
        t.cases += 1;
        t.body_bytes += body_len;
        *t.statuses.entry(status).or_insert(0) += 1;
        if expect.post && !expect.empty && !expect.right {
            t.forged += 1;
            if (200..300).contains(&status) {
                t.forged_accepted += 1;
            }
        }
        t.alerts_checked += sent.len();
    }
    check(&expect, status, content_type.as_deref(), &body, &sent).map_err(|why| {
        TestCaseError::fail(format!(
            "{why}\ninput (from {}): {} {} via {:?}, headers [{}]\nbody: {:.2000}",
            input.origin,
            input.method,
            show_cred(&input.cred),
            input.transport,
            show(&input.headers),
            String::from_utf8_lossy(&input.body)
        ))
    })
}

/// The share of `HOSTILE_CASES` (default 105 000) a property runs.
fn cases(default: u32) -> u32 {
    const TOTAL: u32 = 105_000;
    match std::env::var("HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        Some(total) => ((u64::from(default) * total / u64::from(TOTAL)).max(1)) as u32,
        None => default,
    }
}

/// The longest a property may run (the default counts take under a minute each).
const PROPERTY_TIME_LIMIT: Duration = Duration::from_secs(600);

/// Runs `strategy` for `n` cases against a fresh in-process handler, writes the figures to
/// `target/reliability/hostile_<name>.json` and fails on the first (shrunk) counterexample.
fn property(name: &str, n: u32, strategy: impl Strategy<Value = Input>) {
    let (handler, recorder) = handler();
    let rt = runtime();
    let tally = Mutex::new(Tally::default());
    let mut runner = TestRunner::new(ProptestConfig {
        cases: n,
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    });
    let started = Instant::now();
    let result = runner.run(&strategy, |input| {
        // Bounded in time as well as in count: a run this slow means something is wrong.
        if started.elapsed() > PROPERTY_TIME_LIMIT {
            return Err(TestCaseError::fail(format!(
                "{name}: still running after {PROPERTY_TIME_LIMIT:?}"
            )));
        }
        run_one(&rt, &handler, &recorder, &input, &tally)
    });
    let elapsed = started.elapsed();
    let tally = tally.into_inner().unwrap_or_else(|p| p.into_inner());
    let path = report::write(
        &format!("hostile_{name}"),
        &json!({
            "test": format!("tests/handler_hostile.rs {name}"),
            "driven": "in-process",
            "cases": tally.cases,
            "skipped": tally.skipped,
            "statuses": tally.statuses.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<Map<_, _>>(),
            "forged_credentials": tally.forged,
            "forged_accepted": tally.forged_accepted,
            "alerts_checked": tally.alerts_checked,
            "body_bytes": tally.body_bytes,
            // A panic fails the run (proptest catches it), so a passed run had none.
            "panics": if result.is_ok() { json!(0) } else { Value::Null },
            "passed": result.is_ok(),
            "seconds": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
        }),
    );
    println!(
        "{name}: {} cases ({} skipped) in {:.1} s, statuses {:?}, {} forged credentials, {} accepted -> {}",
        tally.cases,
        tally.skipped,
        elapsed.as_secs_f64(),
        tally.statuses,
        tally.forged,
        tally.forged_accepted,
        path.display()
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    assert_eq!(tally.forged_accepted, 0, "forged credentials were accepted");
    assert!(
        tally.statuses.contains_key(&200) && tally.statuses.contains_key(&401),
        "{name}: the inputs never reached both success and refusal: {:?}",
        tally.statuses
    );
}

#[test]
fn mutated_samples() {
    property("mutated_samples", cases(60_000), arb_mutated());
}

#[test]
fn odd_headers() {
    property("odd_headers", cases(30_000), arb_odd_headers());
}

#[test]
fn function_url_events() {
    property("function_url_events", cases(15_000), arb_event());
}

// ------------------------------------------------------------------------------------------------
// Tables: sizes, nesting, numbers

/// One fixed request in-process, with the right `Authorization` unless `auth` says otherwise.
fn one(
    handler: &InProcess,
    rt: &tokio::runtime::Runtime,
    body: Vec<u8>,
    auth: Option<&str>,
) -> (u16, Value) {
    let mut builder = http::Request::builder()
        .method(Method::POST)
        .uri("https://abcdefgh.lambda-url.us-east-1.on.aws/")
        .header("content-type", "application/json");
    if let Some(auth) = auth {
        builder = builder.header("authorization", auth);
    }
    let request = builder.body(Body::from(body)).expect("a request");
    let response = rt.block_on(handler.handle(request));
    let status = response.status().as_u16();
    let answer = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
    (status, answer)
}

fn padded(rel: &str, len: usize) -> Vec<u8> {
    let mut body = fixture(rel);
    body.resize(len, b' ');
    body
}

#[test]
fn huge_deep_and_out_of_range_bodies() {
    let (handler, recorder) = handler();
    let rt = runtime();
    let auth = keys().auth.as_str();
    let push = "harbor/default_PUSH_ARTIFACT.json";
    let long = |n: usize| "x".repeat(n);
    let with = |patch: &str| {
        let text = String::from_utf8(fixture(push)).expect("UTF-8 fixture");
        text.replacen("\"operator\": \"robot$payments+ci\"", patch, 1)
            .into_bytes()
    };
    /// What is sent, the body, the `Authorization` value, the statuses allowed.
    type Case<'a> = (&'a str, Vec<u8>, Option<&'a str>, &'a [u16]);
    let cases: Vec<Case> = vec![
        (
            "exactly 1 MiB, valid",
            padded(push, MAX_BODY),
            Some(auth),
            &[200],
        ),
        (
            "1 MiB - 1, valid",
            padded(push, MAX_BODY - 1),
            Some(auth),
            &[200],
        ),
        ("1 MiB + 1", padded(push, MAX_BODY + 1), Some(auth), &[413]),
        ("2 MiB", padded(push, 2 * MAX_BODY), Some(auth), &[413]),
        ("6 MiB", padded(push, 6 * MAX_BODY), Some(auth), &[413]),
        (
            "2 MiB without Authorization",
            padded(push, 2 * MAX_BODY),
            None,
            &[401],
        ),
        (
            "2 MiB with a wrong Authorization",
            padded(push, 2 * MAX_BODY),
            Some("Bearer x"),
            &[401],
        ),
        (
            "1 MiB of [",
            "[".repeat(MAX_BODY).into_bytes(),
            Some(auth),
            &[400],
        ),
        (
            "1 MiB of nested arrays",
            format!("{}{}", "[".repeat(MAX_BODY / 2), "]".repeat(MAX_BODY / 2)).into_bytes(),
            Some(auth),
            &[400],
        ),
        (
            "nested objects to 1 MiB",
            format!(
                "{}1{}",
                "{\"a\":".repeat(MAX_BODY / 6),
                "}".repeat(MAX_BODY / 6)
            )
            .into_bytes(),
            Some(auth),
            &[400],
        ),
        (
            "event_data 127 deep",
            with(&format!(
                "\"operator\": {}1{}",
                "[".repeat(127),
                "]".repeat(127)
            )),
            Some(auth),
            &[200, 400],
        ),
        (
            "operator of 1 MiB - 600 bytes",
            with(&format!("\"operator\": \"{}\"", long(MAX_BODY - 600))),
            Some(auth),
            &[200],
        ),
        (
            "operator of 1 MiB",
            with(&format!("\"operator\": \"{}\"", long(MAX_BODY))),
            Some(auth),
            &[413],
        ),
        (
            "200 000 escaped characters",
            with(&format!("\"operator\": \"{}\"", "\\u00e9".repeat(170_000))),
            Some(auth),
            &[200],
        ),
        (
            "occur_at 1e400",
            with("\"operator\": \"o\", \"occur_at\": 1e400"),
            Some(auth),
            &[400],
        ),
        (
            "occur_at i64::MAX",
            with(&format!("\"operator\": \"o\", \"occur_at\": {}", i64::MAX)),
            Some(auth),
            &[200, 400],
        ),
        (
            "occur_at u64::MAX + 1",
            with("\"operator\": \"o\", \"occur_at\": 18446744073709551616"),
            Some(auth),
            &[400],
        ),
        (
            "occur_at negative",
            with("\"operator\": \"o\", \"occur_at\": -62135596801"),
            Some(auth),
            &[200, 400],
        ),
        (
            "occur_at as a string",
            with("\"operator\": \"o\", \"occur_at\": \"1741948523\""),
            Some(auth),
            &[200, 400],
        ),
        (
            "operator a number",
            with("\"operator\": 12"),
            Some(auth),
            &[400],
        ),
        (
            "operator an object",
            with("\"operator\": {\"name\": \"x\"}"),
            Some(auth),
            &[400],
        ),
        (
            "a lone surrogate",
            with("\"operator\": \"\\ud800\""),
            Some(auth),
            &[400],
        ),
        (
            "invalid UTF-8 in a string",
            {
                let mut b = with("\"operator\": \"@@\"");
                let at = b.windows(2).position(|w| w == b"@@").expect("marker");
                b.splice(at..at + 2, [0xff, 0xfe]);
                b
            },
            Some(auth),
            &[400],
        ),
        (
            "a UTF-8 byte order mark",
            [b"\xef\xbb\xbf".as_slice(), &fixture(push)].concat(),
            Some(auth),
            &[400],
        ),
        (
            "UTF-16",
            fixture(push).iter().flat_map(|&b| [b, 0]).collect(),
            Some(auth),
            &[400],
        ),
        ("a NUL byte", b"\0".to_vec(), Some(auth), &[400]),
        ("whitespace only", b" \n\t ".to_vec(), Some(auth), &[400]),
        ("JSON null", b"null".to_vec(), Some(auth), &[400]),
        (
            "a top-level array of payloads",
            format!("[{}]", String::from_utf8_lossy(&fixture(push))).into_bytes(),
            Some(auth),
            &[400],
        ),
        (
            "two payloads back to back",
            [fixture(push), fixture(push)].concat(),
            Some(auth),
            &[400],
        ),
    ];
    let mut failures = Vec::new();
    let mut rows = Vec::new();
    for (what, body, auth, allowed) in &cases {
        recorder.take();
        let started = Instant::now();
        let (status, answer) = one(&handler, &rt, body.clone(), *auth);
        let elapsed = started.elapsed();
        let sent = recorder.take();
        rows.push(
            json!({"case": what, "bytes": body.len(), "status": status, "ms": report::ms(elapsed)}),
        );
        if !allowed.contains(&status) {
            failures.push(format!(
                "{what}: expected {allowed:?}, got {status}: {answer}"
            ));
        }
        if status == 200 {
            for alert in answer["alerts"].as_array().into_iter().flatten() {
                let mut body = alert.clone();
                body.as_object_mut()
                    .map(|o| o.remove("flashduty_request_id"));
                if let Err(why) = validate_alert(body.to_string().as_bytes()) {
                    failures.push(format!("{what}: {why}"));
                }
            }
        } else if !sent.is_empty() {
            failures.push(format!("{what}: HTTP {status} but alerts were sent"));
        }
    }
    report::write(
        "hostile_tables",
        &json!({"test": "tests/handler_hostile.rs huge_deep_and_out_of_range_bodies", "cases": rows}),
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The documentation envelope (SPEC §5, item 5) that fills 1 MiB with the smallest events.
fn big_envelope() -> (String, usize) {
    let event = |i: usize| format!(r#"{{"project":"p","repo_name":"p/r{i}","tag":"t"}}"#);
    let mut body = String::from(r#"{"event_type":"pushImage","events":["#);
    let mut n = 0;
    while body.len() + 200 < MAX_BODY {
        if n > 0 {
            body.push(',');
        }
        body.push_str(&event(n));
        n += 1;
    }
    body.push_str("]}");
    (body, n)
}

/// SPEC §5 lets the documentation envelope carry several events. A body near 1 MiB made of
/// tiny events becomes thousands of alerts: measured here and over HTTP below, and reported
/// (docs/RELIABILITY.md, "Found").
#[test]
fn many_events_in_one_documentation_envelope() {
    let (handler, recorder) = handler();
    let rt = runtime();
    let (body, n) = big_envelope();
    let started = Instant::now();
    let (status, answer) = one(&handler, &rt, body.into_bytes(), Some(&keys().auth));
    let elapsed = started.elapsed();
    let sent = recorder.take().len();
    let answer_bytes = answer.to_string().len();
    report::write(
        "hostile_envelope",
        &json!({
            "events_in_body": n,
            "status": status,
            "alerts_sent": sent,
            "answer_bytes": answer_bytes,
            "ms_in_process": report::ms(elapsed),
        }),
    );
    println!(
        "documentation envelope: {n} events in 1 MiB -> HTTP {status}, {sent} alerts sent, answer {answer_bytes} bytes, {elapsed:?} in-process"
    );
    assert!(status == 200 || status == 400, "HTTP {status}");
    if status == 200 {
        assert_eq!(sent, n, "every event is one alert");
    }
}

/// The same envelope through the built function (default log level, `info`) to the stand-in,
/// sent twice as Harbor would retry it. An envelope of more than 100 events is refused with 400
/// before anything is sent: tens of thousands of alerts could never be delivered in the 2.5 s
/// budget, and every retry would resend the same first ones.
/// Checked: the answer is 2xx only if every alert was accepted; a refusal is 400 or 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_events_in_one_documentation_envelope_over_http() {
    use support::{FlashdutyStandIn, Function, Secrets};
    let secrets = Secrets::random();
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let function = Function::start(&[
        ("FLASHDUTY_PUSH_URL", &flashduty.push_url()),
        ("HARBOR_AUTH_HEADER", &secrets.auth_header),
    ])
    .await;
    let (body, n) = big_envelope();
    let mut attempts = Vec::new();
    for attempt in 1..=2 {
        let before = flashduty.accepted_count();
        let reply = function
            .post(
                body.clone(),
                &[
                    ("content-type", "application/json"),
                    ("authorization", &secrets.auth_header),
                ],
            )
            .await;
        let accepted = flashduty.accepted_count() - before;
        println!(
            "documentation envelope over HTTP, attempt {attempt}: {n} events -> HTTP {} after {:?}, {accepted} alerts accepted",
            reply.status, reply.elapsed
        );
        assert!(
            [200, 400, 503].contains(&reply.status),
            "HTTP {}: {}",
            reply.status,
            reply.raw
        );
        if reply.status == 400 {
            assert!(
                reply.raw.contains("at most 100"),
                "an oversized envelope is refused before anything is sent: {}",
                reply.raw
            );
        }
        assert_eq!(
            reply.is_success(),
            accepted == n,
            "2xx if and only if every alert was accepted ({accepted} of {n})"
        );
        attempts.push(json!({
            "attempt": attempt,
            "status": reply.status,
            "time_ms": report::ms(reply.elapsed),
            "alerts_accepted": accepted,
        }));
    }
    let distinct: std::collections::HashSet<String> = flashduty
        .accepted()
        .iter()
        .map(|a| a.alert_key().to_owned())
        .collect();
    report::write(
        "hostile_envelope_http",
        &json!({
            "events_in_body": n,
            "body_bytes": body.len(),
            "attempts": attempts,
            "distinct_alerts_accepted": distinct.len(),
        }),
    );
    flashduty.assert_all_valid();
}

// ------------------------------------------------------------------------------------------------
// Security checks

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

// ------------------------------------------------------------------------------------------------
// Through the real function over HTTP

/// Cases sent to the real function.
const HTTP_CASES: usize = 1_500;
const HTTP_CONCURRENCY: usize = 8;

/// Generated inputs (deterministic) through the built function to the stand-in: the same
/// properties, with the oracle adjusted for HTTP (leading and trailing blanks of a header
/// value are not part of it, so a padded right credential is right; repeated headers may be
/// joined), and every 2xx checked against what the stand-in accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_over_http() {
    use support::{FlashdutyStandIn, Function, Secrets};
    let secrets = Secrets::random();
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let function = Arc::new(
        Function::start_scaled(
            &[
                ("FLASHDUTY_PUSH_URL", &flashduty.push_url()),
                ("HARBOR_AUTH_HEADER", &keys().auth),
                ("URL_TOKEN", &keys().token),
            ],
            4,
        )
        .await,
    );
    // Inputs over HTTP: bodies up to 256 KiB.
    let mut runner = TestRunner::deterministic();
    let strategy = prop_oneof![3 => arb_mutated(), 1 => arb_odd_headers()];
    let mut inputs = Vec::new();
    for _ in 0..HTTP_CASES * 3 {
        if inputs.len() == HTTP_CASES {
            break;
        }
        let input = strategy
            .new_tree(&mut runner)
            .expect("a generated input")
            .current();
        // The emulator answers OPTIONS (CORS preflight) itself; HEAD has no body to check.
        if input.method != Method::HEAD
            && input.method != Method::OPTIONS
            && input.body.len() <= 256 * 1024
        {
            inputs.push(input);
        }
    }
    assert_eq!(inputs.len(), HTTP_CASES, "enough inputs");
    let inputs = Arc::new(inputs);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let client = support::http_client()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("an HTTP client");
    let mut workers = Vec::new();
    for _ in 0..HTTP_CONCURRENCY {
        let (function, inputs, next) = (
            Arc::clone(&function),
            Arc::clone(&inputs),
            Arc::clone(&next),
        );
        let client = client.clone();
        workers.push(tokio::spawn(async move {
            let mut results = Vec::new();
            for _ in 0..inputs.len() {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(input) = inputs.get(i) else { break };
                results.push((i, send_http(&client, &function, input).await));
            }
            results
        }));
    }
    let mut results = Vec::new();
    let joined = tokio::time::timeout(Duration::from_secs(180), async {
        for worker in workers {
            results.extend(worker.await.expect("an HTTP worker panicked"));
        }
    })
    .await;
    assert!(joined.is_ok(), "the HTTP cases did not finish within 180 s");
    let elapsed = started.elapsed();
    let accepted = flashduty.accepted();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let (mut forged, mut forged_accepted) = (0, 0);
    let mut failures = Vec::new();
    for (i, outcome) in &results {
        let input = &inputs[*i];
        let Some((status, content_type, body, p)) = outcome else {
            continue;
        };
        *statuses.entry(*status).or_insert(0) += 1;
        let text = String::from_utf8_lossy(body);
        // Over HTTP the blanks around a header value are not part of it.
        let trimmed_right = p
            .authorization
            .first()
            .is_some_and(|v| v.trim_ascii() == keys().auth.as_bytes());
        let maybe_right = p.right
            || trimmed_right
            || p.authorization
                .iter()
                .any(|v| v.as_slice() == keys().auth.as_bytes());
        let definitely_wrong = !maybe_right;
        let nonempty_post = input.method == Method::POST && !input.body.is_empty();
        if nonempty_post && definitely_wrong {
            forged += 1;
            if (200..300).contains(status) {
                forged_accepted += 1;
            }
        }
        let mut problems = Vec::new();
        if content_type.as_deref() != Some("application/json") {
            problems.push(format!("Content-Type {content_type:?}"));
        }
        if *status >= 500 {
            problems.push("a 5xx".to_owned());
        }
        if input.method != Method::POST && *status != 405 {
            problems.push("not 405 for another method".to_owned());
        }
        if nonempty_post && definitely_wrong && *status != 401 {
            problems.push("wrong credentials not refused with 401".to_owned());
        }
        if nonempty_post && ![200, 400, 401, 413].contains(status) {
            problems.push("a POST answered outside 200/400/401/413".to_owned());
        }
        for needle in keys()
            .needles()
            .iter()
            .chain([&secrets.integration_key.as_str()])
        {
            if text.contains(needle) {
                problems.push("a secret in the answer".to_owned());
            }
        }
        if *status == 200 {
            let answer: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            for alert in answer["alerts"].as_array().into_iter().flatten() {
                let id = alert["flashduty_request_id"].as_str().unwrap_or_default();
                if !accepted.iter().any(|a| a.request_id == id) {
                    problems.push(format!(
                        "2xx reports {id:?}, which the stand-in did not accept"
                    ));
                }
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "case {i}: HTTP {status}: {}\n  input (from {}): {} {}, headers [{}]\n  body: {:.300}\n  answer: {text:.300}",
                problems.join("; "),
                input.origin,
                input.method,
                show_cred(&input.cred),
                show(&input.headers),
                String::from_utf8_lossy(&input.body)
            ));
        }
    }
    let skipped = results.iter().filter(|(_, o)| o.is_none()).count();
    flashduty.assert_all_valid();
    report::write(
        "hostile_http",
        &json!({
            "test": "tests/handler_hostile.rs hostile_requests_over_http",
            "driven": "the built function under cargo lambda watch, over HTTP",
            "cases": results.len() - skipped,
            "skipped": skipped,
            "statuses": statuses.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<Map<_, _>>(),
            "forged_credentials": forged,
            "forged_accepted": forged_accepted,
            "alerts_accepted_by_flashduty": accepted.len(),
            "seconds": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
            "passed": failures.is_empty(),
        }),
    );
    println!(
        "over HTTP: {} cases ({skipped} not sendable) in {:.1} s, statuses {statuses:?}, {forged} forged credentials, {forged_accepted} accepted",
        results.len() - skipped,
        elapsed.as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        results.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(forged_accepted, 0);
}

type HttpOutcome = Option<(u16, Option<String>, Vec<u8>, Presented)>;

/// What the emulator can carry: it answers 500 itself (before the function) to a header value
/// that is not UTF-8 and to a text body that is not UTF-8, so over HTTP such bytes become `?`
/// and U+FFFD; the in-process properties cover the raw bytes.
fn emulator_safe(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|&b| if b.is_ascii() { b } else { b'?' })
        .collect()
}

/// Sends one input to the function over HTTP; `None` when reqwest cannot carry it.
async fn send_http(
    client: &reqwest::Client,
    function: &support::Function,
    input: &Input,
) -> HttpOutcome {
    let p = present(&input.cred, Transport::Direct);
    let query = query_string(&p);
    let url = if query.is_empty() {
        function.url()
    } else {
        format!("{}?{query}", function.url())
    };
    let mut headers = reqwest::header::HeaderMap::new();
    for value in &p.authorization {
        headers.append(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_bytes(&emulator_safe(value)).ok()?,
        );
    }
    for (name, value) in input.headers.iter().chain(&p.other_headers) {
        headers.append(
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).ok()?,
            reqwest::header::HeaderValue::from_bytes(&emulator_safe(value)).ok()?,
        );
    }
    let body = String::from_utf8_lossy(&input.body)
        .into_owned()
        .into_bytes();
    let method = reqwest::Method::from_bytes(input.method.as_str().as_bytes()).ok()?;
    let response = client
        .request(method, &url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("no answer over HTTP: {e}\ninput: {input:?}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let header_pairs: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response.bytes().await.ok()?.to_vec();
    support::capture::response(
        function.capture_dir(),
        "url",
        status,
        &header_pairs,
        &String::from_utf8_lossy(&body),
    );
    Some((status, content_type, body, p))
}

// ------------------------------------------------------------------------------------------------
// Host and X-Forwarded-Proto: parsed by lambda_http before the handler runs

/// Forwarding headers from which lambda_http 1.3.2 cannot build the request URL. It then
/// panics (`Url::parse(..).unwrap()`, `lambda_http/src/request.rs:553`) while converting the
/// event, before the handler runs and before any authentication.
const UNPARSEABLE_FORWARDING: [(&str, &str); 5] = [
    ("x-forwarded-proto", "a b"),
    ("x-forwarded-proto", ""),
    ("host", "a b"),
    ("host", "[::1"),
    ("host", "x:99999"),
];

/// Which Function URL events make lambda_http panic while turning them into a `Request`: only
/// the known ones. The list is what a caller might influence (forwarding headers, query
/// string, path) plus a body AWS would never send (bad base64); a new panic fails the test.
#[test]
fn lambda_http_panics_only_on_known_events() {
    let base = |headers: &[(&str, &str)], raw_query: &str, raw_path: &str, body: (&str, bool)| {
        let mut map = Map::new();
        map.insert("host".into(), json!("abcdefgh.lambda-url.us-east-1.on.aws"));
        map.insert("x-forwarded-proto".into(), json!("https"));
        for (k, v) in headers {
            map.insert((*k).into(), json!(v));
        }
        json!({
            "version": "2.0", "routeKey": "$default", "rawPath": raw_path,
            "rawQueryString": raw_query, "headers": map,
            "requestContext": {"accountId": "anonymous", "apiId": "abcdefgh",
                "domainName": "abcdefgh.lambda-url.us-east-1.on.aws", "domainPrefix": "abcdefgh",
                "http": {"method": "POST", "path": raw_path, "protocol": "HTTP/1.1",
                         "sourceIp": "203.0.113.7", "userAgent": "x"},
                "requestId": "r", "routeKey": "$default", "stage": "$default",
                "time": "14/Mar/2025:10:35:23 +0000", "timeEpoch": 0},
            "body": body.0, "isBase64Encoded": body.1
        })
        .to_string()
    };
    let ok_body = ("{}", false);
    let mut cases: Vec<(String, String, bool)> = Vec::new();
    for (name, value) in UNPARSEABLE_FORWARDING {
        cases.push((
            format!("{name}: {value:?}"),
            base(&[(name, value)], "", "/", ok_body),
            true,
        ));
    }
    // An empty Host makes `https:///`, which does not parse either.
    cases.push((
        "host: \"\"".into(),
        base(&[("host", "")], "", "/", ok_body),
        true,
    ));
    for (name, value) in [
        ("x-forwarded-proto", "http"),
        ("x-forwarded-proto", "javascript"),
        ("x-forwarded-proto", "h\u{e9}"),
        ("host", "\u{e9}.example"),
        ("host", "a/b?c#d"),
    ] {
        cases.push((
            format!("{name}: {value:?}"),
            base(&[(name, value)], "", "/", ok_body),
            false,
        ));
    }
    // A raw query string that is not a valid URI query: `http::Request::builder().uri(..)`
    // fails and lambda_http's `.expect("failed to build request")` panics (request.rs:173).
    // HTTP servers refuse such request lines (the emulator's answers 400 to `"`), so only a
    // front end that passes them on could reach this.
    for (query, panics) in [
        ("token=a b", true),
        ("token=\"x\"", true),
        ("token=\u{e9}", false),
        ("a=%zz", false),
        ("token={|}", false),
        ("&&&===", false),
    ] {
        cases.push((
            format!("rawQueryString {query:?}"),
            base(&[], query, "/", ok_body),
            panics,
        ));
    }
    for path in ["/a b", "/\u{e9}", "//x", "/%zz", ""] {
        cases.push((
            format!("rawPath {path:?}"),
            base(&[], "", path, ok_body),
            false,
        ));
    }
    // `Body::from_maybe_encoded(..).expect(..)`: AWS itself encodes the body, so only a broken
    // event, never a caller, can carry invalid base64.
    cases.push((
        "invalid base64 body".into(),
        base(&[], "", "/", ("@@@", true)),
        true,
    ));

    // The panic messages go to the test's captured output (shown only if it fails).
    let mut outcome = Vec::new();
    for (what, event, known) in &cases {
        let panicked = std::panic::catch_unwind(|| {
            let _ = lambda_http::request::from_str(event);
        })
        .is_err();
        outcome.push((what.clone(), panicked, *known));
    }
    let unknown: Vec<&String> = outcome
        .iter()
        .filter(|(_, panicked, known)| *panicked && !known)
        .map(|(what, _, _)| what)
        .collect();
    let panicking: Vec<&String> = outcome
        .iter()
        .filter(|(_, panicked, _)| *panicked)
        .map(|(what, _, _)| what)
        .collect();
    println!("lambda_http panics converting: {panicking:?}");
    report::write(
        "hostile_lambda_http",
        &json!({"events": outcome.len(), "panicking": panicking, "unexpected": unknown}),
    );
    assert!(
        unknown.is_empty(),
        "lambda_http panics on events not known to make it panic: {unknown:?}"
    );
}

/// A request whose Host or X-Forwarded-Proto lambda_http cannot parse is refused without
/// taking the instance down: the next request is served. Unauthenticated, since the panic
/// comes before authentication.
///
/// With the test build (`panic = "unwind"`), lambda_runtime catches lambda_http's panic and the
/// emulator answers 500. With the release profile's `panic = "abort"` the same request aborts
/// the instance: `HARBOR_FLASHDUTY_E2E_BIN=target/release/harbor-flashduty` makes this test
/// fail until the release build unwinds or `main.rs` sanitises these headers (see
/// docs/RELIABILITY.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparseable_forwarding_headers_do_not_take_the_instance_down() {
    use support::{FlashdutyStandIn, Function, Secrets};
    let secrets = Secrets::random();
    let flashduty = FlashdutyStandIn::start_with_key(&secrets.integration_key).await;
    let mut function = Function::start(&[
        ("FLASHDUTY_PUSH_URL", &flashduty.push_url()),
        ("HARBOR_AUTH_HEADER", &secrets.auth_header),
    ])
    .await;
    let client = support::http_client()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client");
    let mut rows = Vec::new();
    for (name, value) in UNPARSEABLE_FORWARDING {
        let answer = client
            .post(function.url())
            .header(name, value)
            .body(fixture("harbor/default_PUSH_ARTIFACT.json"))
            .send()
            .await;
        let status = answer.as_ref().map(|r| r.status().as_u16()).ok();
        if let Ok(response) = answer {
            let headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = response.text().await.unwrap_or_default();
            support::capture::response(
                function.capture_dir(),
                "url",
                status.unwrap_or(0),
                &headers,
                &body,
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let alive = function.instances_alive();
        assert_eq!(
            alive,
            1,
            "`{name}: {value:?}` (unauthenticated) took the instance down (answer: {status:?})\nlogs:\n{}",
            function.logs()
        );
        let next = function
            .post_fixture(
                "harbor/default_PUSH_ARTIFACT.json",
                Some(&secrets.auth_header),
            )
            .await;
        next.expect_status(200, "the request after it");
        rows.push(
            json!({"header": name, "value": value, "status": status, "next_status": next.status}),
        );
    }
    report::write("hostile_forwarding", &json!({"cases": rows}));
    assert!(
        !function.logs().contains(&secrets.auth_header),
        "the auth header leaked into the logs"
    );
}
