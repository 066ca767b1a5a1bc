//! Rules (SPEC section 7): matching, severities, drops, labels, and validation errors.

use crate::support::*;
use harbor_flashduty_core::convert::Action;
use harbor_flashduty_core::rules::{RuleProblem, Rules};
use harbor_flashduty_core::severity::Severity;
use serde_json::{Value, json};

fn fixture(rel: &str) -> Value {
    json_fixture(rel)
}

/// A rules document with one rule `when` -> Critical, labelled so a match is visible.
fn probe(when: Value) -> Rules {
    rules(&json!({"rules": [{"name": "probe", "when": when, "severity": "Critical", "labels": {"probe": "hit"}}]}).to_string())
}

/// Whether the probe rule matched the payload's event.
fn matches(when: Value, payload: &Value) -> bool {
    let c = one(payload, &probe(when));
    let hit = c.rule == "probe";
    if let Action::Send(alert) = &c.action {
        assert_eq!(
            alert.labels.contains_key("probe"),
            hit,
            "rule label and decision disagree"
        );
        assert_eq!(
            alert.labels.get("rule").map(String::as_str),
            Some(c.rule.as_str())
        );
    }
    hit
}

fn assert_matches(when: Value, files: &[&str]) {
    for f in files {
        assert!(
            matches(when.clone(), &fixture(f)),
            "{when} should match {f}"
        );
    }
}

fn assert_no_match(when: Value, files: &[&str]) {
    for f in files {
        assert!(
            !matches(when.clone(), &fixture(f)),
            "{when} should not match {f}"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// `when` keys

#[test]
fn event_matches_canonical_cloudevents_and_legacy_names() {
    assert_matches(
        json!({"event": "PUSH_ARTIFACT"}),
        &[
            "harbor/default_PUSH_ARTIFACT.json",
            "harbor/cloudevents_harbor.artifact.pushed.json",
            "harbor/legacy_pushImage.json",
            "harbor/legacy_docs_envelope_pushImage.json",
            "msr3/msr3_TAG_PUSH.json",
        ],
    );
    assert_no_match(
        json!({"event": "PUSH_ARTIFACT"}),
        &[
            "harbor/default_DELETE_ARTIFACT.json",
            "harbor/default_UPLOAD_CHART.json",
        ],
    );
    // A legacy or CloudEvents name matches the event whatever form it came in.
    assert_matches(
        json!({"event": "pushImage"}),
        &[
            "harbor/default_PUSH_ARTIFACT.json",
            "harbor/cloudevents_harbor.artifact.pushed.json",
            "harbor/legacy_pushImage.json",
        ],
    );
    assert_matches(
        json!({"event": "harbor.artifact.pushed"}),
        &[
            "harbor/default_PUSH_ARTIFACT.json",
            "harbor/legacy_pushImage.json",
        ],
    );
    assert_matches(
        json!({"event": "harbor.quota.*"}),
        &[
            "harbor/default_QUOTA_EXCEED.json",
            "harbor/default_QUOTA_WARNING.json",
            "harbor/cloudevents_harbor.quota.exceeded.json",
            "harbor/legacy_projectQuota_exceed.json",
        ],
    );
    assert_no_match(
        json!({"event": "harbor.quota.*"}),
        &[
            "harbor/default_PUSH_ARTIFACT.json",
            "harbor/default_REPLICATION.json",
        ],
    );
    assert_matches(
        json!({"event": "QUOTA_EXCEED"}),
        &[
            "harbor/legacy_projectQuota_exceed.json",
            "harbor/cloudevents_harbor.quota.exceeded.json",
        ],
    );
    assert_no_match(
        json!({"event": "QUOTA_EXCEED"}),
        &["harbor/legacy_projectQuota_warning.json"],
    );
    assert_matches(
        json!({"event": "projectQuota"}),
        &[
            "harbor/default_QUOTA_WARNING.json",
            "harbor/default_QUOTA_EXCEED.json",
        ],
    );
    assert_matches(
        json!({"event": "scanningCompleted"}),
        &[
            "harbor/default_SCANNING_COMPLETED.json",
            "msr3/msr3_SCAN_COMPLETED_critical.json",
        ],
    );
    assert_matches(
        json!({"event": "harbor.scan.*"}),
        &[
            "harbor/default_SCANNING_FAILED.json",
            "harbor/default_SCANNING_STOPPED.json",
        ],
    );
    assert_matches(
        json!({"event": "harbor.replication.status.changed"}),
        &["harbor/default_REPLICATION.json"],
    );
    assert_matches(
        json!({"event": "harbor.tag_retention.finished"}),
        &["harbor/default_TAG_RETENTION.json"],
    );
    // Unknown types are matched by the name they came with.
    assert_matches(
        json!({"event": "ARTIFACT_LABELED"}),
        &["harbor/default_UNKNOWN_TYPE.json"],
    );
    assert_matches(
        json!({"event": "harbor.project.*"}),
        &["harbor/cloudevents_harbor.unknown_type.json"],
    );
    assert_matches(
        json!({"event": "REPO_DELETED"}),
        &["msr3/msr3_REPO_DELETED.json"],
    );
    assert_matches(
        json!({"event": "SCANNER_UPDATE_COMPLETED"}),
        &["msr3/msr3_SCANNER_UPDATE_COMPLETED_failed.json"],
    );
}

#[test]
fn a_rule_can_send_what_the_built_in_rules_drop() {
    let r = rules(
        r#"{"rules": [{"name": "audit pulls", "when": {"event": "PULL_ARTIFACT"}, "severity": "Info"}]}"#,
    );
    let alert = sent(&fixture("harbor/default_PULL_ARTIFACT.json"), &r);
    assert_eq!(alert.event_status, Severity::Info);
    assert_eq!(
        alert.labels.get("rule").map(String::as_str),
        Some("audit pulls")
    );
}

#[test]
fn project_repository_tag_and_operator() {
    let push = "harbor/default_PUSH_ARTIFACT.json"; // payments/api:v2.7.1 by robot$payments+ci
    assert_matches(
        json!({"project": "payments"}),
        &[push, "msr3/msr3_TAG_PUSH.json"],
    );
    assert_no_match(json!({"project": "team-a"}), &[push]);
    assert_matches(
        json!({"repository": "payments/api"}),
        &[push, "harbor/default_QUOTA_EXCEED.json"],
    );
    assert_no_match(json!({"repository": "api"}), &[push]);
    assert_matches(json!({"tag": "v2.7.1"}), &[push]);
    assert_no_match(json!({"tag": "v2.7.2"}), &[push]);
    assert_matches(json!({"operator": "robot$payments+ci"}), &[push]);
    assert_no_match(json!({"operator": "alice"}), &[push]);
    // Replication: project is the namespace on this Harbor's side, repository from name_tag.
    assert_matches(
        json!({"project": "mirror", "repository": "mirror/redis"}),
        &["harbor/default_REPLICATION_failed_pull_mode.json"],
    );
    // Retention: project_name, and the first deleted artifact's repository.
    assert_matches(
        json!({"project": "payments", "repository": "payments/api"}),
        &["harbor/default_TAG_RETENTION.json"],
    );
}

#[test]
fn status_matches_replication_scan_and_retention_results() {
    assert_matches(
        json!({"status": "Error"}),
        &[
            "harbor/default_REPLICATION_failed_pull_mode.json",
            "harbor/default_SCANNING_FAILED.json",
        ],
    );
    assert_matches(
        json!({"status": "Success"}),
        &[
            "harbor/default_REPLICATION.json",
            "harbor/default_SCANNING_COMPLETED.json",
        ],
    );
    assert_matches(
        json!({"status": "Stopped"}),
        &["harbor/default_SCANNING_STOPPED.json"],
    );
    assert_matches(
        json!({"status": "SUCCESS"}),
        &["harbor/default_TAG_RETENTION.json"],
    );
    assert_no_match(
        json!({"status": "Error"}),
        &["harbor/default_REPLICATION.json"],
    );
    assert_no_match(
        json!({"status": "*"}),
        &[
            "harbor/default_PUSH_ARTIFACT.json",
            "harbor/default_QUOTA_EXCEED.json",
        ],
    );
    // The replication rule of thumb: a user rule that pages on any failed replication.
    let r = rules(
        r#"{"rules": [{"name": "failed replication", "when": {"event": "REPLICATION", "status": ["Error", "Failed"]}, "severity": "Warning"}]}"#,
    );
    assert_eq!(
        sent(
            &fixture("harbor/default_REPLICATION_failed_pull_mode.json"),
            &r
        )
        .event_status,
        Severity::Warning
    );
    assert_eq!(
        sent(&fixture("harbor/default_REPLICATION.json"), &r).event_status,
        Severity::Ok
    );
}

#[test]
fn scan_severity_is_a_threshold_on_vulnerability_scans() {
    let critical = "harbor/default_SCANNING_COMPLETED.json";
    let high = "harbor/default_SCANNING_COMPLETED_untagged.json";
    let none = "harbor/default_SCANNING_COMPLETED_no_vulns.json";
    let msr_low = "msr3/msr3_SCAN_COMPLETED_clean_fixture_keys.json";
    let mut medium = fixture(none);
    let report = "/event_data/resources/0/scan_overview/application~1vnd.security.vulnerability.report; version=1.1";
    set(&mut medium, &format!("{report}/severity"), json!("Medium"));
    set(
        &mut medium,
        &format!("{report}/summary"),
        json!({"total": 4, "fixable": 1, "summary": {"Medium": 1, "Low": 3}}),
    );
    let mut low = fixture(none);
    set(&mut low, &format!("{report}/severity"), json!("Low"));
    set(
        &mut low,
        &format!("{report}/summary"),
        json!({"total": 3, "fixable": 0, "summary": {"Low": 3}}),
    );

    assert_matches(
        json!({"scan_severity": "Medium"}),
        &[
            critical,
            high,
            "harbor/legacy_scanningCompleted.json",
            "msr3/msr3_SCAN_COMPLETED_critical.json",
        ],
    );
    assert!(matches(json!({"scan_severity": "Medium"}), &medium));
    assert!(
        !matches(json!({"scan_severity": "Medium"}), &low),
        "Low is below Medium"
    );
    assert_no_match(json!({"scan_severity": "Medium"}), &[none, msr_low]);

    assert_matches(json!({"scan_severity": "Critical"}), &[critical]);
    assert_no_match(json!({"scan_severity": "Critical"}), &[high]);
    assert_matches(
        json!({"scan_severity": "High"}),
        &[
            critical,
            high,
            "harbor/legacy_1.9_scanningCompleted_clair.json",
        ],
    );
    assert!(matches(json!({"scan_severity": "Low"}), &low));
    assert_matches(json!({"scan_severity": "Low"}), &[msr_low]);
    // `None` is the bottom of the scale: every vulnerability scan that succeeded.
    assert_matches(json!({"scan_severity": "None"}), &[none, critical]);

    // Never other events, failed or SBOM scans, or Scan All without an overview.
    let others = [
        "harbor/default_PUSH_ARTIFACT.json",
        "harbor/default_QUOTA_EXCEED.json",
        "harbor/default_REPLICATION_failed_pull_mode.json",
        "harbor/default_SCANNING_FAILED.json",
        "harbor/default_SCANNING_STOPPED.json",
        "harbor/default_SCANNING_COMPLETED_sbom.json",
        "harbor/default_SCANNING_COMPLETED_scan_all.json",
        "harbor/default_UNKNOWN_TYPE.json",
        "msr3/msr3_SCAN_FAILED.json",
    ];
    assert_no_match(json!({"scan_severity": "None"}), &others);
    assert_no_match(json!({"scan_severity": "Unknown"}), &others);
}

#[test]
fn lists_mean_any_of() {
    let when =
        json!({"event": ["DELETE_ARTIFACT", "PUSH_ARTIFACT"], "project": ["billing", "payments"]});
    assert_matches(
        when.clone(),
        &[
            "harbor/default_PUSH_ARTIFACT.json",
            "harbor/default_DELETE_ARTIFACT.json",
        ],
    );
    assert_no_match(
        when,
        &[
            "harbor/legacy_pushImage.json",
            "harbor/default_QUOTA_EXCEED.json",
        ],
    );
    assert_matches(
        json!({"tag": ["nope", "v2.*"]}),
        &["harbor/default_PUSH_ARTIFACT.json"],
    );
}

#[test]
fn globs_star_and_question_mark_case_sensitive() {
    let push = "harbor/default_PUSH_ARTIFACT.json";
    assert_matches(json!({"project": "pay*"}), &[push]);
    assert_matches(json!({"project": "payments*"}), &[push]);
    assert_matches(json!({"project": "*"}), &[push]);
    assert_matches(json!({"repository": "payments/*"}), &[push]);
    assert_matches(json!({"tag": "v2.7.?"}), &[push]);
    assert_matches(json!({"tag": "v?.?.?"}), &[push]);
    assert_no_match(json!({"tag": "v2.?"}), &[push]);
    assert_no_match(json!({"tag": "v2.7.1?"}), &[push]);
    assert_matches(json!({"operator": "robot$*+ci"}), &[push]);
    assert_matches(json!({"operator": "*ci"}), &[push]);
    assert_no_match(json!({"project": "Payments"}), &[push]);
    assert_no_match(json!({"event": "push_artifact"}), &[push]);
    assert_no_match(
        json!({"event": "PUSH_*"}),
        &["harbor/default_PULL_ARTIFACT.json"],
    );
    assert_no_match(
        json!({"operator": "*trivy*"}),
        &["harbor/default_SCANNING_COMPLETED.json"],
    );
    assert_no_match(json!({"project": "pay"}), &[push]);
}

#[test]
fn all_keys_of_when_must_hold() {
    let push = "harbor/default_PUSH_ARTIFACT.json";
    assert_matches(
        json!({"event": "PUSH_ARTIFACT", "project": "payments", "tag": "v2.*", "operator": "robot*"}),
        &[push],
    );
    assert_no_match(
        json!({"event": "PUSH_ARTIFACT", "project": "payments", "tag": "v3.*"}),
        &[push],
    );
    assert_matches(
        json!({}),
        &[
            push,
            "harbor/default_REPLICATION.json",
            "msr3/msr3_REPO_DELETED.json",
        ],
    );
}

#[test]
fn a_key_whose_field_the_event_lacks_does_not_match() {
    assert_no_match(
        json!({"tag": "*"}),
        &[
            "harbor/default_PUSH_ARTIFACT_by_digest.json", // a digest in `tag` counts as no tag
            "harbor/default_SCANNING_COMPLETED_untagged.json",
            "harbor/default_QUOTA_EXCEED_blob.json",
            "harbor/default_REPLICATION.json",
        ],
    );
    assert_no_match(
        json!({"operator": "*"}),
        &[
            "harbor/default_PULL_ARTIFACT_anonymous_by_digest.json",
            "harbor/default_QUOTA_EXCEED_copy_by_digest.json",
            "harbor/legacy_docs_envelope_pushImage.json",
        ],
    );
    assert_no_match(
        json!({"repository": "*"}),
        &["msr3/msr3_SCANNER_UPDATE_COMPLETED_failed.json"],
    );
    assert_no_match(
        json!({"project": "*"}),
        &["msr3/msr3_SCANNER_UPDATE_COMPLETED_failed.json"],
    );
    assert_no_match(
        json!({"status": "*"}),
        &["harbor/default_DELETE_ARTIFACT.json"],
    );
}

// ------------------------------------------------------------------------------------------------
// Order, severity, drop, labels

#[test]
fn the_first_matching_rule_decides() {
    let r = rules(
        r#"{"rules": [
            {"name": "first", "when": {"project": "payments"}, "severity": "Warning", "labels": {"which": "first"}},
            {"name": "second", "when": {"event": "PUSH_ARTIFACT"}, "severity": "Critical", "labels": {"which": "second"}},
            {"name": "third", "when": {}, "severity": "drop"}
        ]}"#,
    );
    let alert = sent(&fixture("harbor/default_PUSH_ARTIFACT.json"), &r);
    assert_eq!(alert.event_status, Severity::Warning);
    assert_eq!(alert.labels.get("which").map(String::as_str), Some("first"));
    assert_eq!(alert.labels.get("rule").map(String::as_str), Some("first"));
    let alert = sent(&fixture("harbor/legacy_pushImage.json"), &r);
    assert_eq!(alert.event_status, Severity::Critical);
    assert_eq!(alert.labels.get("rule").map(String::as_str), Some("second"));
    assert_eq!(
        dropped_by(&fixture("harbor/legacy_scanningCompleted.json"), &r).as_deref(),
        Some("third")
    );
}

#[test]
fn omitted_severity_keeps_the_built_in_one_and_adds_labels() {
    let r = rules(
        r#"{"rules": [{"name": "tag payments", "when": {"project": "payments"}, "labels": {"team": "payments"}}]}"#,
    );
    for (file, severity) in [
        ("harbor/default_SCANNING_COMPLETED.json", Severity::Critical),
        (
            "harbor/default_SCANNING_COMPLETED_untagged.json",
            Severity::Warning,
        ),
        (
            "harbor/default_SCANNING_COMPLETED_no_vulns.json",
            Severity::Ok,
        ),
        ("harbor/default_QUOTA_WARNING.json", Severity::Warning),
        ("harbor/default_PUSH_ARTIFACT.json", Severity::Info),
        ("harbor/default_REPLICATION.json", Severity::Ok),
    ] {
        let alert = sent(&fixture(file), &r);
        assert_eq!(alert.event_status, severity, "{file}");
        assert_eq!(
            alert.labels.get("team").map(String::as_str),
            Some("payments"),
            "{file}"
        );
        assert_eq!(
            alert.labels.get("rule").map(String::as_str),
            Some("tag payments"),
            "{file}"
        );
    }
    // The built-in drop still applies, and it is the built-in rule that dropped it.
    assert_eq!(
        dropped_by(&fixture("harbor/default_PULL_ARTIFACT.json"), &r).as_deref(),
        Some("default")
    );
    // Events the rule does not match keep rule=default and get no rule labels.
    let alert = sent(&fixture("harbor/legacy_pushImage.json"), &r);
    assert_eq!(
        alert.labels.get("rule").map(String::as_str),
        Some("default")
    );
    assert!(!alert.labels.contains_key("team"));
}

#[test]
fn a_drop_rule_names_itself_and_the_built_in_drop_is_default() {
    let r = rules(
        r#"{"rules": [{"name": "quiet pushes", "when": {"event": "PUSH_ARTIFACT"}, "severity": "drop"}]}"#,
    );
    let drops = |rel: &str| -> Vec<(String, String)> {
        convert_value(&fixture(rel), &r)
            .into_iter()
            .map(|c| match c.action {
                Action::Drop { by } => (c.event.type_name().to_owned(), by),
                Action::Send(alert) => panic!("{rel}: sent {alert:?}"),
            })
            .collect()
    };
    assert_eq!(
        drops("harbor/default_PUSH_ARTIFACT.json"),
        [("PUSH_ARTIFACT".to_owned(), "quiet pushes".to_owned())]
    );
    assert_eq!(
        drops("harbor/default_PULL_ARTIFACT.json"),
        [("PULL_ARTIFACT".to_owned(), "default".to_owned())]
    );
    assert_eq!(
        dropped_by(
            &fixture("harbor/default_REPLICATION_running.json"),
            &builtin()
        )
        .as_deref(),
        Some("default")
    );
}

#[test]
fn explicit_severities_override_the_built_in_ones() {
    for (name, severity) in [
        ("Critical", Severity::Critical),
        ("Warning", Severity::Warning),
        ("Info", Severity::Info),
        ("Ok", Severity::Ok),
    ] {
        let r = rules(&json!({"rules": [{"name": "set", "when": {"event": "QUOTA_EXCEED"}, "severity": name}]}).to_string());
        assert_eq!(
            sent(&fixture("harbor/default_QUOTA_EXCEED.json"), &r).event_status,
            severity
        );
    }
}

#[test]
fn top_level_labels_go_on_every_alert() {
    let r = rules(r#"{"labels": {"team": "platform", "env": "prod"}, "rules": []}"#);
    let mut checked = 0;
    for file in all_json_fixtures()
        .into_iter()
        .filter(|f| !f.contains("cloudevents_binary"))
    {
        let c = one(&fixture(&file), &r);
        if let Action::Send(alert) = c.action {
            checked += 1;
            assert_eq!(
                alert.labels.get("team").map(String::as_str),
                Some("platform"),
                "{file}"
            );
            assert_eq!(
                alert.labels.get("env").map(String::as_str),
                Some("prod"),
                "{file}"
            );
            assert_eq!(
                alert.labels.get("rule").map(String::as_str),
                Some("default"),
                "{file}"
            );
        }
    }
    assert!(checked > 30);
}

#[test]
fn rule_labels_beat_top_level_labels_beat_built_in_labels() {
    let r = rules(
        r#"{"labels": {"team": "platform", "project": "from-top-level", "source": "registry"},
            "rules": [{"name": "payments team", "when": {"event": "PUSH_ARTIFACT"},
                       "labels": {"team": "payments", "source": "from-rule"}}]}"#,
    );
    let push = sent(&fixture("harbor/default_PUSH_ARTIFACT.json"), &r);
    assert_eq!(
        push.labels.get("team").map(String::as_str),
        Some("payments"),
        "rule beats top level"
    );
    assert_eq!(
        push.labels.get("source").map(String::as_str),
        Some("from-rule"),
        "rule beats built-in"
    );
    assert_eq!(
        push.labels.get("project").map(String::as_str),
        Some("from-top-level"),
        "top level beats built-in"
    );
    let quota = sent(&fixture("harbor/default_QUOTA_EXCEED.json"), &r);
    assert_eq!(
        quota.labels.get("team").map(String::as_str),
        Some("platform")
    );
    assert_eq!(
        quota.labels.get("source").map(String::as_str),
        Some("registry")
    );
    assert_eq!(
        quota.labels.get("project").map(String::as_str),
        Some("from-top-level")
    );
}

#[test]
fn many_static_labels_still_give_at_most_fifty() {
    let labels: serde_json::Map<String, Value> = (0..60)
        .map(|i| (format!("extra_{i:02}"), json!("x")))
        .collect();
    let rule_labels: serde_json::Map<String, Value> = (0..60)
        .map(|i| (format!("rule_{i:02}"), json!("y")))
        .collect();
    let r = rules(
        &json!({"labels": labels, "rules": [{"name": "many", "when": {}, "labels": rule_labels}]})
            .to_string(),
    );
    let alert = sent(&fixture("harbor/default_SCANNING_COMPLETED.json"), &r);
    assert!(alert.labels.len() <= 50, "{} labels", alert.labels.len());
    check_limits(&alert).unwrap();
}

#[test]
fn over_long_label_values_are_cut_not_rejected() {
    let long = "v".repeat(5_000);
    let r = rules(&json!({"labels": {"note": long}, "rules": [{"name": "n", "when": {}, "labels": {"owner": long}}]}).to_string());
    let alert = sent(&fixture("harbor/default_PUSH_ARTIFACT.json"), &r);
    for key in ["note", "owner"] {
        let value = alert
            .labels
            .get(key)
            .unwrap_or_else(|| panic!("label {key} missing"));
        assert!(
            !value.is_empty() && value.chars().count() <= 2048 && long.starts_with(value.as_str()),
            "{key}"
        );
    }
    check_limits(&alert).unwrap();
}

// ------------------------------------------------------------------------------------------------
// The built-in table (SPEC section 7), beyond what the fixtures show

#[test]
fn built_in_replication_statuses() {
    let base = fixture("harbor/default_REPLICATION.json");
    for (status, outcome) in [
        ("Error", Some(Severity::Critical)),
        ("Failed", Some(Severity::Critical)),
        ("Success", Some(Severity::Ok)),
        ("Succeed", Some(Severity::Ok)),
        ("Stopped", Some(Severity::Info)),
        ("Running", None),
        ("Pending", None),
        ("InProgress", None),
        ("Scheduled", None),
    ] {
        let mut v = base.clone();
        v["event_data"]["replication"]["job_status"] = json!(status);
        let c = one(&v, &builtin());
        match (&c.action, outcome) {
            (Action::Send(alert), Some(severity)) => {
                assert_eq!(alert.event_status, severity, "{status}");
                assert_eq!(
                    alert.labels.get("replication_status").map(String::as_str),
                    Some(status)
                );
            }
            (Action::Drop { by }, None) => assert_eq!(by, "default", "{status}"),
            (action, _) => panic!("{status}: unexpected {action:?}"),
        }
    }
}

#[test]
fn built_in_retention_scanner_update_and_scan_rules() {
    let mut failed_run = fixture("harbor/default_TAG_RETENTION.json");
    failed_run["event_data"]["retention"]["result"] = json!("FAILED");
    assert_eq!(
        sent(&failed_run, &builtin()).event_status,
        Severity::Warning
    );

    let mut update_ok = fixture("msr3/msr3_SCANNER_UPDATE_COMPLETED_failed.json");
    update_ok["contents"]["success"] = json!(true);
    assert_eq!(
        dropped_by(&update_ok, &builtin()).as_deref(),
        Some("default")
    );

    // SBOM scans and Scan All without an overview are dropped; a Scan All with an overview is not.
    assert_eq!(
        dropped_by(
            &fixture("harbor/default_SCANNING_COMPLETED_sbom.json"),
            &builtin()
        )
        .as_deref(),
        Some("default")
    );
    assert_eq!(
        dropped_by(
            &fixture("harbor/default_SCANNING_COMPLETED_scan_all.json"),
            &builtin()
        )
        .as_deref(),
        Some("default")
    );
    let mut scan_all_with_overview = fixture("harbor/default_SCANNING_COMPLETED.json");
    scan_all_with_overview["event_data"]["scan"] = json!({});
    assert_eq!(
        sent(&scan_all_with_overview, &builtin()).event_status,
        Severity::Critical
    );

    // The severity table: Critical pages, High warns, lower resolves.
    let report = "/event_data/resources/0/scan_overview/application~1vnd.security.vulnerability.report; version=1.1";
    for (found, severity) in [
        ("Critical", Severity::Critical),
        ("High", Severity::Warning),
        ("Medium", Severity::Ok),
        ("Low", Severity::Ok),
        ("Negligible", Severity::Ok),
        ("Unknown", Severity::Ok),
    ] {
        let mut v = fixture("harbor/default_SCANNING_COMPLETED.json");
        set(
            &mut v,
            &format!("{report}/summary"),
            json!({"total": 1, "fixable": 0, "summary": {found: 1}}),
        );
        set(&mut v, &format!("{report}/severity"), json!(found));
        assert_eq!(sent(&v, &builtin()).event_status, severity, "{found}");
    }
}

// ------------------------------------------------------------------------------------------------
// The SPEC's example document

const SPEC_EXAMPLE: &str = r#"{
  "labels": {"team": "platform"},
  "rules": [
    {"name": "drop scanner pulls", "when": {"event": "PULL_ARTIFACT", "operator": "*Trivy*"}, "severity": "drop"},
    {"name": "prod vulns", "when": {"event": "SCANNING_COMPLETED", "project": "prod-*", "scan_severity": "Medium"},
     "severity": "Critical", "labels": {"owner": "security"}},
    {"name": "sandbox is quiet", "when": {"project": ["sandbox", "tmp-*"]}, "severity": "drop"},
    {"name": "payments team", "when": {"project": "payments"}, "labels": {"team": "payments"}}
  ]
}"#;

fn in_project(file: &str, project: &str) -> Value {
    let mut v = fixture(file);
    set_repository(&mut v["event_data"], project, "api");
    v
}

#[test]
fn spec_example_rules_parse_and_behave_as_described() {
    let r = Rules::from_json(SPEC_EXAMPLE)
        .unwrap_or_else(|e| panic!("the SPEC's example must parse: {e}"));
    assert_eq!(r.len(), 4);

    // drop scanner pulls
    let mut scanner_pull = in_project("harbor/default_PULL_ARTIFACT.json", "prod-eu");
    scanner_pull["operator"] = json!("robot$Trivy-adapter");
    assert_eq!(
        dropped_by(&scanner_pull, &r).as_deref(),
        Some("drop scanner pulls")
    );
    let mut scanner_push = in_project("harbor/default_PUSH_ARTIFACT.json", "prod-eu");
    scanner_push["operator"] = json!("robot$Trivy-adapter");
    let alert = sent(&scanner_push, &r);
    assert_eq!(
        (alert.event_status, alert.labels["rule"].as_str()),
        (Severity::Info, "default")
    );
    // A pull by someone else falls through to the built-in drop.
    assert_eq!(
        dropped_by(
            &in_project("harbor/default_PULL_ARTIFACT.json", "prod-eu"),
            &r
        )
        .as_deref(),
        Some("default")
    );

    // prod vulns: Medium and above in prod-* is Critical with owner=security.
    let high = in_project("harbor/default_SCANNING_COMPLETED_untagged.json", "prod-eu");
    let alert = sent(&high, &r);
    assert_eq!(alert.event_status, Severity::Critical);
    assert_eq!(
        alert.labels.get("owner").map(String::as_str),
        Some("security")
    );
    assert_eq!(
        alert.labels.get("team").map(String::as_str),
        Some("platform")
    );
    assert_eq!(
        alert.labels.get("rule").map(String::as_str),
        Some("prod vulns")
    );
    let mut medium = in_project("harbor/default_SCANNING_COMPLETED_no_vulns.json", "prod-eu");
    let report = "/event_data/resources/0/scan_overview/application~1vnd.security.vulnerability.report; version=1.1";
    set(
        &mut medium,
        &format!("{report}/summary"),
        json!({"total": 2, "fixable": 0, "summary": {"Medium": 2}}),
    );
    set(&mut medium, &format!("{report}/severity"), json!("Medium"));
    assert_eq!(sent(&medium, &r).event_status, Severity::Critical);
    let clean = in_project("harbor/default_SCANNING_COMPLETED_no_vulns.json", "prod-eu");
    let alert = sent(&clean, &r);
    assert_eq!(
        alert.event_status,
        Severity::Ok,
        "below Medium: the built-in rule decides"
    );
    assert_eq!(
        alert.labels.get("rule").map(String::as_str),
        Some("default")
    );
    assert!(!alert.labels.contains_key("owner"));
    let staging = in_project("harbor/default_SCANNING_COMPLETED_untagged.json", "staging");
    assert_eq!(sent(&staging, &r).event_status, Severity::Warning);

    // sandbox is quiet
    for project in ["sandbox", "tmp-42", "tmp-"] {
        assert_eq!(
            dropped_by(
                &in_project("harbor/default_PUSH_ARTIFACT.json", project),
                &r
            )
            .as_deref(),
            Some("sandbox is quiet"),
            "{project}"
        );
    }
    let alert = sent(
        &in_project("harbor/default_PUSH_ARTIFACT.json", "sandbox-2"),
        &r,
    );
    assert_eq!(
        alert.labels.get("rule").map(String::as_str),
        Some("default")
    );
    assert_eq!(
        alert.labels.get("team").map(String::as_str),
        Some("platform")
    );

    // payments team: built-in severity, team label overridden by the rule.
    for (file, severity) in [
        ("harbor/default_PUSH_ARTIFACT.json", Severity::Info),
        ("harbor/default_SCANNING_COMPLETED.json", Severity::Critical),
        ("harbor/default_QUOTA_EXCEED.json", Severity::Critical),
    ] {
        let alert = sent(&fixture(file), &r);
        assert_eq!(alert.event_status, severity, "{file}");
        assert_eq!(
            alert.labels.get("team").map(String::as_str),
            Some("payments"),
            "{file}"
        );
        assert_eq!(
            alert.labels.get("rule").map(String::as_str),
            Some("payments team"),
            "{file}"
        );
    }
    assert_eq!(
        dropped_by(&fixture("harbor/default_PULL_ARTIFACT.json"), &r).as_deref(),
        Some("default")
    );
}

// ------------------------------------------------------------------------------------------------
// Validation

fn problems_of(doc: &str) -> Vec<RuleProblem> {
    match Rules::from_json(doc) {
        Ok(r) => panic!(
            "expected validation errors, got {} rules for {doc}",
            r.len()
        ),
        Err(e) => {
            assert!(!e.problems.is_empty(), "an error with no problems");
            assert!(!e.to_string().trim().is_empty());
            e.problems
        }
    }
}

/// A document whose rule #2 (`prod vulns`) carries `rule`; rules 0 and 1 are fine.
fn third_rule(rule: Value) -> String {
    json!({"rules": [
        {"name": "fine", "when": {"event": "PUSH_ARTIFACT"}, "severity": "Info"},
        {"name": "also fine", "when": {"project": "x"}, "severity": "drop"},
        rule,
    ]})
    .to_string()
}

/// Exactly one problem, on rule 2 named `prod vulns`, naming `key` in its key and display.
fn assert_one_problem(doc: &str, key: &str) -> RuleProblem {
    let problems = problems_of(doc);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = problems.into_iter().next().unwrap();
    assert_eq!(p.index, Some(2), "{p:?}");
    assert_eq!(p.name.as_deref(), Some("prod vulns"), "{p:?}");
    assert!(p.key.contains(key), "key {:?} should name {key:?}", p.key);
    let shown = p.to_string();
    for part in ["rules[2]", "\"prod vulns\"", key] {
        assert!(shown.contains(part), "{shown:?} should contain {part:?}");
    }
    assert!(!p.message.trim().is_empty());
    p
}

#[test]
fn unknown_key_in_a_rule() {
    let doc = third_rule(
        json!({"name": "prod vulns", "when": {"project": "prod-*"}, "sevrity": "Critical"}),
    );
    assert_one_problem(&doc, "sevrity");
}

#[test]
fn unknown_key_in_when() {
    let doc = third_rule(
        json!({"name": "prod vulns", "when": {"project": "prod-*", "sevrity": "High"}, "severity": "Critical"}),
    );
    let p = assert_one_problem(&doc, "sevrity");
    assert!(p.key.contains("when"), "{p:?}");
}

#[test]
fn unknown_top_level_key() {
    let problems = problems_of(r#"{"labels": {"team": "x"}, "rulez": []}"#);
    assert_eq!(problems[0].index, None);
    let shown = problems[0].to_string();
    assert!(shown.contains("rulez"), "{shown}");
}

#[test]
fn unknown_severity() {
    let doc = third_rule(
        json!({"name": "prod vulns", "when": {"project": "prod-*"}, "severity": "Severe"}),
    );
    let p = assert_one_problem(&doc, "severity");
    assert!(p.message.contains("Severe"), "{p:?}");
}

#[test]
fn unknown_scan_severity() {
    let doc = third_rule(
        json!({"name": "prod vulns", "when": {"scan_severity": "Huge"}, "severity": "Critical"}),
    );
    let p = assert_one_problem(&doc, "scan_severity");
    assert!(p.message.contains("Huge"), "{p:?}");
}

#[test]
fn bad_patterns() {
    for bad in ["prod-[ab]", ""] {
        let doc = third_rule(
            json!({"name": "prod vulns", "when": {"project": bad}, "severity": "Critical"}),
        );
        assert_one_problem(&doc, "project");
        let doc = third_rule(
            json!({"name": "prod vulns", "when": {"tag": ["v1", bad]}, "severity": "Critical"}),
        );
        assert_one_problem(&doc, "tag");
    }
}

#[test]
fn empty_list() {
    let doc =
        third_rule(json!({"name": "prod vulns", "when": {"event": []}, "severity": "Critical"}));
    assert_one_problem(&doc, "event");
}

#[test]
fn wrong_type() {
    let doc =
        third_rule(json!({"name": "prod vulns", "when": {"project": 5}, "severity": "Critical"}));
    assert_one_problem(&doc, "project");
    let doc = third_rule(json!({"name": "prod vulns", "when": {"project": "x"}, "severity": 3}));
    assert_one_problem(&doc, "severity");
    let problems = problems_of(r#"{"rules": {"name": "not a list"}}"#);
    assert!(
        problems[0].to_string().contains("rules"),
        "{:?}",
        problems[0]
    );
}

#[test]
fn invalid_label_names() {
    for bad in ["team-name", "9lives", "", "ünicode", "a b"] {
        let doc = third_rule(json!({"name": "prod vulns", "when": {}, "labels": {bad: "x"}}));
        assert_one_problem(&doc, "labels");
        let problems = problems_of(&json!({"labels": {bad: "x"}, "rules": []}).to_string());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].index, None);
        assert!(problems[0].key.contains("labels"), "{:?}", problems[0]);
    }
    // Valid names are accepted.
    rules(
        r#"{"labels": {"_x": "1", "Team_2": "2"}, "rules": [{"name": "ok", "labels": {"a1": "b"}}]}"#,
    );
}

#[test]
fn several_problems_are_reported_at_once() {
    let doc = json!({"rules": [
        {"name": "typo", "when": {"project": "a"}, "sevrity": "Critical"},
        {"name": "ok", "when": {"project": "b"}, "severity": "drop"},
        {"name": "bad severity and pattern", "when": {"project": "prod-[ab]", "scan_severity": "Huge"}, "severity": "Severe"},
        {"name": "bad label", "labels": {"team-name": "x"}},
    ]})
    .to_string();
    let problems = problems_of(&doc);
    let at = |i: usize| {
        problems
            .iter()
            .filter(|p| p.index == Some(i))
            .collect::<Vec<_>>()
    };
    assert_eq!(at(0).len(), 1, "{problems:#?}");
    assert!(at(1).is_empty(), "{problems:#?}");
    let third: Vec<&str> = at(2).iter().map(|p| p.key.as_str()).collect();
    assert!(
        third
            .iter()
            .any(|k| k.contains("severity") && !k.contains("scan")),
        "{third:?}"
    );
    assert!(third.iter().any(|k| k.contains("project")), "{third:?}");
    assert!(
        third.iter().any(|k| k.contains("scan_severity")),
        "{third:?}"
    );
    assert_eq!(at(3).len(), 1, "{problems:#?}");
    for p in &problems {
        assert!(p.name.is_some(), "{p:?}");
    }
    let shown = Rules::from_json(&doc).unwrap_err().to_string();
    for part in [
        "rules[0]",
        "rules[2]",
        "rules[3]",
        "\"typo\"",
        "\"bad label\"",
    ] {
        assert!(shown.contains(part), "{shown} should contain {part}");
    }
}

#[test]
fn not_json_at_all() {
    let problems = problems_of("this is not JSON");
    assert!(!problems[0].message.is_empty());
}

/// The rules document is an object (SPEC section 7). A bare list, e.g. the `rules` array pasted
/// on its own, must be refused rather than read field by field into `labels` and `rules`.
#[test]
fn a_rules_document_must_be_an_object() {
    let mut accepted = Vec::new();
    for doc in [
        "[]",
        r#"[{"name": "quiet pushes", "severity": "drop"}]"#,
        r#"[{"team": "platform"}, []]"#,
        "5",
        "null",
    ] {
        match Rules::from_json(doc) {
            Err(e) => assert!(!e.to_string().trim().is_empty(), "{doc}"),
            Ok(r) => accepted.push(format!(
                "{doc} was accepted: {} rules, top-level labels {:?}",
                r.len(),
                r.labels()
            )),
        }
    }
    assert!(accepted.is_empty(), "{}", accepted.join("\n"));
}

#[test]
fn an_empty_document_means_the_built_in_rules() {
    let r = rules("{}");
    assert!(r.is_empty());
    for file in [
        "harbor/default_SCANNING_COMPLETED.json",
        "harbor/default_QUOTA_WARNING.json",
    ] {
        assert_eq!(sent(&fixture(file), &r), sent(&fixture(file), &builtin()));
    }
}
