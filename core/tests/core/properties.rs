//! Property tests: whatever arrives, `convert` never panics, errors say something, and every
//! alert it builds stays within Flashduty's limits (SPEC section 6).
//!
//! Case count: 2 000 per property by default; `PROPTEST_CASES` overrides it.

use crate::support::*;
use harbor_flashduty_core::convert::{Action, convert};
use harbor_flashduty_core::payload::CloudEventAttributes;
use harbor_flashduty_core::rules::Rules;
use harbor_flashduty_core::severity::Severity;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2_000);
    ProptestConfig {
        cases,
        // Do not write regression files into the source tree; failures print their input.
        failure_persistence: None,
        max_shrink_iters: 4_096,
        ..ProptestConfig::default()
    }
}

// ------------------------------------------------------------------------------------------------
// Seeds: every fixture body (and the Slack body, and the bodies of the raw HTTP requests).

struct Seed {
    name: String,
    body: Vec<u8>,
    value: Option<Value>,
    attributes: Option<CloudEventAttributes>,
}

fn binary_headers() -> CloudEventAttributes {
    attributes_from_headers(&json_fixture(
        "harbor/cloudevents_binary_harbor.artifact.pushed.headers.json",
    ))
}

fn seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = Vec::new();
        for name in all_json_fixtures() {
            if name.ends_with(".headers.json") {
                continue;
            }
            let body = read_fixture(&name);
            let value = serde_json::from_slice(&body).ok();
            let attributes = name.contains("cloudevents_binary").then(binary_headers);
            seeds.push(Seed {
                name,
                body,
                value,
                attributes,
            });
        }
        seeds.push(Seed {
            name: "slack body".into(),
            body: slack_body(),
            value: None,
            attributes: None,
        });
        for raw in [
            "harbor/raw/http_request_cloudevents.txt",
            "harbor/raw/http_request_default.txt",
        ] {
            let text = String::from_utf8(read_fixture(raw)).unwrap();
            let body = text
                .split_once("\n\n")
                .map(|(_, b)| b.trim().to_owned())
                .unwrap_or_default();
            seeds.push(Seed {
                name: raw.into(),
                value: serde_json::from_str(&body).ok(),
                body: body.into_bytes(),
                attributes: None,
            });
        }
        assert!(seeds.len() >= 55, "{} seeds", seeds.len());
        seeds
    })
}

// ------------------------------------------------------------------------------------------------
// Random JSON

const KEYS: &[&str] = &[
    "type",
    "occur_at",
    "operator",
    "event_data",
    "resources",
    "repository",
    "digest",
    "tag",
    "resource_url",
    "scan_overview",
    "summary",
    "severity",
    "scan_status",
    "scanner",
    "name",
    "version",
    "namespace",
    "repo_full_name",
    "replication",
    "retention",
    "job_status",
    "src_resource",
    "dest_resource",
    "successful_artifact",
    "failed_artifact",
    "name_tag",
    "references",
    "custom_attributes",
    "Details",
    "scan",
    "scan_type",
    "sbom_overview",
    "specversion",
    "id",
    "source",
    "time",
    "data",
    "contents",
    "createdAt",
    "location",
    "scanSummary",
    "critical",
    "major",
    "minor",
    "reponame",
    "imageName",
    "author",
    "event_type",
    "events",
    "trigger_time",
    "image_id",
    "full_name",
    "repo_name",
    "project",
    "blocks",
    "total",
    "fixable",
    "components",
    "count",
    "success",
    "scanner_version",
    "db_version",
    "harbor_hostname",
    "project_name",
    "retention_policy_id",
    "deleted_artifact",
    "result",
    "retained",
    "endpoint",
    "registry_name",
    "trigger_type",
    "description",
    "error",
    "start_time",
    "end_time",
    "application/vnd.security.vulnerability.report; version=1.1",
    "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0",
    "Critical",
    "High",
    "Medium",
    "Low",
    "Unknown",
    "Negligible",
    "None",
];

const STRINGS: &[&str] = &[
    "",
    " ",
    "PUSH_ARTIFACT",
    "PULL_ARTIFACT",
    "SCANNING_COMPLETED",
    "SCANNING_FAILED",
    "SCANNING_STOPPED",
    "QUOTA_EXCEED",
    "QUOTA_WARNING",
    "REPLICATION",
    "TAG_RETENTION",
    "UPLOAD_CHART",
    "pushImage",
    "projectQuota",
    "scanningCompleted",
    "harbor.artifact.pushed",
    "harbor.scan.completed",
    "harbor.quota.exceeded",
    "harbor.replication.status.changed",
    "harbor.tag_retention.finished",
    "harbor.unknown",
    "TAG_PUSH",
    "SCAN_COMPLETED",
    "SCANNER_UPDATE_COMPLETED",
    "Critical",
    "High",
    "None",
    "Success",
    "Error",
    "Stopped",
    "SUCCESS",
    "Running",
    "sbom",
    "vulnerability",
    "1.0",
    "2025-03-14T10:45:00Z",
    "2024-03-11T09:16:45.550912003Z",
    "yesterday",
    "sha256:279de0f302447ee788ec20612facf44e4ec21f48ce7456f300d52667f319bd8c",
    "sha256:",
    "harbor.example.com/payments/api:v2.7.1",
    "https://harbor.example.com",
    "/projects/5/webhook/policies/3",
    "/projects/99999999999999999999999/x",
    "api [2 item(s) in total]",
    "api:v1",
    "a@sha256:00",
    "payments/api",
    "exceed",
    "msr.example.com/payments/api:1",
    "[TPL] ${x}",
    "\u{0}",
    "\u{feff}",
    "é",
    "🦀",
];

/// Texts put into the serialised JSON where a value was: numbers and strings `Value` cannot hold.
const RAW: &[&str] = &[
    "18446744073709551616",
    "-9223372036854775809",
    "9223372036854775807",
    "-9223372036854775808",
    "1e400",
    "-1e400",
    "1e-400",
    "123456789012345678901234567890",
    "1.7976931348623157e308",
    "-0",
    "-0.0",
    "4.9e-324",
    "1E2",
    "0.5",
    "-1",
    "-377705116801",
    "253402300800",
    "-62135596800",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "\"\\udbff\\udfff\"",
    "[]",
    "{}",
    "[null]",
    "\"\"",
    "true",
    "null",
];

/// Byte snippets inserted anywhere.
const SNIPPETS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\",
    "\\u",
    "\u{feff}",
    "\0",
    "\u{fffd}",
    "{\"blocks\":[",
    "null",
    "1e999",
    "\n",
    "/*",
    "NaN",
    "Infinity",
    "\"type\":",
    "\"specversion\":\"1.0\",",
    "\"contents\":{},",
];

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-z_]{1,10}",
        1 => ".{0,8}",
    ]
}

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(STRINGS).prop_map(str::to_owned),
        3 => ".{0,24}",
        1 => prop::collection::vec(any::<char>(), 0..32).prop_map(|v| v.into_iter().collect()),
        1 => (0usize..6_000).prop_map(|n| "x".repeat(n)),
        1 => (0usize..2_500, any::<char>()).prop_map(|(n, c)| std::iter::repeat_n(c, n).collect()),
    ]
}

fn arb_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        prop::sample::select(vec![
            json!(0),
            json!(-1),
            json!(1),
            json!(i64::MIN),
            json!(i64::MAX),
            json!(u64::MAX),
            json!(1e308),
            json!(-1e308),
            json!(5e-324),
            json!(0.5),
            json!(1741949100),
            json!(-1741949100),
        ]),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        3 => arb_number(),
        4 => arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(arb_key(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

// ------------------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, Clone)]
enum Replacement {
    Json(Value),
    Raw(&'static str),
}

#[derive(Debug, Clone)]
enum ValueOp {
    Delete(usize),
    Replace(usize, Replacement),
}

#[derive(Debug, Clone)]
enum ByteOp {
    Truncate(usize),
    Insert(usize, Vec<u8>),
    InsertText(usize, &'static str),
    Overwrite(usize, u8),
    Remove(usize, usize),
}

fn arb_value_op() -> impl Strategy<Value = ValueOp> {
    prop_oneof![
        2 => any::<usize>().prop_map(ValueOp::Delete),
        3 => (any::<usize>(), arb_json()).prop_map(|(i, v)| ValueOp::Replace(i, Replacement::Json(v))),
        1 => (any::<usize>(), prop::sample::select(RAW)).prop_map(|(i, r)| ValueOp::Replace(i, Replacement::Raw(r))),
    ]
}

/// Mostly none, so that value mutations reach the converter as valid JSON.
fn arb_byte_ops() -> impl Strategy<Value = Vec<ByteOp>> {
    prop_oneof![
        2 => Just(Vec::new()),
        1 => prop::collection::vec(arb_byte_op(), 1..4),
    ]
}

fn arb_byte_op() -> impl Strategy<Value = ByteOp> {
    prop_oneof![
        2 => any::<usize>().prop_map(ByteOp::Truncate),
        2 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(i, b)| ByteOp::Insert(i, b)),
        2 => (any::<usize>(), prop::sample::select(SNIPPETS)).prop_map(|(i, s)| ByteOp::InsertText(i, s)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| ByteOp::Overwrite(i, b)),
        1 => (any::<usize>(), 1usize..64).prop_map(|(i, n)| ByteOp::Remove(i, n)),
    ]
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Idx(usize),
}

fn collect_paths(v: &Value, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(Seg::Key(k.clone()));
                collect_paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(Seg::Idx(i));
                collect_paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(v: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    path.iter().fold(v, |node, seg| match seg {
        Seg::Key(k) => node.get_mut(k.as_str()).expect("path exists"),
        Seg::Idx(i) => node.get_mut(*i).expect("path exists"),
    })
}

/// Applies value mutations, serialises (compact or pretty), then applies byte mutations.
fn mutate(seed: &Seed, value_ops: &[ValueOp], pretty: bool, byte_ops: &[ByteOp]) -> Vec<u8> {
    let mut body = match &seed.value {
        Some(value) if !value_ops.is_empty() => {
            let mut v = value.clone();
            let mut raws = Vec::new();
            for op in value_ops {
                let mut paths = Vec::new();
                collect_paths(&v, &mut Vec::new(), &mut paths);
                match op {
                    ValueOp::Delete(i) => {
                        let deletable: Vec<_> =
                            paths.into_iter().filter(|p| !p.is_empty()).collect();
                        if deletable.is_empty() {
                            continue;
                        }
                        let path = &deletable[i % deletable.len()];
                        let (last, parent) = path.split_last().unwrap();
                        match (node_mut(&mut v, parent), last) {
                            (Value::Object(m), Seg::Key(k)) => {
                                m.remove(k);
                            }
                            (Value::Array(a), Seg::Idx(i)) => {
                                a.remove(*i);
                            }
                            _ => unreachable!(),
                        }
                    }
                    ValueOp::Replace(i, replacement) => {
                        let path = &paths[i % paths.len()];
                        let new = match replacement {
                            Replacement::Json(j) => j.clone(),
                            Replacement::Raw(r) => {
                                raws.push(*r);
                                json!(format!("@@RAW{}@@", raws.len() - 1))
                            }
                        };
                        *node_mut(&mut v, path) = new;
                    }
                }
            }
            let mut text = if pretty {
                serde_json::to_string_pretty(&v)
            } else {
                serde_json::to_string(&v)
            }
            .unwrap();
            for (i, raw) in raws.iter().enumerate() {
                text = text.replace(&format!("\"@@RAW{i}@@\""), raw);
            }
            text.into_bytes()
        }
        _ => seed.body.clone(),
    };
    for op in byte_ops {
        let at = |i: usize, len: usize| i % (len + 1);
        match op {
            ByteOp::Truncate(i) => {
                let n = at(*i, body.len());
                body.truncate(n);
            }
            ByteOp::Insert(i, bytes) => {
                let n = at(*i, body.len());
                body.splice(n..n, bytes.iter().copied());
            }
            ByteOp::InsertText(i, text) => {
                let n = at(*i, body.len());
                body.splice(n..n, text.bytes());
            }
            ByteOp::Overwrite(i, b) => {
                if !body.is_empty() {
                    let n = i % body.len();
                    body[n] = *b;
                }
            }
            ByteOp::Remove(i, len) => {
                let n = at(*i, body.len());
                let end = (n + len).min(body.len());
                body.drain(n..end);
            }
        }
    }
    body
}

fn check(
    body: &[u8],
    attributes: Option<&CloudEventAttributes>,
    rules: &Rules,
) -> Result<(), TestCaseError> {
    let result = convert(body, attributes, rules);
    check_result(&result)
        .map_err(|e| TestCaseError::fail(format!("{e}\nbody: {}", String::from_utf8_lossy(body))))
}

/// Rules that touch every label path: top-level labels, rule labels, a Critical override.
fn busy_rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        let labels: Map<String, Value> = (0..30)
            .map(|i| (format!("static_{i}"), json!("v".repeat(3_000))))
            .collect();
        rules(
            &json!({"labels": labels, "rules": [
                {"name": "long", "when": {"project": "*"}, "labels": {"owner": "x".repeat(5_000)}},
                {"name": "everything else", "when": {}, "severity": "Critical"}
            ]})
            .to_string(),
        )
    })
}

// ------------------------------------------------------------------------------------------------
// (a) mutated fixtures, (b) arbitrary JSON and bytes

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_fixtures_never_panic_and_alerts_stay_within_limits(
        seed in 0usize..1_000,
        value_ops in prop::collection::vec(arb_value_op(), 0..5),
        pretty in any::<bool>(),
        byte_ops in arb_byte_ops(),
        binary in 0u8..4,
        busy in any::<bool>(),
    ) {
        let seed = &seeds()[seed % seeds().len()];
        let body = mutate(seed, &value_ops, pretty, &byte_ops);
        let headers = binary_headers();
        // The binary pair with its headers; now and then any body as binary-mode data.
        let attributes = match (&seed.attributes, binary) {
            (Some(a), _) => Some(a.clone()),
            (None, 0) => Some(headers),
            _ => None,
        };
        let rules = if busy { busy_rules().clone() } else { builtin() };
        check(&body, attributes.as_ref(), &rules)
            .map_err(|e| TestCaseError::fail(format!("seed {}: {e}", seed.name)))?;
    }

    #[test]
    fn arbitrary_json_never_panics(
        value in prop_oneof![
            2 => arb_json(),
            3 => prop::collection::btree_map(arb_key(), arb_json(), 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ],
        binary in any::<bool>(),
        ce_type in prop_oneof![Just(String::new()), arb_string()],
        ce_time in prop_oneof![Just(None), arb_string().prop_map(Some)],
    ) {
        let body = serde_json::to_vec(&value).unwrap();
        check(&body, None, &builtin())?;
        check(&body, None, busy_rules())?;
        if binary {
            let attributes = CloudEventAttributes::from_headers(|name| match name {
                "ce-specversion" => Some("1.0"),
                "ce-type" => Some(ce_type.as_str()),
                "ce-time" => ce_time.as_deref(),
                "ce-source" => Some("/projects/5/webhook/policies/3"),
                _ => None,
            });
            check(&body, attributes.as_ref(), &builtin())?;
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..600),
            "[\\[\\]{}\":,0-9a-z_. \n\\\\-]{0,300}".prop_map(String::into_bytes),
        ],
        binary in any::<bool>(),
    ) {
        let attributes = binary.then(binary_headers);
        check(&body, attributes.as_ref(), &builtin())?;
    }
}

/// Guards against a vacuous property: the mutations must leave many payloads convertible
/// (reaching the alert builder) and break many others (reaching the error paths).
#[test]
fn mutations_reach_both_alerts_and_errors() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let strategy = (
        0usize..1_000,
        prop::collection::vec(arb_value_op(), 0..5),
        any::<bool>(),
        arb_byte_ops(),
    );
    let mut runner = TestRunner::deterministic();
    let (mut alerts, mut errors) = (0, 0);
    for _ in 0..600 {
        let (seed, value_ops, pretty, byte_ops) = strategy.new_tree(&mut runner).unwrap().current();
        let seed = &seeds()[seed % seeds().len()];
        match convert(
            &mutate(seed, &value_ops, pretty, &byte_ops),
            seed.attributes.as_ref(),
            &builtin(),
        ) {
            Ok(c) if c.iter().any(|c| matches!(c.action, Action::Send(_))) => alerts += 1,
            Ok(_) => {}
            Err(_) => errors += 1,
        }
    }
    eprintln!("mutations: {alerts} alerts, {errors} errors of 600");
    assert!(
        alerts >= 100,
        "only {alerts} of 600 mutated payloads gave an alert"
    );
    assert!(
        errors >= 100,
        "only {errors} of 600 mutated payloads gave an error"
    );
}

// ------------------------------------------------------------------------------------------------
// (c) deep nesting

fn assert_no_overflow(
    body: &[u8],
    attributes: Option<&CloudEventAttributes>,
    must_fail: bool,
    what: &str,
) {
    let result = convert(body, attributes, &builtin());
    if must_fail {
        assert!(result.is_err(), "{what}: expected an error");
    }
    if let Err(e) = check_result(&result) {
        panic!("{what}: {e}");
    }
}

fn nested(depth: usize, open: &str, close: &str) -> String {
    format!("{}{}", open.repeat(depth), close.repeat(depth))
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    for depth in [200, 10_000, 100_000] {
        let arrays = nested(depth, "[", "]");
        let objects = nested(depth, "{\"a\":", "}");
        let unclosed = "[".repeat(depth);
        assert_no_overflow(
            arrays.as_bytes(),
            None,
            true,
            &format!("{depth} nested arrays"),
        );
        assert_no_overflow(
            objects.as_bytes(),
            None,
            true,
            &format!("{depth} nested objects"),
        );
        assert_no_overflow(
            unclosed.as_bytes(),
            None,
            true,
            &format!("{depth} unclosed arrays"),
        );
        assert_no_overflow(
            arrays.as_bytes(),
            Some(&binary_headers()),
            true,
            &format!("{depth} nested arrays, binary mode"),
        );

        // Deep values where a payload has room for them: anything but a crash.
        let places = [
            format!(r#"{{"type":"PUSH_ARTIFACT","occur_at":1,"event_data":{arrays}}}"#),
            format!(
                r#"{{"type":"PUSH_ARTIFACT","occur_at":1,"event_data":{{"resources":{arrays}}}}}"#
            ),
            format!(r#"{{"type":"ARTIFACT_LABELED","occur_at":1,"event_data":{{"x":{arrays}}}}}"#),
            format!(
                r#"{{"type":"QUOTA_EXCEED","occur_at":1,"event_data":{{"custom_attributes":{{"Details":{arrays}}}}}}}"#
            ),
            format!(
                r#"{{"type":"SCANNING_COMPLETED","occur_at":1,"event_data":{{"resources":[{{"tag":"v1","scan_overview":{{"m":{objects}}}}}]}}}}"#
            ),
            format!(
                r#"{{"specversion":"1.0","type":"harbor.project.created","time":"2025-03-14T12:00:00Z","data":{arrays}}}"#
            ),
            format!(
                r#"{{"specversion":"1.0","type":"harbor.artifact.pushed","data":{{"unknown":{objects}}}}}"#
            ),
            format!(
                r#"{{"type":"TAG_PUSH","createdAt":"2024-03-11T09:14:02Z","contents":{{"data":{arrays}}}}}"#
            ),
            format!(r#"{{"type":"REPO_DELETED","contents":{objects}}}"#),
            format!(r#"{{"event_type":"pushImage","events":[{arrays}]}}"#),
            format!(r#"{{"blocks":{arrays}}}"#),
        ];
        for (i, body) in places.iter().enumerate() {
            assert_no_overflow(
                body.as_bytes(),
                None,
                false,
                &format!("depth {depth}, place {i}"),
            );
        }
    }
}

#[test]
fn deeply_nested_rules_are_an_error_not_a_stack_overflow() {
    for depth in [10_000, 100_000] {
        for doc in [
            nested(depth, "[", "]"),
            format!(r#"{{"labels":{}}}"#, nested(depth, "{\"a\":", "}")),
            format!(
                r#"{{"rules":[{{"name":"x","when":{{"project":{}}}}}]}}"#,
                nested(depth, "[", "]")
            ),
        ] {
            let result = Rules::from_json(&doc);
            assert!(result.is_err(), "depth {depth}: deep rules accepted");
        }
    }
}

// ------------------------------------------------------------------------------------------------
// (d) valid payloads with random names always give an alert within limits

fn arb_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z0-9][a-z0-9._-]{0,30}",
        2 => "\\PC{1,40}",
        1 => ".{1,40}",
        1 => prop::collection::vec(any::<char>(), 1..60).prop_map(|v| v.into_iter().collect()),
        1 => (1usize..4_000).prop_map(|n| "r".repeat(n)),
        1 => (1usize..1_500, any::<char>()).prop_map(|(n, c)| std::iter::repeat_n(c, n).collect()),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Form {
    Default,
    CloudEvents,
    Binary,
    Legacy,
}

const D: &str = "sha256:279de0f302447ee788ec20612facf44e4ec21f48ce7456f300d52667f319bd8c";

/// A well-formed Default payload of `kind` for the artifact `ns/name:tag`, and the built-in
/// severity SPEC section 7 gives it.
fn default_payload(kind: usize, ns: &str, name: &str, tag: &str, op: &str) -> (Value, Severity) {
    let repository = json!({"name": name, "namespace": ns, "repo_full_name": format!("{ns}/{name}"), "repo_type": "private"});
    let resource = json!({"digest": D, "tag": tag, "resource_url": format!("harbor.example.com/{ns}/{name}:{tag}")});
    let envelope = |t: &str, data: Value| json!({"type": t, "occur_at": 1741949100, "operator": op, "event_data": data});
    match kind % 10 {
        0 => (
            envelope(
                "PUSH_ARTIFACT",
                json!({"resources": [resource], "repository": repository}),
            ),
            Severity::Info,
        ),
        1 => (
            envelope(
                "DELETE_ARTIFACT",
                json!({"resources": [resource], "repository": repository}),
            ),
            Severity::Info,
        ),
        2 => {
            let mut r = resource;
            r["scan_overview"] = json!({"application/vnd.security.vulnerability.report; version=1.1": {
                "scan_status": "Success", "severity": "Critical",
                "summary": {"total": 3, "fixable": 1, "summary": {"Critical": 2, "Low": 1}},
                "scanner": {"name": "Trivy", "version": "v0.58.2"}}});
            (
                envelope(
                    "SCANNING_COMPLETED",
                    json!({"resources": [r], "repository": repository, "scan": {"scan_type": "vulnerability"}}),
                ),
                Severity::Critical,
            )
        }
        3 => {
            let mut r = resource;
            r["scan_overview"] = json!({"application/vnd.security.vulnerability.report; version=1.1": {
                "scan_status": "Error", "severity": "", "summary": null}});
            (
                envelope(
                    "SCANNING_FAILED",
                    json!({"resources": [r], "repository": repository}),
                ),
                Severity::Warning,
            )
        }
        4 => (
            envelope(
                "QUOTA_EXCEED",
                json!({"resources": [{"digest": D, "tag": tag}], "repository": repository,
                       "custom_attributes": {"Details": format!("adding 1 GiB to {name} will exceed the configured upper limit")}}),
            ),
            Severity::Critical,
        ),
        5 => (
            envelope(
                "QUOTA_WARNING",
                json!({"resources": [{"digest": D, "tag": tag}], "repository": repository,
                       "custom_attributes": {"Details": "quota usage reach 85%"}}),
            ),
            Severity::Warning,
        ),
        6 => (
            envelope(
                "REPLICATION",
                json!({"replication": {
                    "harbor_hostname": "harbor.example.com", "job_status": "Error", "trigger_type": "MANUAL",
                    "src_resource": {"registry_type": "harbor", "endpoint": "https://harbor.example.com", "namespace": ns},
                    "dest_resource": {"registry_name": "dr", "registry_type": "harbor", "endpoint": "https://dr.example.net", "namespace": ns},
                    "failed_artifact": [{"type": "artifact", "status": "Error", "name_tag": format!("{name} [1 item(s) in total]"), "references": [tag]}]}}),
            ),
            Severity::Critical,
        ),
        7 => (
            envelope(
                "TAG_RETENTION",
                json!({"retention": {
                    "total": 2, "retained": 1, "harbor_hostname": "harbor.example.com", "project_name": ns,
                    "retention_policy_id": 4, "result": "SUCCESS",
                    "deleted_artifact": [{"type": "image", "status": "SUCCESS", "name_tag": format!("{name}:{tag}")}]}}),
            ),
            Severity::Info,
        ),
        8 => (
            envelope(
                "UPLOAD_CHART",
                json!({"resources": [{"tag": tag, "resource_url": format!("https://harbor.example.com/chartrepo/{ns}/charts/{name}-{tag}.tgz")}],
                       "repository": repository}),
            ),
            Severity::Info,
        ),
        _ => (
            envelope(
                "ARTIFACT_LABELED",
                json!({"resources": [resource], "repository": repository}),
            ),
            Severity::Info,
        ),
    }
}

fn msr3_payload(kind: usize, ns: &str, name: &str, tag: &str, op: &str) -> (Value, Severity) {
    let contents = json!({"namespace": ns, "repository": name, "tag": tag, "digest": D,
                          "imageName": format!("msr.example.com/{ns}/{name}:{tag}"), "author": op});
    if kind.is_multiple_of(2) {
        (
            json!({"type": "TAG_PUSH", "createdAt": "2024-03-11T09:14:02.118237415Z", "contents": contents,
                "location": format!("/repositories/{ns}/{name}/tags/{tag}")}),
            Severity::Info,
        )
    } else {
        let mut c = contents;
        c["scanSummary"] = json!({"namespace": ns, "repository": name, "tag": tag, "critical": 1, "major": 2, "minor": 3});
        (
            json!({"type": "SCAN_COMPLETED", "createdAt": "2024-03-11T09:16:45.550912003Z", "contents": c}),
            Severity::Critical,
        )
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn valid_payloads_with_any_names_give_an_alert_within_limits(
        kind in 0usize..12,
        form in prop::sample::select(vec![Form::Default, Form::CloudEvents, Form::Binary, Form::Legacy]),
        ns in arb_name(),
        name in arb_name(),
        tag in arb_name(),
        op in arb_name(),
    ) {
        let (payload, severity, attributes, body) = if kind >= 10 {
            let (p, s) = msr3_payload(kind, &ns, &name, &tag, &op);
            let body = serde_json::to_vec(&p).unwrap();
            (p, s, None, body)
        } else {
            let (p, s) = default_payload(kind, &ns, &name, &tag, &op);
            let kind_name = p["type"].as_str().unwrap().to_owned();
            match form {
                Form::Default => { let b = serde_json::to_vec(&p).unwrap(); (p, s, None, b) }
                Form::Legacy => {
                    let mut p = p;
                    if let Some(t) = legacy_type(&kind_name) { p["type"] = json!(t); }
                    let b = serde_json::to_vec(&p).unwrap();
                    (p, s, None, b)
                }
                Form::CloudEvents | Form::Binary => {
                    let ce_type = cloudevents_type(&kind_name).map(str::to_owned).unwrap_or(kind_name.clone());
                    // Charts have no CloudEvents name: an unknown CloudEvents type is Info.
                    let s = if cloudevents_type(&kind_name).is_none() { Severity::Info } else { s };
                    let ce = default_to_cloudevent(&p, &ce_type, "id-1");
                    if matches!(form, Form::Binary) {
                        let (a, b) = to_binary(&ce);
                        (ce, s, Some(a), b)
                    } else {
                        let b = serde_json::to_vec(&ce).unwrap();
                        (ce, s, None, b)
                    }
                }
            }
        };
        let converted = convert(&body, attributes.as_ref(), &builtin())
            .map_err(|e| TestCaseError::fail(format!("a valid payload was refused: {e}\n{payload}")))?;
        prop_assert_eq!(converted.len(), 1);
        let alert = match &converted[0].action {
            Action::Send(alert) => alert,
            Action::Drop { by } => return Err(TestCaseError::fail(format!("dropped by {by}: {payload}"))),
        };
        prop_assert_eq!(alert.event_status, severity, "{}", payload);
        check_limits(alert).map_err(|e| TestCaseError::fail(format!("{e}\n{alert:#?}")))?;
        let label = |k: &str| alert.labels.get(k).map(String::as_str);
        if !ns.trim().is_empty() {
            let project = label("project").unwrap_or("");
            prop_assert!(!project.is_empty() && ns.starts_with(project), "project label {:?} for namespace {:?}", project, ns);
        }
        if !op.trim().is_empty() {
            let operator = label("operator").unwrap_or("");
            prop_assert!(!operator.is_empty() && op.starts_with(operator), "operator label {:?} for {:?}", operator, op);
        }
        prop_assert!(label("event_type").is_some() && label("source").is_some() && label("rule") == Some("default"));
    }
}

// ------------------------------------------------------------------------------------------------
// Random rules documents: refused with a message, or usable on every fixture.

fn arb_rules_doc() -> impl Strategy<Value = Value> {
    let pattern = prop_oneof![
        prop::sample::select(vec![
            "*",
            "payments",
            "pay*",
            "harbor.*",
            "?",
            "PUSH_ARTIFACT",
            "",
            "[x]",
            "*Trivy*",
            "v2.?.?"
        ])
        .prop_map(|s| json!(s)),
        ".{0,6}".prop_map(|s| json!(s)),
        prop::collection::vec(".{0,4}", 0..3).prop_map(|v| json!(v)),
        arb_json(),
    ];
    let when_key = prop::sample::select(vec![
        "event",
        "project",
        "repository",
        "tag",
        "operator",
        "status",
        "scan_severity",
        "sevrity",
    ]);
    let when = prop::collection::btree_map(when_key, pattern, 0..4)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()));
    let severity = prop_oneof![
        prop::sample::select(vec![
            "Critical", "Warning", "Info", "Ok", "drop", "DROP", "critical", "bogus"
        ])
        .prop_map(|s| Some(json!(s))),
        Just(None),
        arb_json().prop_map(Some),
    ];
    let labels = prop::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,8}|.{0,4}", ".{0,8}", 0..4)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k, json!(v))).collect()));
    let rule = (".{0,10}", when, severity, labels).prop_map(|(name, when, severity, labels)| {
        let mut r = json!({"name": name, "when": when, "labels": labels});
        if let Some(s) = severity {
            r["severity"] = s;
        }
        r
    });
    (
        prop::collection::vec(rule, 0..5),
        prop::collection::btree_map("[a-z_]{1,6}", ".{0,6}", 0..3),
    )
        .prop_map(|(rules, labels)| json!({"labels": labels, "rules": rules}))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: config().cases / 4, ..config() })]

    #[test]
    fn random_rules_are_refused_with_a_message_or_applied_safely(doc in arb_rules_doc()) {
        match Rules::from_json(&doc.to_string()) {
            Err(e) => {
                prop_assert!(!e.problems.is_empty());
                prop_assert!(!e.to_string().trim().is_empty());
            }
            Ok(rules) => {
                for seed in seeds().iter().step_by(3) {
                    check(&seed.body, seed.attributes.as_ref(), &rules)?;
                }
            }
        }
    }
}

/// SPEC section 6: the description carries when (the event time) and an `https://` link where
/// the event has a host. Names at the longest a registry allows (a 255-character repository
/// path, a 128-character tag) must not push them out of its 2048 characters.
#[test]
fn longest_registry_names_keep_the_time_and_link_in_the_description() {
    let mut failures = Vec::new();
    let name = format!("team/{}", "r".repeat(255 - "payments/team/".len()));
    let tag = "t".repeat(128);
    let operator = format!("robot${}", "o".repeat(249));
    for kind in 0..10 {
        let (payload, _) = default_payload(kind, "payments", &name, &tag, &operator);
        let alert = sent(&payload, &builtin());
        check_limits(&alert).unwrap();
        let t = payload["type"].as_str().unwrap();
        if !alert.description.contains("2025-03-14T10:45:00Z") {
            failures.push(format!("{t}: no event time in the description"));
        }
        // The quota payloads carry no resource_url, hence no host.
        if !matches!(t, "QUOTA_EXCEED" | "QUOTA_WARNING") && !alert.description.contains("https://")
        {
            failures.push(format!("{t}: no https:// link in the description"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
