//! Value types for what an event is about: a repository, a tag or digest, and the two together.
//!
//! Harbor is loose here (a digest in `tag`, empty strings for absent values, a repository name
//! with or without its project), so these types take the loose input once, at the edge of the
//! core, and hand out one form everywhere else.

use std::fmt;

/// A repository, `project/name` (or just `name` when the event does not say the project).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repository(String);

impl Repository {
    /// A full name as an event gives it (`payments/api`); `None` when blank.
    pub fn from_full_name(full: &str) -> Option<Self> {
        is_present(full).then(|| Self(full.to_owned()))
    }

    /// `name` inside `project` (`name` alone without a project); `None` when `name` is blank.
    pub fn in_project(project: Option<&str>, name: &str) -> Option<Self> {
        if !is_present(name) {
            return None;
        }
        Some(match project.filter(|p| is_present(p)) {
            Some(project) => Self(format!("{project}/{name}")),
            None => Self(name.to_owned()),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The project part, when the full name has one.
    pub fn project(&self) -> Option<&str> {
        self.0.split_once('/').map(|(project, _)| project)
    }

    /// The name without the project (what Harbor's portal and API call the repository name).
    pub fn name(&self) -> &str {
        self.0.split_once('/').map_or(&self.0, |(_, name)| name)
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which artifact of a repository: its tag, its digest, or both. Never a digest in `tag`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Reference {
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// The one constructor: blank values are absent, and a digest sent as the tag (Harbor does
    /// this for artifacts pushed or pulled by digest) is the digest, unless one was given.
    pub fn new(tag: Option<&str>, digest: Option<&str>) -> Self {
        let (tag, digest) = (
            tag.filter(|v| is_present(v)),
            digest.filter(|v| is_present(v)),
        );
        let (tag, digest) = match tag {
            Some(t) if is_digest(t) => (None, digest.or(Some(t))),
            tag => (tag, digest),
        };
        Self {
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        }
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    pub fn is_empty(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }
}

/// A repository and a reference: `repo:tag`, `repo@digest` or `repo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArtifactRef<'a> {
    pub repository: &'a Repository,
    pub reference: &'a Reference,
    /// Titles show `sha256:` and twelve hex digits; descriptions show the whole digest.
    pub short_digest: bool,
}

impl fmt::Display for ArtifactRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.reference.tag(), self.reference.digest()) {
            (Some(tag), _) => write!(f, "{}:{tag}", self.repository),
            (None, Some(digest)) if self.short_digest => {
                write!(f, "{}@{}", self.repository, short_digest(digest))
            }
            (None, Some(digest)) => write!(f, "{}@{digest}", self.repository),
            (None, None) => write!(f, "{}", self.repository),
        }
    }
}

/// Harbor sends `""` (or blanks) for absent text; such a value means "not given".
pub fn is_present(text: &str) -> bool {
    !text.trim().is_empty()
}

/// `sha256:0123456789ab`: enough of a digest for a human to recognise it.
pub fn short_digest(digest: &str) -> &str {
    // By characters: a hostile "digest" need not be ASCII.
    match digest
        .split_once(':')
        .and_then(|(algo, hex)| Some((algo, hex.char_indices().nth(12)?)))
    {
        Some((algo, (end, _))) => &digest[..algo.len() + 1 + end],
        None => digest,
    }
}

/// True for `algo:hex` references such as `sha256:...`.
pub fn is_digest(reference: &str) -> bool {
    match reference.split_once(':') {
        Some((algo, hex)) => {
            !algo.is_empty()
                && algo.bytes().all(|b| b.is_ascii_alphanumeric())
                && hex.len() >= 32
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => false,
    }
}

/// `https://host:port/path` -> `host:port`.
pub fn host_of_url(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:279de0f302447ee788ec20612facf44e4ec21f48ce7456f300d52667f319bd8c";

    #[test]
    fn digests_are_recognised_and_shortened() {
        assert!(is_digest(D));
        assert!(!is_digest("v2.7.1"));
        assert!(!is_digest("1.0:beta"));
        assert_eq!(short_digest(D), "sha256:279de0f30244");
        assert_eq!(
            short_digest("sha256:文文文文文文文文文文文文文文"),
            "sha256:文文文文文文文文文文文文"
        );
        assert_eq!(short_digest("sha256:abc"), "sha256:abc");
    }

    #[test]
    fn a_digest_in_tag_becomes_the_digest() {
        let r = Reference::new(Some(D), Some(D));
        assert_eq!((r.tag(), r.digest()), (None, Some(D)));
        let r = Reference::new(Some(D), None);
        assert_eq!((r.tag(), r.digest()), (None, Some(D)));
        let r = Reference::new(Some("v1"), None);
        assert_eq!((r.tag(), r.digest()), (Some("v1"), None));
        assert!(Reference::new(Some(" "), Some("")).is_empty());
    }

    #[test]
    fn artifact_refs_print_one_way() {
        let repo = Repository::in_project(Some("payments"), "api").unwrap();
        let tagged = Reference::new(Some("v1"), Some(D));
        let by_digest = Reference::new(None, Some(D));
        let show = |reference, short_digest| {
            ArtifactRef {
                repository: &repo,
                reference,
                short_digest,
            }
            .to_string()
        };
        assert_eq!(show(&tagged, true), "payments/api:v1");
        assert_eq!(show(&by_digest, true), "payments/api@sha256:279de0f30244");
        assert_eq!(show(&by_digest, false), format!("payments/api@{D}"));
        assert_eq!(show(&Reference::default(), false), "payments/api");
    }

    #[test]
    fn repositories_know_their_parts() {
        let repo = Repository::in_project(Some("team"), "group/api").unwrap();
        assert_eq!(repo.as_str(), "team/group/api");
        assert_eq!(repo.project(), Some("team"));
        assert_eq!(repo.name(), "group/api");
        assert_eq!(
            Repository::in_project(Some(""), "api").unwrap().as_str(),
            "api"
        );
        assert_eq!(Repository::in_project(Some("team"), " "), None);
        assert_eq!(Repository::from_full_name(""), None);
    }

    #[test]
    fn hosts_come_out_of_urls() {
        assert_eq!(
            host_of_url("https://harbor.example.com:8443/x"),
            "harbor.example.com:8443"
        );
        assert_eq!(
            host_of_url("harbor.example.com/payments/api:v1"),
            "harbor.example.com"
        );
    }
}
