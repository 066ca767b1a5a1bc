//! Local mode: environment variables and an optional rules file, read once at start-up.
//!
//! `FLASHDUTY_PUSH_URL` (absent: a dry run), `HARBOR_AUTH_HEADER`, `URL_TOKEN`, and
//! `RULES_FILE`, the path of a rules file whose contents are the rules.

use super::{Config, ConfigError, ConfigSource, Origin, Param, ParameterLookup, Problem};
use std::collections::BTreeMap;

const PUSH_URL: &str = "FLASHDUTY_PUSH_URL";
const AUTH_HEADER: &str = "HARBOR_AUTH_HEADER";
const URL_TOKEN: &str = "URL_TOKEN";
const RULES_FILE: &str = "RULES_FILE";

/// The environment as it was at start-up: the variables are not read again, so a request sees
/// what the operator saw when the function started.
pub struct LocalSource {
    /// The set variables (the rules file's contents under `RULES_FILE`), or why the rules
    /// file could not be read.
    values: Result<BTreeMap<String, String>, ConfigError>,
    /// `RULES_FILE`, for messages about the file's contents.
    rules_path: Option<String>,
    allow_unauthenticated: bool,
}

impl LocalSource {
    /// Reads the variables through `var` (injected for tests), and the rules file if one is
    /// named.
    pub fn from_env(var: impl Fn(&str) -> Option<String>, allow_unauthenticated: bool) -> Self {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let mut values: BTreeMap<String, String> = [PUSH_URL, AUTH_HEADER, URL_TOKEN]
            .into_iter()
            .filter_map(|name| Some((name.to_owned(), get(name)?)))
            .collect();
        let rules_path = get(RULES_FILE);
        let values = match &rules_path {
            None => Ok(values),
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => {
                    values.insert(RULES_FILE.to_owned(), text);
                    Ok(values)
                }
                Err(e) => Err(ConfigError::Invalid {
                    origin: Origin::File {
                        var: RULES_FILE,
                        path: path.clone(),
                    },
                    problem: Problem::Unreadable(e.to_string()),
                }),
            },
        };
        Self {
            values,
            rules_path,
            allow_unauthenticated,
        }
    }
}

impl ParameterLookup for LocalSource {
    const PUSH_URL_REQUIRED: bool = false;

    fn origin(&self, param: Param) -> Origin {
        match (param, &self.rules_path) {
            (Param::PushUrl, _) => Origin::Env(PUSH_URL),
            (Param::AuthHeader, _) => Origin::Env(AUTH_HEADER),
            (Param::UrlToken, _) => Origin::Env(URL_TOKEN),
            (Param::Rules, None) => Origin::Env(RULES_FILE),
            (Param::Rules, Some(path)) => Origin::File {
                var: RULES_FILE,
                path: path.clone(),
            },
        }
    }

    async fn fetch_all(&self) -> Result<BTreeMap<String, String>, ConfigError> {
        self.values.clone()
    }
}

impl ConfigSource for LocalSource {
    async fn load(&self) -> Result<Config, ConfigError> {
        super::load(self, self.allow_unauthenticated).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::env;

    #[tokio::test]
    async fn local_mode_refuses_to_run_open_unless_told() {
        let err = LocalSource::from_env(env(&[]), false)
            .load()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("HARBOR_AUTH_HEADER"), "{err}");
        let open = LocalSource::from_env(env(&[]), true).load().await.unwrap();
        assert!(open.auth.open && open.push_url.is_none());
        let closed = LocalSource::from_env(env(&[("URL_TOKEN", "t")]), true)
            .load()
            .await
            .unwrap();
        assert!(!closed.auth.open, "a configured secret always applies");
    }

    #[tokio::test]
    async fn the_rules_file_is_named_with_its_path() {
        let missing = "/nonexistent/harbor-flashduty-rules.json";
        let err = LocalSource::from_env(env(&[("RULES_FILE", missing)]), true)
            .load()
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "environment variable RULES_FILE names {missing}, which cannot be read: "
            )),
            "{err}"
        );

        let dir = std::env::temp_dir().join(format!("hf-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rules.json");
        // A blank file is read, and is not valid rules (unlike a blank variable).
        std::fs::write(&path, " ").unwrap();
        let shown = path.display().to_string();
        let err = LocalSource::from_env(env(&[("RULES_FILE", &shown)]), true)
            .load()
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "environment variable RULES_FILE names {shown}, which is invalid: "
            )),
            "{err}"
        );
        std::fs::write(&path, r#"{"rules": []}"#).unwrap();
        assert!(
            LocalSource::from_env(env(&[("RULES_FILE", &shown)]), true)
                .load()
                .await
                .is_ok()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
