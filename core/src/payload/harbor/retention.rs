//! Tag retention runs: the policy, the project it ran in, and what it deleted.

use super::super::text;
use super::replication::ArtifactInfo;
use crate::event::{Repository, Retention, RetentionResult, Status, Subject};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RetentionData {
    total: Option<u64>,
    retained: Option<u64>,
    #[serde(deserialize_with = "text")]
    harbor_hostname: Option<String>,
    #[serde(deserialize_with = "text")]
    project_name: Option<String>,
    retention_policy_id: Option<i64>,
    retention_rule: Option<Vec<RetentionRule>>,
    #[serde(deserialize_with = "text")]
    result: Option<String>,
    deleted_artifact: Option<Vec<ArtifactInfo>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RetentionRule {
    #[serde(deserialize_with = "text")]
    template: Option<String>,
}

/// The retention family, and its subject: the project it ran in, the repository of the first
/// deleted artifact.
pub(super) fn family(common: Subject, data: RetentionData) -> (Subject, Retention) {
    let deleted: Vec<String> = data
        .deleted_artifact
        .unwrap_or_default()
        .into_iter()
        .filter_map(|a| a.name_tag)
        .collect();
    let project = data.project_name;
    let repository = deleted.first().and_then(|name_tag| {
        Repository::in_project(project.as_deref(), repository_of_name_tag(name_tag))
    });
    let resources = match &project {
        Some(project) => deleted.iter().map(|d| format!("{project}/{d}")).collect(),
        None => common.resources,
    };
    let subject = Subject {
        project,
        repository,
        link: data
            .harbor_hostname
            .as_ref()
            .map(|h| format!("https://{h}")),
        harbor_host: data.harbor_hostname,
        resources,
        ..common
    };
    let retention = Retention {
        policy_id: data.retention_policy_id,
        total: data.total.unwrap_or(0),
        retained: data.retained.unwrap_or(0),
        deleted,
        result: data.result.map(|raw| Status {
            kind: RetentionResult::classify(&raw),
            raw,
        }),
        rule_templates: data
            .retention_rule
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| r.template)
            .collect(),
    };
    (subject, retention)
}

/// `api:v2.3.0` or `api@sha256:...` -> `api`.
fn repository_of_name_tag(name_tag: &str) -> &str {
    if let Some((name, _)) = name_tag.split_once('@') {
        return name;
    }
    name_tag.rsplit_once(':').map_or(name_tag, |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_tags_give_their_repository() {
        assert_eq!(repository_of_name_tag("api:v2.3.0"), "api");
        assert_eq!(repository_of_name_tag("a/b@sha256:00"), "a/b");
        assert_eq!(repository_of_name_tag("api"), "api");
    }
}
