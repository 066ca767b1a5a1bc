//! Hostile requests, shared by the in-process properties (`tests/handler/hostile`) and the
//! same inputs sent to the built function over HTTP (`tests/e2e/hostile`): the secrets of the
//! function under attack, the credential a request presents, and what a request is made of.
//!
//! * [`mutate`]: the fixtures to start from and how a body is mutated;
//! * [`strategies`]: the proptest strategies that generate [`Input`]s.
//!
//! The fixtures are [`payload_fixtures`](super::fixtures::payload_fixtures), each with the
//! `ce-*` headers of its binary-mode CloudEvent where it has them.

pub mod mutate;
pub mod strategies;

use super::process::random_hex;
use harbor_flashduty::handler::MAX_BODY;
use lambda_http::http::Method;
use proptest::sample::Index;
use std::sync::OnceLock;

/// The secrets of the function under attack, in-process or built (random per run, so no input
/// can know them).
pub struct Keys {
    pub auth: String,
    pub token: String,
    pub integration_key: String,
    pub push_url: String,
}

pub fn keys() -> &'static Keys {
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
    pub fn needles(&self) -> [&str; 5] {
        [
            &self.auth,
            self.auth.trim_start_matches("Bearer "),
            &self.token,
            &self.integration_key,
            &self.push_url,
        ]
    }
}

/// The credential a request presents.
#[derive(Debug, Clone)]
pub enum Cred {
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

pub const MISPLACED_HEADERS: [&str; 4] = [
    "x-authorization",
    "proxy-authorization",
    "cookie",
    "x-amz-security-token",
];

/// How the request reaches the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `http::Request` built directly: any header bytes, any body bytes.
    Direct,
    /// A Function URL event with the body as text (lossy when it is not UTF-8).
    EventText,
    /// A Function URL event with the body base64-encoded.
    EventBase64,
}

/// A request to make.
#[derive(Debug, Clone)]
pub struct Input {
    /// The fixture it was made from.
    pub origin: &'static str,
    pub method: Method,
    pub cred: Cred,
    pub body: Vec<u8>,
    /// Headers other than the credential (names lowercase).
    pub headers: Vec<(String, Vec<u8>)>,
    pub transport: Transport,
}

// ------------------------------------------------------------------------------------------------
// What a request presents

/// The `Authorization` values and `?token=` values a credential puts on the request, and
/// whether it is right by construction.
pub struct Presented {
    pub authorization: Vec<Vec<u8>>,
    pub token: Vec<String>,
    pub other_headers: Vec<(String, Vec<u8>)>,
    pub other_query: Vec<(String, String)>,
    pub right: bool,
}

pub fn present(cred: &Cred, transport: Transport) -> Presented {
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

pub fn query_string(p: &Presented) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    p.token
        .iter()
        .map(|t| format!("token={}", enc(t)))
        .chain(p.other_query.iter().map(|(k, v)| format!("{k}={}", enc(v))))
        .collect::<Vec<_>>()
        .join("&")
}

/// Headers for a failure message: lossy text, each cut to 80 characters.
pub fn show(headers: &[(String, Vec<u8>)]) -> String {
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
pub fn show_cred(cred: &Cred) -> String {
    let text = format!("{cred:?}");
    text.chars().take(200).collect()
}

// ------------------------------------------------------------------------------------------------
// Fixed inputs used in-process and over HTTP

/// The documentation envelope (SPEC §5, item 5) that fills 1 MiB with the smallest events.
pub fn big_envelope() -> (String, usize) {
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

/// Forwarding headers from which lambda_http 1.3.2 cannot build the request URL. It then
/// panics (`Url::parse(..).unwrap()`, `lambda_http/src/request.rs:553`) while converting the
/// event, before the handler runs and before any authentication.
pub const UNPARSEABLE_FORWARDING: [(&str, &str); 5] = [
    ("x-forwarded-proto", "a b"),
    ("x-forwarded-proto", ""),
    ("host", "a b"),
    ("host", "[::1"),
    ("host", "x:99999"),
];
