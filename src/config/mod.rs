//! Configuration: the push URL, the auth secrets and the rules, from SSM Parameter Store
//! (`SSM_PREFIX` set) or from the environment (local mode), cached for `CONFIG_TTL_SECONDS`.
//!
//! Both places are a [`ParameterLookup`]: [`SsmSource`] ([`ssm`]) and [`LocalSource`]
//! ([`local`]) only fetch values; [`build`] is the one function that turns them into a
//! [`Config`], so both modes validate alike and every error names the parameter at fault.
//! [`ConfigCache`] ([`cache`]) keeps the result. Secrets are wrapped ([`secret`]) so that
//! neither `Debug` nor an error message can print them.

pub mod cache;
pub mod error;
pub mod local;
pub mod secret;
pub mod ssm;

pub use cache::ConfigCache;
pub use error::{ConfigError, Origin, Problem};
pub use local::LocalSource;
pub use secret::{PushUrl, PushUrlError, Secret, redact};
pub use ssm::{ParameterStore, SsmSource, ssm_client};

use harbor_flashduty_core::rules::Rules;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

/// Settings read once from the environment at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `SSM_PREFIX` without a trailing slash; `None` is local mode.
    pub ssm_prefix: Option<String>,
    pub ttl: Duration,
    pub allow_unauthenticated: bool,
    pub dry_run: bool,
}

impl Settings {
    /// Reads the settings; `var` looks an environment variable up (injected for tests).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let flag = |name: &'static str| -> Result<bool, ConfigError> {
            match var(name).as_deref().map(str::trim) {
                None | Some("") => Ok(false),
                Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
                Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
                Some(v) => Err(ConfigError::Setting {
                    name,
                    value: v.to_owned(),
                    expected: "true or false",
                }),
            }
        };
        let ttl = match var("CONFIG_TTL_SECONDS").as_deref().map(str::trim) {
            None | Some("") => Duration::from_secs(300),
            Some(v) => Duration::from_secs(v.parse().map_err(|_| ConfigError::Setting {
                name: "CONFIG_TTL_SECONDS",
                value: v.to_owned(),
                expected: "a whole number of seconds",
            })?),
        };
        let ssm_prefix = var("SSM_PREFIX")
            .map(|p| p.trim().trim_end_matches('/').to_owned())
            .filter(|p| !p.is_empty())
            .map(|p| {
                if p.starts_with('/') {
                    p
                } else {
                    format!("/{p}")
                }
            });
        Ok(Self {
            ssm_prefix,
            ttl,
            allow_unauthenticated: flag("ALLOW_UNAUTHENTICATED")?,
            dry_run: flag("DRY_RUN")?,
        })
    }
}

/// Who may call the function.
#[derive(Debug, Clone)]
pub struct Auth {
    /// The exact `Authorization` value Harbor sends.
    pub header: Option<Secret>,
    /// The `?token=` value for senders that cannot set a header (MSR 3).
    pub url_token: Option<Secret>,
    /// Only ever true when neither secret is configured and `ALLOW_UNAUTHENTICATED=true`.
    pub open: bool,
}

/// Everything a request needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// `None` in local mode without a push URL: a dry run.
    pub push_url: Option<PushUrl>,
    pub auth: Auth,
    pub rules: Rules,
}

/// The values configuration is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    PushUrl,
    AuthHeader,
    UrlToken,
    Rules,
}

/// Where configuration comes from.
pub trait ConfigSource: Send + Sync {
    fn load(&self) -> impl Future<Output = Result<Config, ConfigError>> + Send;
}

/// A place parameters are looked up: SSM under a prefix, or the environment.
pub trait ParameterLookup: Send + Sync {
    /// Whether a missing push URL is an error (SSM) or means a dry run (local mode).
    const PUSH_URL_REQUIRED: bool;

    /// Where `param` is looked up, so that messages name it whether or not it was found.
    fn origin(&self, param: Param) -> Origin;

    /// Every parameter that is set, keyed by [`Origin::name`]. A blank value counts as unset.
    fn fetch_all(
        &self,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, ConfigError>> + Send;
}

/// Fetches from `lookup` and builds the configuration.
pub async fn load<L: ParameterLookup>(
    lookup: &L,
    allow_unauthenticated: bool,
) -> Result<Config, ConfigError> {
    let values = lookup.fetch_all().await?;
    build(lookup, &values, allow_unauthenticated)
}

/// The one place looked-up values become a [`Config`]: the push URL must parse (and be present
/// where the lookup requires it), some caller authentication must be configured unless
/// `allow_unauthenticated`, and rules, when given, must be valid (the built-in ones otherwise).
pub fn build<L: ParameterLookup>(
    lookup: &L,
    values: &BTreeMap<String, String>,
    allow_unauthenticated: bool,
) -> Result<Config, ConfigError> {
    let value = |param| {
        let origin = lookup.origin(param);
        let found = values.get(origin.name()).map(String::as_str);
        (origin, found)
    };
    let push_url = match value(Param::PushUrl) {
        (origin, None) if L::PUSH_URL_REQUIRED => return Err(ConfigError::Missing { origin }),
        (_, None) => None,
        (origin, Some(text)) => Some(PushUrl::parse(text).map_err(|e| ConfigError::Invalid {
            origin,
            problem: e.into(),
        })?),
    };
    let header = value(Param::AuthHeader).1.map(Secret::new);
    let url_token = value(Param::UrlToken).1.map(|v| Secret::new(v.trim()));
    let unconfigured = header.is_none() && url_token.is_none();
    if unconfigured && !allow_unauthenticated {
        return Err(ConfigError::NoAuth {
            header: lookup.origin(Param::AuthHeader),
            token: lookup.origin(Param::UrlToken),
        });
    }
    let rules = match value(Param::Rules) {
        (_, None) => Rules::builtin(),
        (origin, Some(text)) => Rules::from_json(text).map_err(|e| ConfigError::Invalid {
            origin,
            problem: e.into(),
        })?,
    };
    Ok(Config {
        push_url,
        auth: Auth {
            header,
            url_token,
            open: unconfigured,
        },
        rules,
    })
}

/// Either source, chosen at start-up.
pub enum Source<P> {
    Ssm(SsmSource<P>),
    Local(LocalSource),
}

impl<P: ParameterStore> ConfigSource for Source<P> {
    async fn load(&self) -> Result<Config, ConfigError> {
        match self {
            Self::Ssm(source) => source.load().await,
            Self::Local(source) => source.load().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn settings_parse_flags_and_ttl() {
        let s = Settings::from_env(env(&[
            ("SSM_PREFIX", "harbor-flashduty/"),
            ("DRY_RUN", "true"),
        ]))
        .unwrap();
        assert_eq!(s.ssm_prefix.as_deref(), Some("/harbor-flashduty"));
        assert!(s.dry_run);
        assert_eq!(s.ttl, Duration::from_secs(300));
        let err = Settings::from_env(env(&[("CONFIG_TTL_SECONDS", "soon")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable CONFIG_TTL_SECONDS is \"soon\"; expected a whole number of seconds"
        );
        let err = Settings::from_env(env(&[("DRY_RUN", "yes")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable DRY_RUN is \"yes\"; expected true or false"
        );
    }

    /// A lookup over fixed values, named like SSM's or like the environment's.
    struct Fixed {
        ssm: bool,
        values: BTreeMap<String, String>,
    }

    impl ParameterLookup for Fixed {
        const PUSH_URL_REQUIRED: bool = false;

        fn origin(&self, param: Param) -> Origin {
            let (ssm, env) = match param {
                Param::PushUrl => ("/p/push-url", "FLASHDUTY_PUSH_URL"),
                Param::AuthHeader => ("/p/auth-header", "HARBOR_AUTH_HEADER"),
                Param::UrlToken => ("/p/url-token", "URL_TOKEN"),
                Param::Rules => ("/p/rules", "RULES"),
            };
            if self.ssm {
                Origin::Ssm(ssm.to_owned())
            } else {
                Origin::Env(env)
            }
        }

        async fn fetch_all(&self) -> Result<BTreeMap<String, String>, ConfigError> {
            Ok(self.values.clone())
        }
    }

    fn fixed(ssm: bool, pairs: &[(&str, &str)]) -> (Fixed, BTreeMap<String, String>) {
        let values: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        (
            Fixed {
                ssm,
                values: values.clone(),
            },
            values,
        )
    }

    #[test]
    fn build_names_the_parameter_in_each_mode() {
        let (lookup, values) = fixed(false, &[("FLASHDUTY_PUSH_URL", "http://example.com/")]);
        assert_eq!(
            build(&lookup, &values, true).unwrap_err().to_string(),
            "environment variable FLASHDUTY_PUSH_URL must use https: plain http is accepted only \
             for a loopback host, not http://example.com/"
        );
        let (lookup, values) = fixed(true, &[("/p/push-url", "ftp://h/")]);
        assert_eq!(
            build(&lookup, &values, true).unwrap_err().to_string(),
            "SSM parameter /p/push-url is invalid: must be an https URL, not ftp:"
        );
        let (lookup, values) = fixed(true, &[]);
        assert_eq!(
            build(&lookup, &values, false).unwrap_err().to_string(),
            "no caller authentication is configured: set SSM parameter /p/auth-header (the Auth \
             Header given to Harbor) or /p/url-token, or ALLOW_UNAUTHENTICATED=true to accept \
             any caller"
        );
        let (lookup, values) = fixed(false, &[]);
        assert!(
            build(&lookup, &values, false)
                .unwrap_err()
                .to_string()
                .contains("set HARBOR_AUTH_HEADER (the Auth Header given to Harbor) or URL_TOKEN,")
        );
    }

    #[test]
    fn build_trims_the_token_but_not_the_header_and_opens_only_when_told() {
        let (lookup, values) = fixed(
            false,
            &[("HARBOR_AUTH_HEADER", " Basic x "), ("URL_TOKEN", " t ")],
        );
        let config = build(&lookup, &values, true).unwrap();
        assert!(!config.auth.open, "a configured secret always applies");
        assert_eq!(config.auth.header.unwrap().expose(), " Basic x ");
        assert_eq!(config.auth.url_token.unwrap().expose(), "t");
        assert!(config.push_url.is_none());

        let (lookup, values) = fixed(false, &[]);
        assert!(build(&lookup, &values, true).unwrap().auth.open);
    }

    #[test]
    fn a_file_origin_says_which_file() {
        let origin = Origin::File {
            var: "RULES_FILE",
            path: "/r.json".into(),
        };
        let err = ConfigError::Invalid {
            origin: origin.clone(),
            problem: Problem::Unreadable("No such file or directory".into()),
        };
        assert_eq!(
            err.to_string(),
            "environment variable RULES_FILE names /r.json, which cannot be read: No such file \
             or directory"
        );
        assert_eq!(origin.name(), "RULES_FILE");
    }
}
