//! Every JSON fixture through `convert` with the built-in rules, checked against expectations
//! written from docs/SPEC.md sections 5 to 7 and the fixture's content (not from running the code).
//! The table of expectations lives in `expectations.rs`, shared with `tests/e2e` and `tests/handler`.

use crate::expectations::*;
use crate::support::*;
use harbor_flashduty_core::alert::Alert;
use harbor_flashduty_core::convert::{Action, Converted, convert};
use harbor_flashduty_core::payload::{PayloadError, parse};
use harbor_flashduty_core::severity::Severity;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The event time as SPEC section 6 wants it in the description, read from the fixture:
/// `occur_at` (or the docs envelope's `trigger_time`) in RFC 3339, the CloudEvents `time`, or
/// MSR 3's `createdAt` (to the second: the fraction may be written either way).
fn expected_time(fx: &Fx, payload: &Value) -> String {
    if let Some(headers) = fx.headers {
        return json_fixture(headers)["ce-time"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    if payload.get("specversion").is_some() {
        return payload["time"].as_str().unwrap().to_owned();
    }
    if let Some(secs) = payload.get("occur_at").and_then(Value::as_i64) {
        return rfc3339(secs);
    }
    if let Some(secs) = payload
        .pointer("/events/0/trigger_time")
        .and_then(Value::as_i64)
    {
        return rfc3339(secs);
    }
    let created = payload["createdAt"]
        .as_str()
        .expect("a time field in every fixture");
    created[..19].to_owned()
}

fn run(fx: &Fx) -> Vec<Converted> {
    let body = read_fixture(fx.file);
    let attributes = fx
        .headers
        .map(|h| attributes_from_headers(&json_fixture(h)));
    convert(&body, attributes.as_ref(), &builtin())
        .unwrap_or_else(|e| panic!("{}: convert failed: {e}", fx.file))
}

#[derive(Clone, Copy, PartialEq)]
enum Part {
    /// Outcome, labels, limits, description.
    Outcome,
    /// The title names the repository and tag.
    Title,
}

/// Every problem with one fixture's outcome, as readable lines.
fn problems(fx: &Fx, part: Part) -> Vec<String> {
    let mut out = Vec::new();
    let mut bad = |msg: String| out.push(msg);
    let converted = run(fx);
    if converted.len() != 1 {
        bad(format!(
            "expected exactly one event, got {}",
            converted.len()
        ));
        return out;
    }
    let c = &converted[0];
    if c.event.type_name() != fx.event_type {
        bad(format!(
            "canonical type: expected {}, got {}",
            fx.event_type,
            c.event.type_name()
        ));
    }
    match (&fx.outcome, &c.action) {
        (Dropped, Action::Drop { by }) => {
            if by != "default" {
                bad(format!("dropped by {by:?}, expected \"default\""));
            }
            if converted.len() != 1 {
                bad(format!("expected one event, got {}", converted.len()));
            }
        }
        (Dropped, Action::Send(alert)) => bad(format!(
            "expected a built-in drop, got {} alert {:?}",
            alert.event_status, alert.title_rule
        )),
        (Sent(_), Action::Drop { by }) => {
            bad(format!("expected an alert, but it was dropped by {by:?}"))
        }
        (Sent(severity), Action::Send(alert)) => {
            if alert.event_status != *severity {
                bad(format!(
                    "event_status: expected {severity}, got {}",
                    alert.event_status
                ));
            }
            let payload: Value = serde_json::from_slice(&read_fixture(fx.file)).unwrap();
            let found = match part {
                Part::Outcome => alert_problems(fx, alert, &expected_time(fx, &payload)),
                Part::Title => title_problems(fx, alert),
            };
            for p in found {
                bad(p);
            }
        }
    }
    out
}

/// Title: what happened and to what (the repository, and the tag where there is one).
fn title_problems(fx: &Fx, alert: &Alert) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["repository", "tag"] {
        let expected = fx.labels.iter().find_map(|(k, v)| match v {
            L::Is(v) if *k == key => Some(v.clone()),
            _ => None,
        });
        if let Some(v) = expected.filter(|v| !alert.title_rule.contains(v.as_str())) {
            out.push(format!(
                "title_rule {:?} does not name the {key} {v:?}",
                alert.title_rule
            ));
        }
    }
    out
}

fn alert_problems(fx: &Fx, alert: &Alert, time: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut bad = |msg: String| out.push(msg);
    if let Err(e) = check_limits(alert) {
        bad(e);
    }
    let label = |k: &str| alert.labels.get(k).map(String::as_str);
    // Labels every alert carries (SPEC section 6).
    for (key, want) in [
        ("event_type", fx.event_type),
        ("check", fx.event_type),
        ("rule", "default"),
    ] {
        if label(key) != Some(want) {
            bad(format!(
                "label {key}: expected {want:?}, got {:?}",
                label(key)
            ));
        }
    }
    let resource = label("repository").or(label("project"));
    if resource.is_some() && label("resource") != resource {
        bad(format!(
            "label resource: expected {resource:?} (repository, else project), got {:?}",
            label("resource")
        ));
    }
    for (key, want) in &fx.labels {
        let got = label(key);
        let ok = match want {
            L::Is(v) => got == Some(v.as_str()),
            L::Contains(v) => got.is_some_and(|g| g.contains(v.as_str())),
            L::Present => got.is_some_and(|g| !g.is_empty()),
            L::Absent => got.is_none(),
        };
        if !ok {
            bad(format!("label {key}: expected {want:?}, got {got:?}"));
        }
    }
    // Description: when, who, where (link), and every listed resource.
    if !alert.description.contains(time) {
        bad(format!(
            "description does not carry the event time {time}:\n{}",
            alert.description
        ));
    }
    if let Some(L::Is(operator)) = fx
        .labels
        .iter()
        .find(|(k, _)| *k == "operator")
        .map(|(_, v)| v)
        && !alert.description.contains(operator.as_str())
    {
        bad(format!(
            "description does not name the operator {operator:?}:\n{}",
            alert.description
        ));
    }
    if let Link::Starts(link) = &fx.link
        && !alert.description.contains(link.as_str())
    {
        bad(format!(
            "description lacks the link {link}:\n{}",
            alert.description
        ));
    }
    for part in &fx.desc {
        if !alert.description.contains(part.as_str()) {
            bad(format!(
                "description does not list {part:?}:\n{}",
                alert.description
            ));
        }
    }
    out
}

#[test]
fn table_lists_exactly_the_fixture_files() {
    let on_disk: BTreeSet<String> = all_json_fixtures().into_iter().collect();
    let mut listed = BTreeSet::new();
    for fx in table() {
        assert!(
            listed.insert(fx.file.to_owned()),
            "{} is listed twice",
            fx.file
        );
        if let Some(h) = fx.headers {
            assert!(listed.insert(h.to_owned()), "{h} is listed twice");
        }
    }
    let unlisted: Vec<_> = on_disk.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&on_disk).collect();
    assert!(
        unlisted.is_empty(),
        "fixtures with no row in the table: {unlisted:?}"
    );
    assert!(
        missing.is_empty(),
        "table rows whose file does not exist: {missing:?}"
    );
}

fn check_table(part: Part) {
    let mut failures = Vec::new();
    for fx in table() {
        let found = std::panic::catch_unwind(|| problems(&fx, part)).unwrap_or_else(|e| {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
            vec![format!("panicked: {}", msg.unwrap_or_default())]
        });
        for p in found {
            failures.push(format!("{}: {p}", fx.file));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Outcome (severity or built-in drop), canonical type, labels, Flashduty limits, and the
/// description's time, operator, link and resources, for every fixture.
#[test]
fn every_fixture_converts_as_the_spec_says() {
    check_table(Part::Outcome);
}

/// SPEC section 6: `title_rule` says what happened and to what (the repository, and the tag
/// where there is one). Kept apart so a title problem does not hide the other checks.
#[test]
fn every_title_names_the_repository_and_tag() {
    check_table(Part::Title);
}

// ------------------------------------------------------------------------------------------------
// The SPEC's acceptance checks, spelled out.

fn fixture_alert(file: &str) -> Alert {
    sent(&json_fixture(file), &builtin())
}

#[test]
fn acceptance_default_scanning_completed_is_critical_with_every_scan_label() {
    let alert = fixture_alert("harbor/default_SCANNING_COMPLETED.json");
    assert_eq!(alert.event_status, Severity::Critical);
    let l = &alert.labels;
    for (key, value) in [
        ("scan_severity", "Critical"),
        ("vuln_critical", "2"),
        ("vuln_high", "9"),
        ("vuln_medium", "19"),
        ("vuln_low", "21"),
        ("vuln_unknown", "6"),
        ("vuln_total", "57"),
        ("vuln_fixable", "41"),
        ("event_type", "SCANNING_COMPLETED"),
        ("repository", "payments/api"),
        ("tag", "v2.7.1"),
        ("source", "harbor"),
    ] {
        assert_eq!(
            l.get(key).map(String::as_str),
            Some(value),
            "label {key} in {l:#?}"
        );
    }
    assert!(
        l.get("scanner").is_some_and(|s| s.contains("Trivy")),
        "scanner label: {l:#?}"
    );
    assert!(
        alert.description.contains("2025-03-14T10:45:00Z"),
        "{}",
        alert.description
    );
    assert_eq!(rfc3339(1741949100), "2025-03-14T10:45:00Z");
    assert!(
        alert.title_rule.contains("payments/api"),
        "{}",
        alert.title_rule
    );
}

#[test]
fn acceptance_msr3_scan_completed_critical() {
    let alert = fixture_alert("msr3/msr3_SCAN_COMPLETED_critical.json");
    assert_eq!(alert.event_status, Severity::Critical);
    assert_eq!(
        alert.labels.get("vuln_critical").map(String::as_str),
        Some("3")
    );
    assert_eq!(
        alert.labels.get("scan_severity").map(String::as_str),
        Some("Critical")
    );
}

#[test]
fn acceptance_cloudevents_scan_links_to_the_portal_page() {
    let alert = fixture_alert("harbor/cloudevents_harbor.scan.completed.json");
    assert_eq!(alert.event_status, Severity::Critical);
    let link = format!(
        "https://harbor.example.com/harbor/projects/5/repositories/api/artifacts-tab/artifacts/{D279}"
    );
    assert!(
        alert.description.contains(&link),
        "expected {link} in:\n{}",
        alert.description
    );
    assert!(
        alert.description.contains("2025-03-14T10:45:00Z"),
        "{}",
        alert.description
    );
}

#[test]
fn cloudevents_portal_link_path_encodes_nested_repository_names() {
    let mut ce = json_fixture("harbor/cloudevents_harbor.artifact.pushed.json");
    set_repository(&mut ce["data"], "payments", "team/api");
    let alert = sent(&ce, &builtin());
    let link = format!(
        "https://harbor.example.com/harbor/projects/5/repositories/team%2Fapi/artifacts-tab/artifacts/{D279}"
    );
    assert!(
        alert.description.contains(&link),
        "expected {link} in:\n{}",
        alert.description
    );
    assert_eq!(
        alert.labels.get("repository").map(String::as_str),
        Some("payments/team/api")
    );
}

#[test]
fn one_event_per_payload_and_the_alert_body_shape() {
    let converted = convert_bytes(
        &read_fixture("harbor/default_PUSH_ARTIFACT.json"),
        &builtin(),
    );
    assert_eq!(converted.len(), 1);
    let Action::Send(alert) = &converted[0].action else {
        panic!("a push is sent: {:?}", converted[0].action);
    };
    let alert = &serde_json::to_value(alert).unwrap();
    for field in [
        "event_status",
        "alert_key",
        "title_rule",
        "description",
        "labels",
    ] {
        assert!(alert.get(field).is_some(), "{field} missing from {alert}");
    }
    assert_eq!(alert["event_status"], json!("Info"));
    assert!(
        alert.get("flashduty_request_id").is_none(),
        "a dry run has no request id: {alert}"
    );
}

/// SPEC section 6: the description (at most 2048 characters) carries the event time and an
/// `https://` link. Events that list many things (a retention run that deleted hundreds of
/// artifacts, a replication of hundreds of tags, a chart deleted with all its versions) must
/// not push them out.
#[test]
fn long_lists_do_not_push_the_time_and_link_out_of_the_description() {
    let mut failures = Vec::new();
    let mut check = |what: &str, payload: &Value, time: &str| {
        let alert = sent(payload, &builtin());
        if let Err(e) = check_limits(&alert) {
            failures.push(format!("{what}: {e}"));
        }
        if !alert.description.contains(time) {
            failures.push(format!(
                "{what}: the event time {time} is missing from the description"
            ));
        }
        if !alert.description.contains("https://harbor.example.com") {
            failures.push(format!(
                "{what}: the https:// link is missing from the description"
            ));
        }
    };

    let mut retention = json_fixture("harbor/default_TAG_RETENTION.json");
    let deleted: Vec<Value> = (0..300)
        .map(|i| json!({"type": "image", "status": "SUCCESS", "name_tag": format!("api:v1.{i}.0-build.{i:04}"), "references": null}))
        .collect();
    retention["event_data"]["retention"]["deleted_artifact"] = json!(deleted);
    retention["event_data"]["retention"]["total"] = json!(311);
    check(
        "retention that deleted 300 artifacts",
        &retention,
        "2025-03-14T11:50:00Z",
    );

    let mut replication = json_fixture("harbor/default_REPLICATION.json");
    let references: Vec<String> = (0..300).map(|i| format!("v2.{i}.0-rc.{i:04}")).collect();
    replication["event_data"]["replication"]["successful_artifact"][0]["references"] =
        json!(references);
    replication["event_data"]["replication"]["successful_artifact"][0]["name_tag"] =
        json!("api [300 item(s) in total]");
    check(
        "replication of 300 tags",
        &replication,
        &rfc3339(1741952000),
    );

    let mut chart = json_fixture("harbor/default_DELETE_CHART.json");
    let versions: Vec<Value> = (0..150)
        .map(|i| json!({"tag": format!("1.{i}.0"), "resource_url": format!("https://harbor.example.com/chartrepo/payments/charts/api-1.{i}.0.tgz")}))
        .collect();
    chart["event_data"]["resources"] = json!(versions);
    check(
        "chart deleted with 150 versions",
        &chart,
        &rfc3339(1741950720),
    );

    let mut delete = json_fixture("harbor/legacy_deleteImage_multi.json");
    let tags: Vec<Value> = (0..150)
        .map(|i| json!({"tag": format!("v1.{i}.0"), "resource_url": format!("harbor.example.com/payments/api:v1.{i}.0")}))
        .collect();
    delete["event_data"]["resources"] = json!(tags);
    check(
        "1.10 deleteImage of 150 tags",
        &delete,
        &rfc3339(1586922700),
    );

    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ------------------------------------------------------------------------------------------------
// Bodies that are not Harbor payloads.

fn error_of(body: &[u8]) -> PayloadError {
    match convert(body, None, &builtin()) {
        Err(e) => e,
        Ok(c) => panic!(
            "expected an error for {:?}, got {c:?}",
            String::from_utf8_lossy(body)
        ),
    }
}

#[test]
fn slack_body_says_to_use_the_http_notify_type() {
    let err = error_of(&slack_body());
    assert_eq!(err, PayloadError::Slack);
    let msg = err.to_string();
    assert!(msg.contains("HTTP"), "{msg}");
    assert!(msg.to_ascii_lowercase().contains("slack"), "{msg}");
}

#[test]
fn a_json_object_that_is_not_a_harbor_payload_is_named() {
    let msg = error_of(br#"{"hello":1}"#).to_string();
    assert!(!msg.trim().is_empty());
    assert!(
        msg.contains("Harbor"),
        "should say it is not a Harbor payload: {msg}"
    );
}

#[test]
fn a_json_array_is_not_a_payload() {
    let msg = error_of(b"[]").to_string();
    assert!(msg.contains("array") && msg.contains("object"), "{msg}");
}

#[test]
fn empty_and_scalar_bodies_are_errors_with_a_message() {
    // (An empty body is the HTTP handler's business: SPEC section 4 answers it before parsing.)
    for body in [
        &b"42"[..],
        b"\"PUSH_ARTIFACT\"",
        b"null",
        b"true",
        b"-1.5e3",
    ] {
        let msg = error_of(body).to_string();
        assert!(!msg.trim().is_empty(), "empty message for {body:?}");
    }
}

#[test]
fn truncated_json_names_line_and_column() {
    let full = read_fixture("harbor/default_PUSH_ARTIFACT.json");
    for cut in [1usize, 10, 57, 200, full.len() - 2] {
        let body = &full[..cut];
        let err = error_of(body);
        let msg = err.to_string();
        let line = body.iter().filter(|b| **b == b'\n').count() + 1;
        assert!(
            matches!(err, PayloadError::Syntax { .. }),
            "cut at {cut}: {err:?}"
        );
        assert!(
            msg.contains(&format!("line {line}")),
            "cut at {cut}: expected line {line} in {msg}"
        );
        assert!(msg.contains("column"), "cut at {cut}: {msg}");
    }
}

#[test]
fn a_syntax_error_inside_the_body_names_its_line_and_column() {
    let msg = error_of(b"{\n  \"type\": \"PUSH_ARTIFACT\",\n  oops\n}").to_string();
    assert!(msg.contains("line 3") && msg.contains("column 3"), "{msg}");
}

#[test]
fn wrong_field_types_name_the_field_path() {
    let mut default = json_fixture("harbor/default_PUSH_ARTIFACT.json");
    set(&mut default, "/event_data/resources/0/tag", json!(5));
    let msg = error_of(&serde_json::to_vec(&default).unwrap()).to_string();
    assert!(msg.contains("event_data.resources[0].tag"), "{msg}");

    let mut ce = json_fixture("harbor/cloudevents_harbor.artifact.pushed.json");
    set(&mut ce, "/data/resources/0/tag", json!(5));
    let msg = error_of(&serde_json::to_vec(&ce).unwrap()).to_string();
    assert!(msg.contains("data.resources[0].tag"), "{msg}");

    let mut default = json_fixture("harbor/default_PUSH_ARTIFACT.json");
    set(&mut default, "/occur_at", json!("yesterday"));
    let msg = error_of(&serde_json::to_vec(&default).unwrap()).to_string();
    assert!(msg.contains("occur_at"), "{msg}");

    let mut msr = json_fixture("msr3/msr3_TAG_PUSH.json");
    set(&mut msr, "/contents/tag", json!(["1.42.0"]));
    let msg = error_of(&serde_json::to_vec(&msr).unwrap()).to_string();
    assert!(msg.contains("contents.tag"), "{msg}");
}

#[test]
fn parse_accepts_null_arrays_unknown_fields_and_reordered_keys() {
    // SPEC section 5: tolerant of missing optional fields, null arrays, unknown fields, order.
    let mut v = json_fixture("harbor/default_PUSH_ARTIFACT.json");
    v["event_data"]["brand_new_field"] = json!({"x": [1, 2, 3]});
    v["also_new"] = json!(null);
    let key = key_of(&v);
    let compact_reordered = format!(
        r#"{{"event_data":{},"operator":"robot$payments+ci","occur_at":1741948523,"type":"PUSH_ARTIFACT"}}"#,
        serde_json::to_string(&v["event_data"]).unwrap()
    );
    assert_eq!(key_of_bytes(compact_reordered.as_bytes(), None), key);

    let mut scan = json_fixture("harbor/default_SCANNING_COMPLETED_scan_all.json");
    scan["event_data"]["resources"] = json!(null);
    assert!(parse(&serde_json::to_vec(&scan).unwrap(), None).is_ok());
    let mut repl = json_fixture("harbor/default_REPLICATION.json");
    repl["event_data"]["replication"]["successful_artifact"] = json!(null);
    repl["event_data"]["replication"]["failed_artifact"] = json!(null);
    assert!(parse(&serde_json::to_vec(&repl).unwrap(), None).is_ok());
}

// ------------------------------------------------------------------------------------------------
// SPEC section 5 rules exercised on variations of the fixtures.

const V11: &str = "/event_data/resources/0/scan_overview/application~1vnd.security.vulnerability.report; version=1.1";

#[test]
fn overall_severity_is_the_highest_non_zero_count_else_the_reported_severity() {
    let base = json_fixture("harbor/default_SCANNING_COMPLETED.json");
    let with = |summary: Value, severity: &str| {
        let mut v = base.clone();
        set(&mut v, &format!("{V11}/summary"), summary);
        set(&mut v, &format!("{V11}/severity"), json!(severity));
        sent(&v, &builtin())
    };
    // Counts win over the report's own severity field.
    let a = with(
        json!({"total": 3, "fixable": 0, "summary": {"Low": 3}}),
        "Critical",
    );
    assert_eq!(a.event_status, Severity::Ok);
    assert_eq!(
        a.labels.get("scan_severity").map(String::as_str),
        Some("Low")
    );
    let a = with(
        json!({"total": 1, "fixable": 0, "summary": {"Critical": 1, "High": 0}}),
        "Low",
    );
    assert_eq!(a.event_status, Severity::Critical);
    // A zero count is no finding.
    let a = with(
        json!({"total": 0, "fixable": 0, "summary": {"Critical": 0, "High": 0, "Medium": 2}}),
        "Critical",
    );
    assert_eq!(a.event_status, Severity::Ok);
    assert_eq!(a.labels.get("vuln_critical").map(String::as_str), Some("0"));
    // Counts missing: the report's severity decides.
    let mut v = base.clone();
    v.pointer_mut(V11)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove("summary");
    set(&mut v, &format!("{V11}/severity"), json!("High"));
    assert_eq!(sent(&v, &builtin()).event_status, Severity::Warning);
    set(&mut v, &format!("{V11}/severity"), json!("Critical"));
    assert_eq!(sent(&v, &builtin()).event_status, Severity::Critical);
}

#[test]
fn an_unknown_report_type_counts_when_it_is_the_first_with_a_summary() {
    let mut v = json_fixture("harbor/default_SCANNING_COMPLETED.json");
    let report = v.pointer(V11).unwrap().clone();
    let mut no_summary = report.clone();
    no_summary["summary"] = json!(null);
    no_summary["severity"] = json!("");
    let overview = json!({
        "application/vnd.example.first+json": no_summary,
        "application/vnd.example.second+json": report,
    });
    set(&mut v, "/event_data/resources/0/scan_overview", overview);
    let alert = sent(&v, &builtin());
    assert_eq!(alert.event_status, Severity::Critical);
    assert_eq!(alert.labels.get("vuln_high").map(String::as_str), Some("9"));
}

#[test]
fn project_quota_is_exceed_when_its_details_say_exceed_in_any_case() {
    let base = json_fixture("harbor/legacy_projectQuota_warning.json");
    for (details, kind) in [
        (json!("Quota EXCEEDED for project payments"), "QUOTA_EXCEED"),
        (json!("would Exceed the limit"), "QUOTA_EXCEED"),
        (json!("quota usage reach 85%"), "QUOTA_WARNING"),
    ] {
        let mut v = base.clone();
        v["event_data"]["custom_attributes"]["Details"] = details.clone();
        let c = one(&v, &builtin());
        assert_eq!(c.event.type_name(), kind, "{details}");
    }
}

#[test]
fn msr3_types_map_to_canonical_types() {
    let base = json_fixture("msr3/msr3_TAG_PUSH.json");
    for (wire, canonical, outcome) in [
        ("TAG_PUSH", "PUSH_ARTIFACT", Some(Severity::Info)),
        ("MANIFEST_PUSH", "PUSH_ARTIFACT", Some(Severity::Info)),
        ("TAG_PULL", "PULL_ARTIFACT", None),
        ("MANIFEST_PULL", "PULL_ARTIFACT", None),
        ("TAG_DELETE", "DELETE_ARTIFACT", Some(Severity::Info)),
        ("MANIFEST_DELETE", "DELETE_ARTIFACT", Some(Severity::Info)),
        ("CHART_PUSH", "UPLOAD_CHART", Some(Severity::Info)),
        ("CHART_PULL", "DOWNLOAD_CHART", None),
        ("CHART_DELETE", "DELETE_CHART", Some(Severity::Info)),
        ("PROMOTION", "PROMOTION", Some(Severity::Info)),
        ("REPO_CREATED", "REPO_CREATED", Some(Severity::Info)),
    ] {
        let mut v = base.clone();
        v["type"] = json!(wire);
        let c = one(&v, &builtin());
        assert_eq!(c.event.type_name(), canonical, "{wire}");
        match (&c.action, outcome) {
            (Action::Send(alert), Some(severity)) => {
                assert_eq!(alert.event_status, severity, "{wire}");
                assert_eq!(
                    alert.labels.get("event_type").map(String::as_str),
                    Some(canonical),
                    "{wire}"
                );
                assert_eq!(
                    alert.labels.get("source").map(String::as_str),
                    Some("msr3"),
                    "{wire}"
                );
            }
            (Action::Drop { by }, None) => assert_eq!(by, "default", "{wire}"),
            (action, _) => panic!("{wire}: unexpected {action:?}"),
        }
    }
}

#[test]
fn msr3_scan_summary_may_name_the_repository_reponame() {
    let mut v = json_fixture("msr3/msr3_SCAN_COMPLETED_clean_fixture_keys.json");
    let contents = v["contents"].as_object_mut().unwrap();
    contents.remove("repository");
    contents.remove("namespace");
    contents.remove("tag");
    let alert = sent(&v, &builtin());
    assert_eq!(
        alert.labels.get("repository").map(String::as_str),
        Some("payments/api")
    );
    assert_eq!(alert.labels.get("tag").map(String::as_str), Some("1.42.1"));
    assert_eq!(alert.event_status, Severity::Ok);
}

#[test]
fn the_docs_envelope_gives_one_event_per_element() {
    let mut v = json_fixture("harbor/legacy_docs_envelope_pushImage.json");
    let mut second = v["events"][0].clone();
    second["tag"] = json!("v1.5.0");
    second["trigger_time"] = json!(1571988200);
    v["events"].as_array_mut().unwrap().push(second);
    let converted = convert_value(&v, &builtin());
    assert_eq!(converted.len(), 2);
    let tags: Vec<_> = converted
        .iter()
        .map(|c| match &c.action {
            Action::Send(a) => a.labels.get("tag").cloned().unwrap_or_default(),
            Action::Drop { by } => panic!("dropped by {by}"),
        })
        .collect();
    assert_eq!(tags, ["v1.4.0", "v1.5.0"]);
}

#[test]
fn harbor_host_keeps_the_port_of_resource_url() {
    let mut v = json_fixture("harbor/default_PUSH_ARTIFACT.json");
    v["event_data"]["resources"][0]["resource_url"] =
        json!("harbor.example.com:8443/payments/api:v2.7.1");
    let alert = sent(&v, &builtin());
    assert_eq!(
        alert.labels.get("harbor_host").map(String::as_str),
        Some("harbor.example.com:8443")
    );
    assert!(
        alert
            .description
            .contains("https://harbor.example.com:8443"),
        "{}",
        alert.description
    );
}

#[test]
fn any_unknown_cloudevents_type_is_kept_and_sent_as_info() {
    for t in [
        "harbor.project.created",
        "com.example.registry.thing",
        "PUSH_ARTIFACT_V9",
    ] {
        let mut v = json_fixture("harbor/cloudevents_harbor.unknown_type.json");
        v["type"] = json!(t);
        let c = one(&v, &builtin());
        assert_eq!(c.event.type_name(), t);
        match c.action {
            Action::Send(alert) => {
                assert_eq!(alert.event_status, Severity::Info);
                assert_eq!(alert.labels.get("event_type").map(String::as_str), Some(t));
                assert!(
                    alert.description.contains("2025-03-14T12:00:00Z"),
                    "{}",
                    alert.description
                );
            }
            Action::Drop { by } => panic!("{t} dropped by {by}"),
        }
    }
}
