//! Proptest strategies for hostile requests: mutated fixtures, odd headers, any credential,
//! method and transport. Random bytes come from one generated seed each ([`splitmix`]).

use super::mutate::{BodyOp, NOT_UTF8, RAW, Replacement, mutate, seeds};
use super::{Cred, Input, Transport};
use lambda_http::http::Method;
use proptest::prelude::*;
use proptest::sample::Index;
use std::sync::OnceLock;

pub fn arb_replacement() -> impl Strategy<Value = Replacement> {
    prop_oneof![
        4 => prop::sample::select(RAW).prop_map(Replacement::Raw),
        3 => (any::<u64>(), 0usize..24).prop_map(|(seed, len)| Replacement::Text(text(seed, len))),
        1 => (0usize..20_000, prop::sample::select(vec!['x', 'é', '\u{10ffff}', '\\', '"', '\n']))
            .prop_map(|(n, c)| Replacement::Long(n, c)),
        1 => (1usize..300, any::<bool>()).prop_map(|(n, arrays)| Replacement::Deep(n, arrays)),
    ]
}

pub fn arb_body_op() -> impl Strategy<Value = BodyOp> {
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

/// SplitMix64: random bytes from one generated seed. Generating them element by element with
/// proptest costs several times more in a debug build, and shrinking them buys little: a
/// failure prints its input.
pub fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `len` bytes a header value may hold: visible ASCII mostly, obs-text (0x80-0xff), tabs.
pub fn header_bytes(mut seed: u64, len: usize) -> Vec<u8> {
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
pub fn text(mut seed: u64, len: usize) -> String {
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
pub fn word(mut seed: u64, len: usize, alphabet: &[u8]) -> String {
    (0..len)
        .map(|_| alphabet[splitmix(&mut seed) as usize % alphabet.len()] as char)
        .collect()
}

pub fn arb_header_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    (any::<u64>(), 0..max).prop_map(|(seed, len)| header_bytes(seed, len))
}

pub fn arb_cred() -> impl Strategy<Value = Cred> {
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

pub fn arb_method() -> impl Strategy<Value = Method> {
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

pub fn content_types() -> &'static [Vec<u8>] {
    static TYPES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    TYPES.get_or_init(content_types_list)
}

pub fn content_types_list() -> Vec<Vec<u8>> {
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
pub fn arb_headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
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
            // Never x-forwarded-*: see `UNPARSEABLE_FORWARDING`.
            (format!("x-h{}", word(seed, len, b"abcdefghijklmnopqrstuvwxyz0123456789-")), value)
        }),
    ];
    prop::collection::vec(one, 0..6)
}

pub fn arb_transport() -> impl Strategy<Value = Transport> {
    prop_oneof![
        4 => Just(Transport::Direct),
        1 => Just(Transport::EventText),
        1 => Just(Transport::EventBase64),
    ]
}

/// Mutated fixtures with any credential, headers, method and transport.
pub fn arb_mutated() -> impl Strategy<Value = Input> {
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
pub fn arb_odd_headers() -> impl Strategy<Value = Input> {
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
pub fn arb_event() -> impl Strategy<Value = Input> {
    (
        arb_mutated(),
        prop_oneof![Just(Transport::EventText), Just(Transport::EventBase64)],
    )
        .prop_map(|(mut input, transport)| {
            input.transport = transport;
            input
        })
}
