//! Alert key relations (SPEC section 6, "Alert key"): what must share a key, what must not.

use crate::support::*;
use harbor_flashduty_core::severity::Severity;
use serde_json::{Value, json};

fn fixture(rel: &str) -> Value {
    json_fixture(rel)
}

fn severity_of(payload: &Value) -> Severity {
    sent(payload, &builtin()).event_status
}

// ------------------------------------------------------------------------------------------------
// Scans

#[test]
fn rescans_of_one_tag_share_a_key() {
    let first = fixture("harbor/default_SCANNING_COMPLETED.json");
    let key = key_of(&first);

    let mut later = first.clone();
    later["occur_at"] = json!(1742035500);
    later["operator"] = json!("harbor-jobservice");
    let report = "/event_data/resources/0/scan_overview/application~1vnd.security.vulnerability.report; version=1.1";
    set(
        &mut later,
        &format!("{report}/report_id"),
        json!("another-report"),
    );
    set(
        &mut later,
        &format!("{report}/summary/summary"),
        json!({"Critical": 1, "High": 2, "Low": 3}),
    );
    set(&mut later, &format!("{report}/summary/total"), json!(6));
    set(&mut later, &format!("{report}/summary/fixable"), json!(1));
    set(
        &mut later,
        &format!("{report}/end_time"),
        json!("2025-03-15T10:45:00Z"),
    );
    assert_eq!(
        key_of(&later),
        key,
        "a rescan with other counts, time and operator"
    );

    let mut high_only = first.clone();
    set(
        &mut high_only,
        &format!("{report}/summary/summary"),
        json!({"High": 4}),
    );
    set(&mut high_only, &format!("{report}/severity"), json!("High"));
    assert_eq!(key_of(&high_only), key);
    assert_eq!(severity_of(&high_only), Severity::Warning);

    // Scanned again and reported as CloudEvents, with a fresh id.
    let ce = default_to_cloudevent(
        &later,
        "harbor.scan.completed",
        "11111111-2222-3333-4444-555555555555",
    );
    assert_eq!(key_of(&ce), key);
}

#[test]
fn a_clean_rescan_resolves_the_vulnerability_alert() {
    let dirty = fixture("harbor/default_SCANNING_COMPLETED.json");
    let alert = sent(&dirty, &builtin());
    assert_eq!(alert.event_status, Severity::Critical);

    let mut clean = dirty.clone();
    clean["occur_at"] = json!(1742035500);
    let report = "/event_data/resources/0/scan_overview/application~1vnd.security.vulnerability.report; version=1.1";
    set(&mut clean, &format!("{report}/severity"), json!("None"));
    set(
        &mut clean,
        &format!("{report}/summary"),
        json!({"total": 0, "fixable": 0, "summary": {}}),
    );
    let resolved = sent(&clean, &builtin());
    assert_eq!(resolved.event_status, Severity::Ok);
    assert_eq!(resolved.alert_key, alert.alert_key);

    // Only low findings left: still healthy, still the same key.
    let mut low = dirty.clone();
    set(&mut low, &format!("{report}/severity"), json!("Low"));
    set(
        &mut low,
        &format!("{report}/summary"),
        json!({"total": 3, "fixable": 0, "summary": {"Low": 3}}),
    );
    let resolved = sent(&low, &builtin());
    assert_eq!(resolved.event_status, Severity::Ok);
    assert_eq!(resolved.alert_key, alert.alert_key);
}

#[test]
fn msr3_rescans_share_a_key_and_a_clean_one_resolves() {
    let critical = fixture("msr3/msr3_SCAN_COMPLETED_critical.json");
    let alert = sent(&critical, &builtin());
    let mut clean = critical.clone();
    clean["createdAt"] = json!("2024-03-12T09:16:45.000000001Z");
    for k in ["critical", "major", "minor"] {
        clean["contents"]["scanSummary"][k] = json!(0);
    }
    let resolved = sent(&clean, &builtin());
    assert_eq!(resolved.event_status, Severity::Ok);
    assert_eq!(resolved.alert_key, alert.alert_key);
}

#[test]
fn scan_failures_never_share_the_vulnerability_key_of_the_same_tag() {
    let completed = fixture("harbor/default_SCANNING_COMPLETED.json");
    let report = "/event_data/resources/0/scan_overview/application~1vnd.security.vulnerability.report; version=1.1";
    let vuln_key = key_of(&completed);

    let mut failed = completed.clone();
    failed["type"] = json!("SCANNING_FAILED");
    set(
        &mut failed,
        &format!("{report}/scan_status"),
        json!("Error"),
    );
    set(&mut failed, &format!("{report}/severity"), json!(""));
    set(&mut failed, &format!("{report}/summary"), json!(null));
    let mut stopped = failed.clone();
    stopped["type"] = json!("SCANNING_STOPPED");
    set(
        &mut stopped,
        &format!("{report}/scan_status"),
        json!("Stopped"),
    );

    let failed_key = key_of(&failed);
    let stopped_key = key_of(&stopped);
    assert_ne!(
        failed_key, vuln_key,
        "SCANNING_FAILED must not overwrite the vulnerability alert"
    );
    assert_ne!(
        stopped_key, vuln_key,
        "SCANNING_STOPPED must not overwrite the vulnerability alert"
    );
    assert_eq!(
        failed_key, stopped_key,
        "failed and stopped share one family"
    );

    // The fixtures themselves: SCANNING_FAILED of v2.6.0 against a completed scan of v2.6.0.
    let fixture_failed = fixture("harbor/default_SCANNING_FAILED.json");
    let mut completed_v260 = completed.clone();
    completed_v260["event_data"]["resources"][0]["tag"] =
        fixture_failed["event_data"]["resources"][0]["tag"].clone();
    completed_v260["event_data"]["resources"][0]["digest"] =
        fixture_failed["event_data"]["resources"][0]["digest"].clone();
    assert_ne!(key_of(&fixture_failed), key_of(&completed_v260));
    let ce_failed = fixture("harbor/cloudevents_harbor.scan.failed.json");
    assert_ne!(key_of(&ce_failed), key_of(&completed_v260));

    // MSR 3 too.
    let msr_failed = fixture("msr3/msr3_SCAN_FAILED.json");
    let msr_completed = fixture("msr3/msr3_SCAN_COMPLETED_critical.json");
    assert_ne!(key_of(&msr_failed), key_of(&msr_completed));
}

#[test]
fn scans_of_different_artifacts_have_different_keys() {
    let base = fixture("harbor/default_SCANNING_COMPLETED.json");
    let key = key_of(&base);

    let mut other_tag = base.clone();
    other_tag["event_data"]["resources"][0]["tag"] = json!("v2.7.2");
    let mut other_repo = base.clone();
    set_repository(&mut other_repo["event_data"], "payments", "worker");
    let mut other_project = base.clone();
    set_repository(&mut other_project["event_data"], "prod", "api");
    let mut untagged = base.clone();
    untagged["event_data"]["resources"][0]
        .as_object_mut()
        .unwrap()
        .remove("tag");
    let mut untagged_other_digest = untagged.clone();
    untagged_other_digest["event_data"]["resources"][0]["digest"] =
        json!("sha256:5426783e6546782c1e999fed278eb15e1d6c46deeb958b76a75e1978f4ad7bb7");

    let keys = [
        key.clone(),
        key_of(&other_tag),
        key_of(&other_repo),
        key_of(&other_project),
        key_of(&untagged_other_digest),
    ];
    assert_all_distinct(&keys);
    assert_ne!(
        key_of(&untagged),
        key_of(&untagged_other_digest),
        "untagged scans are told apart by digest"
    );
}

// ------------------------------------------------------------------------------------------------
// Quota

#[test]
fn quota_warning_and_exceeded_of_one_project_share_a_key() {
    let project_key = key_of(&fixture("harbor/default_QUOTA_WARNING.json"));
    for file in [
        "harbor/default_QUOTA_EXCEED.json",
        "harbor/default_QUOTA_EXCEED_blob.json",
        "harbor/default_QUOTA_EXCEED_copy_by_digest.json",
        "harbor/cloudevents_harbor.quota.exceeded.json",
        "harbor/cloudevents_harbor.quota.warned.json",
        "harbor/legacy_projectQuota_exceed.json",
        "harbor/legacy_projectQuota_warning.json",
    ] {
        assert_eq!(
            key_of(&fixture(file)),
            project_key,
            "{file} is a quota event of project payments"
        );
    }
    assert_eq!(
        severity_of(&fixture("harbor/default_QUOTA_WARNING.json")),
        Severity::Warning
    );
    assert_eq!(
        severity_of(&fixture("harbor/default_QUOTA_EXCEED.json")),
        Severity::Critical
    );
}

#[test]
fn quota_events_of_different_projects_have_different_keys() {
    let base = fixture("harbor/default_QUOTA_EXCEED.json");
    let mut other = base.clone();
    set_repository(&mut other["event_data"], "prod", "api");
    assert_ne!(key_of(&base), key_of(&other));
    let mut warning_other = fixture("harbor/default_QUOTA_WARNING.json");
    set_repository(&mut warning_other["event_data"], "prod", "api");
    assert_eq!(key_of(&warning_other), key_of(&other));
}

// ------------------------------------------------------------------------------------------------
// Replication

/// default_REPLICATION.json turned into the failed run of the same policy and target.
fn replication_error() -> Value {
    let mut v = fixture("harbor/default_REPLICATION.json");
    let r = &mut v["event_data"]["replication"];
    r["job_status"] = json!("Error");
    let artifacts = r
        .as_object_mut()
        .unwrap()
        .remove("successful_artifact")
        .unwrap();
    let mut artifacts = artifacts.as_array().unwrap().clone();
    for a in &mut artifacts {
        a["status"] = json!("Error");
    }
    r["failed_artifact"] = json!(artifacts);
    v["occur_at"] = json!(1741951900);
    v
}

#[test]
fn replication_success_resolves_the_earlier_error() {
    let error = replication_error();
    let success = fixture("harbor/default_REPLICATION.json");
    let error_alert = sent(&error, &builtin());
    let success_alert = sent(&success, &builtin());
    assert_eq!(error_alert.event_status, Severity::Critical);
    assert_eq!(success_alert.event_status, Severity::Ok);
    assert_eq!(error_alert.alert_key, success_alert.alert_key);

    // `Failed`/`Succeed` spellings and the CloudEvents form land on the same key too.
    let mut failed = error.clone();
    failed["event_data"]["replication"]["job_status"] = json!("Failed");
    assert_eq!(severity_of(&failed), Severity::Critical);
    assert_eq!(key_of(&failed), error_alert.alert_key);
    let mut succeed = success.clone();
    succeed["event_data"]["replication"]["job_status"] = json!("Succeed");
    assert_eq!(severity_of(&succeed), Severity::Ok);
    assert_eq!(key_of(&succeed), error_alert.alert_key);
    let ce_error = default_to_cloudevent(&error, "harbor.replication.status.changed", "e1");
    assert_eq!(key_of(&ce_error), error_alert.alert_key);
    assert_eq!(
        key_of(&fixture(
            "harbor/cloudevents_harbor.replication.status.changed.json"
        )),
        error_alert.alert_key
    );
}

#[test]
fn replications_to_different_targets_have_different_keys() {
    let base = fixture("harbor/default_REPLICATION.json");
    let key = key_of(&base);
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v["event_data"]["replication"]);
        key_of(&v)
    };
    let keys = [
        key.clone(),
        edit(&|r| r["dest_resource"]["namespace"] = json!("payments-dr")),
        edit(&|r| {
            r["dest_resource"]["endpoint"] = json!("https://harbor-dr2.example.net");
            r["dest_resource"]["registry_name"] = json!("dr2-harbor");
        }),
        edit(&|r| r["src_resource"]["namespace"] = json!("billing")),
        edit(&|r| r["successful_artifact"][0]["name_tag"] = json!("web [1 item(s) in total]")),
        key_of(&fixture("harbor/default_REPLICATION_failed_pull_mode.json")),
    ];
    assert_all_distinct(&keys);
    // ...while the item count and references of one repository do not matter.
    assert_eq!(
        edit(&|r| r["successful_artifact"][0]["name_tag"] = json!("api [5 item(s) in total]")),
        key
    );
}

// ------------------------------------------------------------------------------------------------
// Artifacts, charts, retention, unknown types

#[test]
fn artifact_events_collapse_retries_and_tell_artifacts_apart() {
    let push = fixture("harbor/default_PUSH_ARTIFACT.json");
    let key = key_of(&push);
    let mut retry = push.clone();
    retry["occur_at"] = json!(1741948600);
    retry["operator"] = json!("someone-else");
    assert_eq!(key_of(&retry), key, "a retried push");

    let mut other_digest = push.clone();
    other_digest["event_data"]["resources"][0]["digest"] =
        json!(format!("sha256:{}", "ab".repeat(32)));
    let mut other_repo = push.clone();
    set_repository(&mut other_repo["event_data"], "payments", "web");
    let mut other_project = push.clone();
    set_repository(&mut other_project["event_data"], "billing", "api");
    let mut delete = push.clone();
    delete["type"] = json!("DELETE_ARTIFACT");
    assert_all_distinct(&[
        key.clone(),
        key_of(&other_digest),
        key_of(&other_repo),
        key_of(&other_project),
        key_of(&delete),
    ]);

    // Key is type + repository + digest: a second tag on the same digest is the same artifact.
    let mut same_digest_other_tag = push.clone();
    same_digest_other_tag["event_data"]["resources"][0]["tag"] = json!("latest");
    assert_eq!(key_of(&same_digest_other_tag), key);
}

#[test]
fn chart_events_are_keyed_by_chart_name_and_version() {
    let upload = fixture("harbor/default_UPLOAD_CHART.json");
    let mut retry = upload.clone();
    retry["occur_at"] = json!(1741950999);
    retry["operator"] = json!("admin");
    assert_eq!(key_of(&retry), key_of(&upload));
    let mut other_version = upload.clone();
    other_version["event_data"]["resources"][0]["tag"] = json!("1.4.3");
    let mut other_chart = upload.clone();
    set_repository(&mut other_chart["event_data"], "payments", "web");
    let delete = fixture("harbor/default_DELETE_CHART.json");
    assert_all_distinct(&[
        key_of(&upload),
        key_of(&other_version),
        key_of(&other_chart),
        key_of(&delete),
    ]);
}

#[test]
fn each_retention_run_is_its_own_alert() {
    let run = fixture("harbor/default_TAG_RETENTION.json");
    let key = key_of(&run);
    let mut same_run_other_operator = run.clone();
    same_run_other_operator["operator"] = json!("bob");
    assert_eq!(key_of(&same_run_other_operator), key);
    let mut next_run = run.clone();
    next_run["occur_at"] = json!(1742039400);
    let mut other_policy = run.clone();
    other_policy["event_data"]["retention"]["retention_policy_id"] = json!(5);
    let mut other_project = run.clone();
    other_project["event_data"]["retention"]["project_name"] = json!("billing");
    let mut other_repo = run.clone();
    for (i, nt) in ["web:v1", "web:v2", "web:v3"].iter().enumerate() {
        other_repo["event_data"]["retention"]["deleted_artifact"][i]["name_tag"] = json!(nt);
    }
    assert_all_distinct(&[
        key,
        key_of(&next_run),
        key_of(&other_policy),
        key_of(&other_project),
        key_of(&other_repo),
    ]);
}

#[test]
fn unknown_types_are_keyed_by_type_time_and_data() {
    let unknown = fixture("harbor/default_UNKNOWN_TYPE.json");
    let key = key_of(&unknown);
    let mut other_operator = unknown.clone();
    other_operator["operator"] = json!("bob");
    assert_eq!(key_of(&other_operator), key);
    let mut later = unknown.clone();
    later["occur_at"] = json!(1741952001);
    let mut other_type = unknown.clone();
    other_type["type"] = json!("ARTIFACT_UNLABELED");
    let mut other_data = unknown.clone();
    other_data["event_data"]["resources"][0]["tag"] = json!("v9");
    assert_all_distinct(&[
        key,
        key_of(&later),
        key_of(&other_type),
        key_of(&other_data),
    ]);
}

// ------------------------------------------------------------------------------------------------
// One event, many wire forms

const PAIRS: [(&str, &str); 11] = [
    (
        "harbor/default_PUSH_ARTIFACT.json",
        "harbor/cloudevents_harbor.artifact.pushed.json",
    ),
    (
        "harbor/default_PULL_ARTIFACT.json",
        "harbor/cloudevents_harbor.artifact.pulled.json",
    ),
    (
        "harbor/default_DELETE_ARTIFACT.json",
        "harbor/cloudevents_harbor.artifact.deleted.json",
    ),
    (
        "harbor/default_SCANNING_COMPLETED.json",
        "harbor/cloudevents_harbor.scan.completed.json",
    ),
    (
        "harbor/default_SCANNING_COMPLETED_sbom.json",
        "harbor/cloudevents_harbor.scan.completed_sbom.json",
    ),
    (
        "harbor/default_SCANNING_FAILED.json",
        "harbor/cloudevents_harbor.scan.failed.json",
    ),
    (
        "harbor/default_SCANNING_STOPPED.json",
        "harbor/cloudevents_harbor.scan.stopped.json",
    ),
    (
        "harbor/default_QUOTA_EXCEED.json",
        "harbor/cloudevents_harbor.quota.exceeded.json",
    ),
    (
        "harbor/default_QUOTA_WARNING.json",
        "harbor/cloudevents_harbor.quota.warned.json",
    ),
    (
        "harbor/default_REPLICATION.json",
        "harbor/cloudevents_harbor.replication.status.changed.json",
    ),
    (
        "harbor/default_TAG_RETENTION.json",
        "harbor/cloudevents_harbor.tag_retention.finished.json",
    ),
];

#[test]
fn default_and_cloudevents_fixture_pairs_share_keys() {
    let mut failures = Vec::new();
    for (default, ce) in PAIRS {
        let (d, c) = (fixture(default), fixture(ce));
        let (kd, kc) = (key_of(&d), key_of(&c));
        if kd != kc {
            failures.push(format!("{default} -> {kd}\n{ce} -> {kc}"));
        }
        let (od, oc) = (one(&d, &builtin()), one(&c, &builtin()));
        if od.event.type_name() != oc.event.type_name() {
            failures.push(format!(
                "{default} and {ce}: canonical types {} vs {}",
                od.event.type_name(),
                oc.event.type_name()
            ));
        }
        let status = |a: &harbor_flashduty_core::convert::Action| match a {
            harbor_flashduty_core::convert::Action::Send(alert) => Some(alert.event_status),
            harbor_flashduty_core::convert::Action::Drop { .. } => None,
        };
        if status(&od.action) != status(&oc.action) {
            failures.push(format!("{default} and {ce}: outcomes differ"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_default_fixture_as_a_cloudevent_keeps_its_key() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in all_json_fixtures()
        .into_iter()
        .filter(|f| f.starts_with("harbor/default_"))
    {
        let default = fixture(&file);
        let kind = default["type"].as_str().unwrap();
        // Charts never had CloudEvents names; an unknown type is kept as given in any envelope.
        let ce_type = match cloudevents_type(kind) {
            Some(t) => t.to_owned(),
            None if kind.ends_with("_CHART") => continue,
            None => kind.to_owned(),
        };
        checked += 1;
        for id in [
            "a8b9c0d1-0000-4000-8000-000000000001",
            "a8b9c0d1-0000-4000-8000-000000000002",
        ] {
            let ce = default_to_cloudevent(&default, &ce_type, id);
            let (kd, kc) = (key_of(&default), key_of(&ce));
            if kd != kc {
                failures.push(format!("{file} as {ce_type} (id {id}): {kd} vs {kc}"));
            }
            let (a, b) = (one(&default, &builtin()), one(&ce, &builtin()));
            if a.event.type_name() != b.event.type_name() {
                failures.push(format!(
                    "{file} as {ce_type}: canonical types {} vs {}",
                    a.event.type_name(),
                    b.event.type_name()
                ));
            }
        }
    }
    assert!(checked >= 20, "only {checked} Default fixtures checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn legacy_names_keep_the_key() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in all_json_fixtures()
        .into_iter()
        .filter(|f| f.starts_with("harbor/default_"))
    {
        let default = fixture(&file);
        let Some(legacy) = legacy_type(default["type"].as_str().unwrap()) else {
            continue;
        };
        checked += 1;
        let mut old = default.clone();
        old["type"] = json!(legacy);
        let (a, b) = (one(&default, &builtin()), one(&old, &builtin()));
        if a.event.type_name() != b.event.type_name() {
            failures.push(format!(
                "{file} as {legacy}: canonical types {} vs {}",
                a.event.type_name(),
                b.event.type_name()
            ));
        }
        let (kd, kl) = (key_of(&default), key_of(&old));
        if kd != kl {
            failures.push(format!("{file} as {legacy}: {kd} vs {kl}"));
        }
    }
    assert!(checked >= 15, "only {checked} Default fixtures checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn push_image_is_push_artifact() {
    let push = fixture("harbor/default_PUSH_ARTIFACT.json");
    let mut legacy = push.clone();
    legacy["type"] = json!("pushImage");
    assert_eq!(key_of(&legacy), key_of(&push));
    let legacy_alert = sent(&legacy, &builtin());
    assert_eq!(
        legacy_alert.labels.get("event_type").map(String::as_str),
        Some("PUSH_ARTIFACT")
    );
}

#[test]
fn binary_mode_shares_the_key_of_structured_mode() {
    let structured = fixture("harbor/cloudevents_harbor.artifact.pushed.json");
    let headers = attributes_from_headers(&fixture(
        "harbor/cloudevents_binary_harbor.artifact.pushed.headers.json",
    ));
    let body = read_fixture("harbor/cloudevents_binary_harbor.artifact.pushed.body.json");
    assert_eq!(key_of_bytes(&body, Some(&headers)), key_of(&structured));
    assert_eq!(
        key_of(&fixture("harbor/default_PUSH_ARTIFACT.json")),
        key_of(&structured)
    );

    let mut failures = Vec::new();
    for file in all_json_fixtures()
        .into_iter()
        .filter(|f| f.starts_with("harbor/cloudevents_harbor."))
    {
        let ce = fixture(&file);
        let (attributes, body) = to_binary(&ce);
        let (ks, kb) = (key_of(&ce), key_of_bytes(&body, Some(&attributes)));
        if ks != kb {
            failures.push(format!("{file}: structured {ks} vs binary {kb}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ------------------------------------------------------------------------------------------------
// Length

#[test]
fn over_long_names_still_give_a_short_distinct_deterministic_key() {
    let push = fixture("harbor/default_SCANNING_COMPLETED.json");
    let cases = [
        ("payments".to_owned(), "a".repeat(1000), "v1".to_owned()),
        (
            "payments".to_owned(),
            format!("{}b", "a".repeat(999)),
            "v1".to_owned(),
        ),
        ("é".repeat(300), "ü".repeat(300), "v1".to_owned()),
        ("payments".to_owned(), "api".to_owned(), "t".repeat(500)),
        (
            "payments".to_owned(),
            "api".to_owned(),
            format!("{}x", "t".repeat(499)),
        ),
    ];
    let mut keys = Vec::new();
    for (project, name, tag) in &cases {
        for file_payload in [
            push.clone(),
            fixture("harbor/default_PUSH_ARTIFACT.json"),
            fixture("harbor/default_QUOTA_EXCEED.json"),
        ] {
            let mut v = file_payload;
            set_repository(&mut v["event_data"], project, name);
            v["event_data"]["resources"][0]["tag"] = json!(tag);
            let alert = sent(&v, &builtin());
            assert!(
                alert.alert_key.chars().count() <= 255,
                "{} chars: {}",
                alert.alert_key.chars().count(),
                alert.alert_key
            );
            assert_eq!(
                sent(&v, &builtin()).alert_key,
                alert.alert_key,
                "deterministic"
            );
            check_limits(&alert).unwrap();
            if v["type"] == json!("SCANNING_COMPLETED") {
                keys.push(alert.alert_key.clone());
            }
        }
    }
    assert_all_distinct(&keys);
}

fn assert_all_distinct(keys: &[String]) {
    for (i, a) in keys.iter().enumerate() {
        for (j, b) in keys.iter().enumerate().skip(i + 1) {
            assert_ne!(a, b, "keys #{i} and #{j} should differ");
        }
    }
}
