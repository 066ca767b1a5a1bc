//! The fixtures a hostile body starts from, and the mutations applied to them.

use super::super::fixtures::{fixture, fixture_json, payload_fixtures};
use proptest::sample::Index;
use serde_json::{Value, json};
use std::sync::OnceLock;

/// A fixture to start from: body, and the `ce-*` headers of a binary-mode CloudEvent.
pub struct Seed {
    pub name: String,
    pub body: Vec<u8>,
    pub value: Option<Value>,
    pub headers: Vec<(String, String)>,
}

pub fn seeds() -> &'static [Seed] {
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
pub const RAW: &[&str] = &[
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
pub const NOT_UTF8: &[&[u8]] = &[
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
pub enum Replacement {
    Raw(&'static str),
    Text(String),
    Long(usize, char),
    Deep(usize, bool),
}

#[derive(Debug, Clone)]
pub enum BodyOp {
    Truncate(Index),
    Insert(Index, Vec<u8>),
    NotUtf8(Index, usize),
    Replace(Index, Replacement),
    Delete(Index),
    DuplicateMember(Index),
    Wrap(usize),
}

/// How many nodes a JSON value has (itself included), in pre-order.
pub fn count(v: &Value) -> usize {
    1 + match v {
        Value::Object(m) => m.values().map(count).sum(),
        Value::Array(a) => a.iter().map(count).sum(),
        _ => 0,
    }
}

/// The `n`-th node in pre-order (0 is `v` itself); `n` must be below `count(v)`.
pub fn nth(v: &mut Value, mut n: usize) -> &mut Value {
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
pub fn remove_nth(v: &mut Value, mut n: usize) {
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
pub fn mutate(seed: &Seed, ops: &[BodyOp], pretty: bool) -> Vec<u8> {
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
