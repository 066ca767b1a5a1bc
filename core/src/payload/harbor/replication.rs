//! Replication events: which side of the replication this Harbor is, and what moved.

use super::super::text;
use crate::event::{
    Replication, ReplicationEnd, ReplicationStatus, Repository, Status, Subject, host_of_url,
    is_present,
};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ReplicationData {
    #[serde(deserialize_with = "text")]
    harbor_hostname: Option<String>,
    #[serde(deserialize_with = "text")]
    job_status: Option<String>,
    #[serde(deserialize_with = "text")]
    description: Option<String>,
    #[serde(deserialize_with = "text")]
    trigger_type: Option<String>,
    src_resource: Option<ReplicationResource>,
    dest_resource: Option<ReplicationResource>,
    successful_artifact: Option<Vec<ArtifactInfo>>,
    failed_artifact: Option<Vec<ArtifactInfo>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReplicationResource {
    #[serde(deserialize_with = "text")]
    registry_name: Option<String>,
    #[serde(deserialize_with = "text")]
    registry_type: Option<String>,
    #[serde(deserialize_with = "text")]
    endpoint: Option<String>,
    #[serde(deserialize_with = "text")]
    namespace: Option<String>,
}

impl From<ReplicationResource> for ReplicationEnd {
    fn from(r: ReplicationResource) -> Self {
        Self {
            registry_name: r.registry_name,
            registry_type: r.registry_type,
            endpoint: r.endpoint,
            namespace: r.namespace,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ArtifactInfo {
    #[serde(deserialize_with = "text")]
    pub name_tag: Option<String>,
    references: Option<Vec<Option<String>>>,
}

/// The replication family, and its subject: the project is the namespace on this Harbor's side
/// (the source in push mode, the destination in pull mode).
pub(super) fn family(common: Subject, data: ReplicationData) -> (Subject, Replication) {
    let hostname = data.harbor_hostname;
    let src = ReplicationEnd::from(data.src_resource.unwrap_or_default());
    let dest = ReplicationEnd::from(data.dest_resource.unwrap_or_default());
    let push_mode = is_push_mode(hostname.as_deref(), &src, &dest);
    let artifact = data
        .successful_artifact
        .into_iter()
        .chain(data.failed_artifact)
        .flatten()
        .next();
    let (resource, item_count) = artifact
        .as_ref()
        .and_then(|a| a.name_tag.as_deref())
        .map_or((None, None), parse_name_tag);
    let references = artifact
        .and_then(|a| a.references)
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .filter(|r| is_present(r))
        .collect();

    let local = if push_mode { &src } else { &dest };
    let project = local.namespace.clone();
    let subject = Subject {
        repository: resource
            .as_deref()
            .and_then(|name| Repository::in_project(project.as_deref(), name)),
        project,
        link: hostname.as_ref().map(|h| format!("https://{h}")),
        harbor_host: hostname,
        ..common
    };
    let raw = data.job_status.unwrap_or_else(|| "Unknown".to_owned());
    let replication = Replication {
        status: Status {
            kind: ReplicationStatus::classify(&raw),
            raw,
        },
        src,
        dest,
        trigger_type: data.trigger_type,
        policy_description: data.description,
        resource,
        item_count,
        references,
        push_mode,
    };
    (subject, replication)
}

/// Which side is this Harbor? The one whose endpoint is `harbor_hostname`; failing that, the
/// side without a registry name (Harbor names only remote registries).
fn is_push_mode(hostname: Option<&str>, src: &ReplicationEnd, dest: &ReplicationEnd) -> bool {
    let is_local = |end: &ReplicationEnd| match (hostname, end.endpoint.as_deref()) {
        (Some(host), Some(endpoint)) => {
            let endpoint_host = host_of_url(endpoint);
            let endpoint_host = endpoint_host.split(':').next().unwrap_or(endpoint_host);
            endpoint_host.eq_ignore_ascii_case(host)
        }
        _ => false,
    };
    match (is_local(src), is_local(dest)) {
        (true, false) => true,
        (false, true) => false,
        _ => src.registry_name.is_none() || dest.registry_name.is_some(),
    }
}

/// `"api [2 item(s) in total]"` -> (`api`, 2).
fn parse_name_tag(name_tag: &str) -> (Option<String>, Option<u64>) {
    let (name, count) = match name_tag.split_once(" [") {
        Some((name, rest)) => (
            name,
            rest.split_whitespace().next().and_then(|n| n.parse().ok()),
        ),
        None => (name_tag, None),
    };
    let name = name.trim();
    (is_present(name).then(|| name.to_owned()), count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_tags_lose_their_item_count() {
        assert_eq!(
            parse_name_tag("api [2 item(s) in total]"),
            (Some("api".into()), Some(2))
        );
        assert_eq!(parse_name_tag("team/api"), (Some("team/api".into()), None));
    }
}
