//! The expected outcome of every payload fixture under the built-in rules, written from SPEC
//! sections 5 to 7 and the fixture's content (not from running the code).
//!
//! One source of truth for three suites: the core suite runs each row through `convert`, the
//! handler suite checks the dry-run report, and `tests/e2e` invokes the function with each row's Function URL event from `events/` (made
//! by `scripts/make_events.py`) and checks the status, `event_status` or built-in drop, and
//! labels the function answers with.

use harbor_flashduty_core::severity::Severity;

// Digests used by the fixtures.
pub const D279: &str = "sha256:279de0f302447ee788ec20612facf44e4ec21f48ce7456f300d52667f319bd8c";
pub const D0B52: &str = "sha256:0b52bcdbaf2d240f5e82ae21587367a2c8469cbb44f5bb95ec7d58bbdcb826f6";
pub const D0EC9: &str = "sha256:0ec9aeb10a28b56bcca312d7b72ad12f1aa7da5c6c45853e3a468e9512dceeea";
pub const D653: &str = "sha256:653ee1b337c109e9c93798fa49fceccbc972fab39d8d5131d0359d21c75226aa";
pub const D12F3: &str = "sha256:12f3349d4ef9dedea940e7c76812cc94cdd3ac0ab8c13d8e49d12f7ae2c6cd38";
pub const D1949: &str = "sha256:1949b8e55a69526d9177330e8b180ef4fc9fb10d470993807549624b0db1e6de";
pub const D6C5: &str = "sha256:6c5df4d672ece1eef29e244af095d86131826ed60672a12507ed6ac2c1411fa4";
pub const D2110: &str = "sha256:2110614feaf7bcb2c03680ad61f6d101fe3db3aad06f4198312c1e910be218d1";
pub const D5426: &str = "sha256:5426783e6546782c1e999fed278eb15e1d6c46deeb958b76a75e1978f4ad7bb7";
pub const D7A13: &str = "sha256:7a13f506a632a741f5cac30aa738a8a9dd51543b3b68e7a50a3f2262d174fc20";
pub const D5CA2: &str = "sha256:5ca27164772801052e19d29b088610291b49b0e3025af0b2fd2101cd306195e8";
pub const D8D5B: &str = "sha256:8d5b15222ce676d011f8cb51a15523469ebaf57314375049adb2802e077f3134";
pub const D1991: &str = "sha256:199126e9bb1b3d5f12042f90be015b8d0f79c26b635bbf3d2d41ef6c52ef57b9";
pub const D80D4: &str = "sha256:80d47731e5a4a682e553a3a233866be4e8ff45274371b4d76cb924abd26cfae1";
pub const D0A9E: &str = "sha256:0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e";
pub const D3F1C: &str = "sha256:3f1c9a7e0b6d4a2f8e5c1b7d9a0e2f4c6b8d0a1e3f5c7b9d1a3e5f7c9b1d3a5e";

// `custom_attributes.Details` of the quota fixtures.
pub const Q_EXCEED: &str = "adding 812.4 MiB of storage resource, which when updated to current usage of 9.6 GiB will exceed the configured upper limit of 10.0 GiB.";
pub const Q_BLOB: &str = "adding 256.3 MiB of storage resource, which when updated to current usage of 9.9 GiB will exceed the configured upper limit of 10.0 GiB.";
pub const Q_COPY: &str = "adding 1.2 GiB of storage resource, which when updated to current usage of 9.4 GiB will exceed the configured upper limit of 10.0 GiB.";
pub const Q_WARN: &str = "quota usage reach 85%: resource storage used 8.9 GiB of 10.0 GiB";
pub const Q_LEGACY_EXCEED: &str = "adding 1 of count resource, which when updated to current usage of 100 will exceed the configured upper limit of 100.";
pub const Q_LEGACY_WARN: &str = "quota usage reach 85%: resource count used 86 of 100";

pub const HARBOR: &str = "https://harbor.example.com";
pub const MSR: &str = "https://msr.example.com";

/// The portal page SPEC section 6 asks for when a CloudEvent's `source` names project 5.
pub fn portal(digest: &str) -> String {
    format!(
        "https://harbor.example.com/harbor/projects/5/repositories/api/artifacts-tab/artifacts/{digest}"
    )
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Sent(Severity),
    /// Dropped by the built-in rules (`rule` = `default`).
    Dropped,
}
pub use Outcome::{Dropped, Sent};

/// What a label must be.
#[derive(Debug, Clone)]
pub enum L {
    Is(String),
    Contains(String),
    Present,
    Absent,
}

#[derive(Debug, Clone)]
pub enum Link {
    /// The event carries no host: no link is required.
    None,
    /// The description must contain this `https://` prefix.
    Starts(String),
}

/// One row: a fixture file (relative to `tests/fixtures`) and what the SPEC says it gives.
#[derive(Debug, Clone)]
pub struct Fx {
    pub file: &'static str,
    /// The `ce-*` headers file of a binary-mode CloudEvent whose body is `file`.
    pub headers: Option<&'static str>,
    /// The canonical event type.
    pub event_type: &'static str,
    pub outcome: Outcome,
    pub labels: Vec<(&'static str, L)>,
    pub link: Link,
    /// Parts the description must contain.
    pub desc: Vec<String>,
}

impl Fx {
    fn is(mut self, pairs: &[(&'static str, &str)]) -> Self {
        self.labels
            .extend(pairs.iter().map(|(k, v)| (*k, L::Is((*v).to_owned()))));
        self
    }
    fn absent(mut self, keys: &[&'static str]) -> Self {
        self.labels.extend(keys.iter().map(|k| (*k, L::Absent)));
        self
    }
    fn present(mut self, keys: &[&'static str]) -> Self {
        self.labels.extend(keys.iter().map(|k| (*k, L::Present)));
        self
    }
    fn contains(mut self, key: &'static str, part: &str) -> Self {
        self.labels.push((key, L::Contains(part.to_owned())));
        self
    }
    /// project, repository, tag (absent when `None`), digest (absent when `None`).
    fn art(self, project: &str, repository: &str, tag: Option<&str>, digest: Option<&str>) -> Self {
        let mut fx = self.is(&[("project", project), ("repository", repository)]);
        fx = match tag {
            Some(t) => fx.is(&[("tag", t)]),
            None => fx.absent(&["tag"]),
        };
        match digest {
            Some(d) => fx.is(&[("digest", d)]),
            None => fx.absent(&["digest"]),
        }
    }
    /// The nine vulnerability labels of SPEC section 6; `None` means "present, any value".
    fn scan(self, severity: &str, counts: [Option<&str>; 7]) -> Self {
        let mut fx = self.is(&[("scan_severity", severity)]);
        let keys = [
            "vuln_critical",
            "vuln_high",
            "vuln_medium",
            "vuln_low",
            "vuln_unknown",
            "vuln_total",
            "vuln_fixable",
        ];
        for (key, value) in keys.into_iter().zip(counts) {
            fx = match value {
                Some(v) => fx.is(&[(key, v)]),
                None => fx.present(&[key]),
            };
        }
        fx
    }
    fn no_scan_labels(self) -> Self {
        self.absent(&["scan_severity", "vuln_critical", "vuln_total"])
    }
    fn link(mut self, link: impl Into<String>) -> Self {
        self.link = Link::Starts(link.into());
        self
    }
    fn desc(mut self, part: &str) -> Self {
        self.desc.push(part.to_owned());
        self
    }
    fn headers(mut self, file: &'static str) -> Self {
        self.headers = Some(file);
        self
    }
}

fn fx(file: &'static str, event_type: &'static str, outcome: Outcome) -> Fx {
    let source = if file.starts_with("msr3/") {
        "msr3"
    } else {
        "harbor"
    };
    Fx {
        file,
        headers: None,
        event_type,
        outcome,
        labels: vec![("source", L::Is(source.to_owned()))],
        link: Link::None,
        desc: Vec::new(),
    }
}

fn s(v: &str) -> Option<&str> {
    Some(v)
}

/// The table: one row per fixture file (the binary CloudEvents pair is one row of two files).
pub fn table() -> Vec<Fx> {
    use Severity::*;
    let ops_ci = "robot$payments+ci";
    vec![
        // ---------------------------------------------------------------- CloudEvents
        fx(
            "harbor/cloudevents_binary_harbor.artifact.pushed.body.json",
            "PUSH_ARTIFACT",
            Sent(Info),
        )
        .headers("harbor/cloudevents_binary_harbor.artifact.pushed.headers.json")
        .art("payments", "payments/api", s("v2.7.1"), s(D279))
        .is(&[("operator", ops_ci), ("harbor_host", "harbor.example.com")])
        .link(portal(D279)),
        fx(
            "harbor/cloudevents_harbor.artifact.deleted.json",
            "DELETE_ARTIFACT",
            Sent(Info),
        )
        .art("payments", "payments/api", s("v2.6.0"), s(D0B52))
        .is(&[("operator", "alice"), ("harbor_host", "harbor.example.com")])
        .link(portal(D0B52)),
        fx(
            "harbor/cloudevents_harbor.artifact.pulled.json",
            "PULL_ARTIFACT",
            Dropped,
        ),
        fx(
            "harbor/cloudevents_harbor.artifact.pushed.json",
            "PUSH_ARTIFACT",
            Sent(Info),
        )
        .art("payments", "payments/api", s("v2.7.1"), s(D279))
        .is(&[("operator", ops_ci), ("harbor_host", "harbor.example.com")])
        .link(portal(D279)),
        fx(
            "harbor/cloudevents_harbor.quota.exceeded.json",
            "QUOTA_EXCEED",
            Sent(Critical),
        )
        .art("payments", "payments/api", s("v3.0.0-rc1"), s(D653))
        .is(&[("quota_details", Q_EXCEED), ("operator", ops_ci)]),
        fx(
            "harbor/cloudevents_harbor.quota.warned.json",
            "QUOTA_WARNING",
            Sent(Warning),
        )
        .art("payments", "payments/api", s("v2.7.2"), s(D1949))
        .is(&[("quota_details", Q_WARN), ("operator", ops_ci)]),
        fx(
            "harbor/cloudevents_harbor.replication.status.changed.json",
            "REPLICATION",
            Sent(Ok),
        )
        .is(&[
            ("replication_status", "Success"),
            ("src_namespace", "payments"),
            ("dest_registry", "dr-harbor"),
            ("dest_namespace", "payments"),
            ("trigger_type", "MANUAL"),
            ("project", "payments"),
            ("repository", "payments/api"),
            ("operator", "alice"),
            ("harbor_host", "harbor.example.com"),
        ])
        .contains("src_registry", "harbor.example.com")
        .absent(&["tag"])
        .link(HARBOR),
        fx(
            "harbor/cloudevents_harbor.scan.completed.json",
            "SCANNING_COMPLETED",
            Sent(Critical),
        )
        .art("payments", "payments/api", s("v2.7.1"), s(D279))
        .scan(
            "Critical",
            [s("2"), s("9"), s("19"), s("21"), s("6"), s("57"), s("41")],
        )
        .contains("scanner", "Trivy")
        .is(&[("operator", "alice"), ("harbor_host", "harbor.example.com")])
        .link(portal(D279)),
        fx(
            "harbor/cloudevents_harbor.scan.completed_sbom.json",
            "SCANNING_COMPLETED",
            Dropped,
        ),
        fx(
            "harbor/cloudevents_harbor.scan.failed.json",
            "SCANNING_FAILED",
            Sent(Warning),
        )
        .art("payments", "payments/api", s("v2.6.0"), s(D0B52))
        .no_scan_labels()
        .is(&[("operator", "alice")])
        .link(portal(D0B52)),
        fx(
            "harbor/cloudevents_harbor.scan.stopped.json",
            "SCANNING_STOPPED",
            Sent(Info),
        )
        .art("payments", "payments/api", None, s(D0EC9))
        .no_scan_labels()
        .is(&[("operator", "alice")])
        .link(portal(D0EC9)),
        fx(
            "harbor/cloudevents_harbor.tag_retention.finished.json",
            "TAG_RETENTION",
            Sent(Info),
        )
        .is(&[
            ("retention_policy_id", "4"),
            ("retention_total", "14"),
            ("retention_retained", "11"),
            ("retention_deleted", "3"),
            ("project", "payments"),
            ("repository", "payments/api"),
            ("harbor_host", "harbor.example.com"),
            ("operator", "alice"),
        ])
        .link(HARBOR),
        fx(
            "harbor/cloudevents_harbor.unknown_type.json",
            "harbor.project.created",
            Sent(Info),
        )
        .is(&[("operator", "alice")]),
        // ---------------------------------------------------------------- Default
        fx(
            "harbor/default_DELETE_ARTIFACT.json",
            "DELETE_ARTIFACT",
            Sent(Info),
        )
        .art("payments", "payments/api", s("v2.6.0"), s(D0B52))
        .is(&[("operator", "alice"), ("harbor_host", "harbor.example.com")])
        .link(HARBOR),
        fx(
            "harbor/default_DELETE_CHART.json",
            "DELETE_CHART",
            Sent(Info),
        )
        .art("payments", "payments/api", s("1.4.2"), None)
        .is(&[("operator", "alice"), ("harbor_host", "harbor.example.com")])
        .link(HARBOR)
        .desc("1.4.1"),
        fx(
            "harbor/default_DOWNLOAD_CHART.json",
            "DOWNLOAD_CHART",
            Dropped,
        ),
        fx(
            "harbor/default_PULL_ARTIFACT.json",
            "PULL_ARTIFACT",
            Dropped,
        ),
        fx(
            "harbor/default_PULL_ARTIFACT_anonymous_by_digest.json",
            "PULL_ARTIFACT",
            Dropped,
        ),
        fx(
            "harbor/default_PUSH_ARTIFACT.json",
            "PUSH_ARTIFACT",
            Sent(Info),
        )
        .art("payments", "payments/api", s("v2.7.1"), s(D279))
        .is(&[("operator", ops_ci), ("harbor_host", "harbor.example.com")])
        .link(HARBOR),
        fx(
            "harbor/default_PUSH_ARTIFACT_by_digest.json",
            "PUSH_ARTIFACT",
            Sent(Info),
        )
        .art("payments", "payments/api", None, s(D0EC9))
        .is(&[("operator", ops_ci), ("harbor_host", "harbor.example.com")])
        .link(HARBOR),
        fx(
            "harbor/default_QUOTA_EXCEED.json",
            "QUOTA_EXCEED",
            Sent(Critical),
        )
        .art("payments", "payments/api", s("v3.0.0-rc1"), s(D653))
        .is(&[("quota_details", Q_EXCEED), ("operator", ops_ci)]),
        fx(
            "harbor/default_QUOTA_EXCEED_blob.json",
            "QUOTA_EXCEED",
            Sent(Critical),
        )
        .art("payments", "payments/api", None, None)
        .is(&[("quota_details", Q_BLOB), ("operator", ops_ci)]),
        fx(
            "harbor/default_QUOTA_EXCEED_copy_by_digest.json",
            "QUOTA_EXCEED",
            Sent(Critical),
        )
        .art("payments", "payments/api", None, s(D12F3))
        .is(&[("quota_details", Q_COPY)])
        .absent(&["operator"]),
        fx(
            "harbor/default_QUOTA_WARNING.json",
            "QUOTA_WARNING",
            Sent(Warning),
        )
        .art("payments", "payments/api", s("v2.7.2"), s(D1949))
        .is(&[("quota_details", Q_WARN), ("operator", ops_ci)]),
        fx("harbor/default_REPLICATION.json", "REPLICATION", Sent(Ok))
            .is(&[
                ("replication_status", "Success"),
                ("src_namespace", "payments"),
                ("dest_registry", "dr-harbor"),
                ("dest_namespace", "payments"),
                ("trigger_type", "MANUAL"),
                ("project", "payments"),
                ("repository", "payments/api"),
                ("operator", "alice"),
                ("harbor_host", "harbor.example.com"),
            ])
            .contains("src_registry", "harbor.example.com")
            .absent(&["tag"])
            .link(HARBOR),
        fx(
            "harbor/default_REPLICATION_failed_pull_mode.json",
            "REPLICATION",
            Sent(Critical),
        )
        .is(&[
            ("replication_status", "Error"),
            ("src_registry", "dockerhub"),
            ("src_namespace", "bitnami"),
            ("dest_namespace", "mirror"),
            ("trigger_type", "SCHEDULE"),
            // pull mode: the Harbor side is the destination
            ("project", "mirror"),
            ("repository", "mirror/redis"),
            ("operator", "harbor-jobservice"),
            ("harbor_host", "harbor.example.com"),
        ])
        .contains("dest_registry", "harbor.example.com")
        .link(HARBOR),
        fx(
            "harbor/default_REPLICATION_running.json",
            "REPLICATION",
            Dropped,
        ),
        fx(
            "harbor/default_SCANNING_COMPLETED.json",
            "SCANNING_COMPLETED",
            Sent(Critical),
        )
        .art("payments", "payments/api", s("v2.7.1"), s(D279))
        .scan(
            "Critical",
            [s("2"), s("9"), s("19"), s("21"), s("6"), s("57"), s("41")],
        )
        .contains("scanner", "Trivy")
        .is(&[("operator", "alice"), ("harbor_host", "harbor.example.com")])
        .link(HARBOR),
        fx(
            "harbor/default_SCANNING_COMPLETED_multi_report.json",
            "SCANNING_COMPLETED",
            Sent(Critical),
        )
        .art("payments", "payments/api", s("v2.8.0"), s(D6C5))
        // the version=1.1 report counts, not the version=1.0 one
        .scan(
            "Critical",
            [s("1"), s("5"), s("12"), s("21"), s("2"), s("41"), s("27")],
        )
        .contains("scanner", "Trivy")
        .link(HARBOR),
        fx(
            "harbor/default_SCANNING_COMPLETED_no_vulns.json",
            "SCANNING_COMPLETED",
            Sent(Ok),
        )
        .art("payments", "payments/worker", s("1.0.3"), s(D2110))
        .scan(
            "None",
            [s("0"), s("0"), s("0"), s("0"), s("0"), s("0"), s("0")],
        )
        .contains("scanner", "Trivy")
        .link(HARBOR),
        fx(
            "harbor/default_SCANNING_COMPLETED_sbom.json",
            "SCANNING_COMPLETED",
            Dropped,
        ),
        fx(
            "harbor/default_SCANNING_COMPLETED_scan_all.json",
            "SCANNING_COMPLETED",
            Dropped,
        ),
        fx(
            "harbor/default_SCANNING_COMPLETED_untagged.json",
            "SCANNING_COMPLETED",
            Sent(Warning),
        )
        .art("payments", "payments/api", None, s(D5426))
        .scan(
            "High",
            [s("0"), s("3"), s("6"), s("9"), s("0"), s("18"), s("11")],
        )
        .contains("scanner", "Trivy")
        .link(HARBOR),
        fx(
            "harbor/default_SCANNING_FAILED.json",
            "SCANNING_FAILED",
            Sent(Warning),
        )
        .art("payments", "payments/api", s("v2.6.0"), s(D0B52))
        .no_scan_labels()
        .is(&[("operator", "alice")])
        .link(HARBOR),
        fx(
            "harbor/default_SCANNING_STOPPED.json",
            "SCANNING_STOPPED",
            Sent(Info),
        )
        .art("payments", "payments/api", None, s(D0EC9))
        .no_scan_labels()
        .link(HARBOR),
        fx(
            "harbor/default_TAG_RETENTION.json",
            "TAG_RETENTION",
            Sent(Info),
        )
        .is(&[
            ("retention_policy_id", "4"),
            ("retention_total", "14"),
            ("retention_retained", "11"),
            ("retention_deleted", "3"),
            ("project", "payments"),
            ("repository", "payments/api"),
            ("harbor_host", "harbor.example.com"),
            ("operator", "alice"),
        ])
        .link(HARBOR),
        fx(
            "harbor/default_UNKNOWN_TYPE.json",
            "ARTIFACT_LABELED",
            Sent(Info),
        )
        .art("payments", "payments/api", s("v2.7.1"), s(D279))
        .is(&[("operator", "alice")])
        .link(HARBOR),
        fx(
            "harbor/default_UPLOAD_CHART.json",
            "UPLOAD_CHART",
            Sent(Info),
        )
        .art("payments", "payments/api", s("1.4.2"), None)
        .is(&[("operator", ops_ci), ("harbor_host", "harbor.example.com")])
        .link(HARBOR),
        // ---------------------------------------------------------------- Harbor 1.9 / 1.10
        fx(
            "harbor/legacy_1.9_scanningCompleted_clair.json",
            "SCANNING_COMPLETED",
            Sent(Warning),
        )
        .art("payments", "payments/api", s("v1.3.2"), s(D7A13))
        // Clair: 5 High x3, 4 Medium x5, 3 Low x12, 2 Unknown x2, 1 Negligible x96; total 118
        .scan(
            "High",
            [s("0"), s("3"), s("5"), s("12"), s("2"), s("118"), None],
        )
        .is(&[("operator", "auto")])
        .link(HARBOR),
        fx("harbor/legacy_deleteChart.json", "DELETE_CHART", Sent(Info))
            .art("payments", "payments/api", s("0.2.0"), None)
            .is(&[("operator", "admin")])
            .link(HARBOR),
        fx(
            "harbor/legacy_deleteImage_multi.json",
            "DELETE_ARTIFACT",
            Sent(Info),
        )
        .art("payments", "payments/api", s("v1.2.0"), None)
        .is(&[("operator", "admin")])
        .link(HARBOR)
        .desc("v1.1.0"),
        fx(
            "harbor/legacy_docs_envelope_pushImage.json",
            "PUSH_ARTIFACT",
            Sent(Info),
        )
        .is(&[
            ("project", "payments"),
            ("repository", "payments/api"),
            ("tag", "v1.4.0"),
        ]),
        fx(
            "harbor/legacy_projectQuota_exceed.json",
            "QUOTA_EXCEED",
            Sent(Critical),
        )
        .art("payments", "payments/api", s("v1.5.0"), s(D5CA2))
        .is(&[("quota_details", Q_LEGACY_EXCEED)])
        .absent(&["operator"]),
        fx(
            "harbor/legacy_projectQuota_warning.json",
            "QUOTA_WARNING",
            Sent(Warning),
        )
        .art("payments", "payments/api", s("v1.4.2"), s(D8D5B))
        .is(&[("quota_details", Q_LEGACY_WARN)])
        .absent(&["operator"]),
        fx("harbor/legacy_pullImage.json", "PULL_ARTIFACT", Dropped),
        fx("harbor/legacy_pushImage.json", "PUSH_ARTIFACT", Sent(Info))
            .art("team-a", "team-a/debian", s("latest"), s(D1991))
            .is(&[("operator", "admin"), ("harbor_host", "harbor.example.com")])
            .link(HARBOR),
        fx(
            "harbor/legacy_scanningCompleted.json",
            "SCANNING_COMPLETED",
            Sent(Warning),
        )
        .art("team-a", "team-a/debian", s("latest"), s(D1991))
        .scan(
            "High",
            [s("0"), s("3"), s("11"), s("20"), s("4"), s("38"), s("12")],
        )
        .contains("scanner", "Trivy")
        .is(&[("operator", "auto")])
        .link(HARBOR),
        fx(
            "harbor/legacy_scanningFailed.json",
            "SCANNING_FAILED",
            Sent(Warning),
        )
        .art("payments", "payments/api", s("v1.4.1"), s(D80D4))
        .no_scan_labels()
        .is(&[("operator", "auto")])
        .link(HARBOR),
        fx("harbor/legacy_uploadChart.json", "UPLOAD_CHART", Sent(Info))
            .art("payments", "payments/api", s("0.3.0"), None)
            .is(&[("operator", "admin")])
            .link(HARBOR),
        // ---------------------------------------------------------------- MSR 3
        fx("msr3/msr3_REPO_DELETED.json", "REPO_DELETED", Sent(Info)).is(&[
            ("project", "payments"),
            ("repository", "payments/legacy-worker"),
            ("operator", "admin"),
        ]),
        fx(
            "msr3/msr3_SCANNER_UPDATE_COMPLETED_failed.json",
            "SCANNER_UPDATE_COMPLETED",
            Sent(Warning),
        )
        .absent(&["repository", "tag"]),
        fx(
            "msr3/msr3_SCAN_COMPLETED_clean_fixture_keys.json",
            "SCANNING_COMPLETED",
            Sent(Ok),
        )
        .art("payments", "payments/api", s("1.42.1"), None)
        // minor is Low on Harbor's scale
        .scan("Low", [s("0"), s("0"), s("0"), s("2"), s("0"), None, None])
        .link(MSR),
        fx(
            "msr3/msr3_SCAN_COMPLETED_critical.json",
            "SCANNING_COMPLETED",
            Sent(Critical),
        )
        .art("payments", "payments/api", s("1.42.0"), None)
        // critical is Critical, major is High, minor is Low
        .scan(
            "Critical",
            [s("3"), s("11"), s("0"), s("4"), s("0"), None, None],
        )
        .link(MSR),
        fx(
            "msr3/msr3_SCAN_FAILED.json",
            "SCANNING_FAILED",
            Sent(Warning),
        )
        .is(&[
            ("project", "payments"),
            ("repository", "payments/api"),
            ("tag", "1.42.0"),
        ])
        .no_scan_labels()
        .link(MSR),
        fx("msr3/msr3_TAG_DELETE.json", "DELETE_ARTIFACT", Sent(Info))
            .art("payments", "payments/api", s("1.40.0"), s(D0A9E))
            .is(&[("operator", "jdoe")])
            .link(MSR),
        fx("msr3/msr3_TAG_PUSH.json", "PUSH_ARTIFACT", Sent(Info))
            .art("payments", "payments/api", s("1.42.0"), s(D3F1C))
            .is(&[("operator", "ci-bot")])
            .link(MSR),
    ]
}
