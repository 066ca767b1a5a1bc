//! Configuration: the push URL, the auth secrets and the rules, from SSM Parameter Store
//! (`SSM_PREFIX` set) or from the environment (local mode), cached for `CONFIG_TTL_SECONDS`.
//!
//! Secrets are wrapped so that neither `Debug` nor an error message can print them.

use harbor_flashduty_core::rules::Rules;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use url::Url;

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
        let flag = |name: &str| -> Result<bool, ConfigError> {
            match var(name).as_deref().map(str::trim) {
                None | Some("") => Ok(false),
                Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
                Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
                Some(v) => Err(ConfigError::Env {
                    name: name.to_owned(),
                    reason: format!("is {v:?}; expected true or false"),
                }),
            }
        };
        let ttl = match var("CONFIG_TTL_SECONDS").as_deref().map(str::trim) {
            None | Some("") => Duration::from_secs(300),
            Some(v) => Duration::from_secs(v.parse().map_err(|_| ConfigError::Env {
                name: "CONFIG_TTL_SECONDS".to_owned(),
                reason: format!("is {v:?}; expected a whole number of seconds"),
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

/// A secret string: compared, never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The Flashduty push URL. Its query holds the integration key, so `Display` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct PushUrl(Url);

impl PushUrl {
    /// Accepts `https`, or plain `http` to a loopback host (for local testing only).
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = Url::parse(text.trim()).map_err(|e| format!("is not a URL ({e})"))?;
        let loopback = matches!(
            url.host(),
            Some(url::Host::Domain("localhost"))
                | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
                | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
        );
        match url.scheme() {
            "https" => Ok(Self(url)),
            "http" if loopback => Ok(Self(url)),
            "http" => Err(format!(
                "must use https: plain http is accepted only for a loopback host, not {}",
                redact(&url)
            )),
            other => Err(format!("must be an https URL, not {other}:")),
        }
    }

    pub fn url(&self) -> &Url {
        &self.0
    }
}

impl fmt::Display for PushUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl fmt::Debug for PushUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PushUrl({self})")
    }
}

/// A URL fit for logs: scheme, host, port and path; the query and credentials are cut.
pub fn redact(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    if url.query().is_some() {
        shown.push_str("?<redacted>");
    }
    shown
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

/// What can go wrong loading configuration. Every message names the parameter or variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("SSM parameter {name} is missing: put it with `make config` or aws ssm put-parameter")]
    Missing { name: String },
    #[error("SSM parameter {name} is invalid: {reason}")]
    Invalid { name: String, reason: String },
    #[error("cannot read SSM parameters under {prefix}: {reason}")]
    Unreachable { prefix: String, reason: String },
    #[error("environment variable {name} {reason}")]
    Env { name: String, reason: String },
    #[error(
        "no caller authentication is configured: set {header} (the Auth Header given to Harbor) or \
         {token}, or ALLOW_UNAUTHENTICATED=true to accept any caller"
    )]
    NoAuth { header: String, token: String },
}

/// Where configuration comes from.
pub trait ConfigSource: Send + Sync {
    fn load(&self) -> impl Future<Output = Result<Config, ConfigError>> + Send;
}

/// Reads parameters by path. A trait so the source can be tested against any store.
pub trait ParameterStore: Send + Sync {
    /// Every parameter directly under `prefix`, decrypted, keyed by full name.
    fn parameters_by_path(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, String>> + Send;
}

impl ParameterStore for aws_sdk_ssm::Client {
    async fn parameters_by_path(&self, prefix: &str) -> Result<BTreeMap<String, String>, String> {
        let mut pages = self
            .get_parameters_by_path()
            .path(prefix)
            .with_decryption(true)
            .recursive(false)
            .into_paginator()
            .send();
        let mut found = BTreeMap::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_sdk_ssm::error::DisplayErrorContext(e).to_string())?;
            for p in page.parameters.unwrap_or_default() {
                if let (Some(name), Some(value)) = (p.name, p.value) {
                    found.insert(name, value);
                }
            }
        }
        Ok(found)
    }
}

/// SSM mode: one `GetParametersByPath` with decryption under the prefix.
pub struct SsmSource<P> {
    store: P,
    prefix: String,
    allow_unauthenticated: bool,
}

impl<P: ParameterStore> SsmSource<P> {
    pub fn new(store: P, prefix: String, allow_unauthenticated: bool) -> Self {
        Self {
            store,
            prefix,
            allow_unauthenticated,
        }
    }
}

impl<P: ParameterStore> ConfigSource for SsmSource<P> {
    async fn load(&self) -> Result<Config, ConfigError> {
        let found = self
            .store
            .parameters_by_path(&self.prefix)
            .await
            .map_err(|reason| ConfigError::Unreachable {
                prefix: self.prefix.clone(),
                reason,
            })?;
        let name = |key: &str| format!("{}/{key}", self.prefix);
        let get = |key: &str| found.get(&name(key)).filter(|v| !v.trim().is_empty());

        let push_url = match get("push-url") {
            None => {
                return Err(ConfigError::Missing {
                    name: name("push-url"),
                });
            }
            Some(text) => PushUrl::parse(text).map_err(|reason| ConfigError::Invalid {
                name: name("push-url"),
                reason,
            })?,
        };
        let auth = auth(
            get("auth-header").map(|v| Secret::new(v.as_str())),
            get("url-token").map(|v| Secret::new(v.trim())),
            self.allow_unauthenticated,
            || ConfigError::NoAuth {
                header: format!("SSM parameter {}", name("auth-header")),
                token: name("url-token"),
            },
        )?;
        let rules = match get("rules") {
            None => Rules::builtin(),
            Some(text) => Rules::from_json(text).map_err(|e| ConfigError::Invalid {
                name: name("rules"),
                reason: e.to_string(),
            })?,
        };
        Ok(Config {
            push_url: Some(push_url),
            auth,
            rules,
        })
    }
}

fn auth(
    header: Option<Secret>,
    url_token: Option<Secret>,
    allow_unauthenticated: bool,
    missing: impl FnOnce() -> ConfigError,
) -> Result<Auth, ConfigError> {
    if header.is_none() && url_token.is_none() && !allow_unauthenticated {
        return Err(missing());
    }
    Ok(Auth {
        open: header.is_none() && url_token.is_none(),
        header,
        url_token,
    })
}

/// Local mode: environment variables and an optional rules file, read once at start-up.
pub struct LocalSource {
    config: Result<Config, ConfigError>,
}

impl LocalSource {
    pub fn from_env(var: impl Fn(&str) -> Option<String>, allow_unauthenticated: bool) -> Self {
        Self {
            config: Self::read(var, allow_unauthenticated),
        }
    }

    fn read(
        var: impl Fn(&str) -> Option<String>,
        allow_unauthenticated: bool,
    ) -> Result<Config, ConfigError> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let push_url = get("FLASHDUTY_PUSH_URL")
            .map(|text| {
                PushUrl::parse(&text).map_err(|reason| ConfigError::Env {
                    name: "FLASHDUTY_PUSH_URL".to_owned(),
                    reason,
                })
            })
            .transpose()?;
        let auth = auth(
            get("HARBOR_AUTH_HEADER").map(Secret::new),
            get("URL_TOKEN").map(|v| Secret::new(v.trim())),
            allow_unauthenticated,
            || ConfigError::NoAuth {
                header: "HARBOR_AUTH_HEADER".to_owned(),
                token: "URL_TOKEN".to_owned(),
            },
        )?;
        let rules = match get("RULES_FILE") {
            None => Rules::builtin(),
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Env {
                    name: "RULES_FILE".to_owned(),
                    reason: format!("names {path}, which cannot be read: {e}"),
                })?;
                Rules::from_json(&text).map_err(|e| ConfigError::Env {
                    name: "RULES_FILE".to_owned(),
                    reason: format!("names {path}, which is invalid: {e}"),
                })?
            }
        };
        Ok(Config {
            push_url,
            auth,
            rules,
        })
    }
}

impl ConfigSource for LocalSource {
    async fn load(&self) -> Result<Config, ConfigError> {
        self.config.clone()
    }
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

/// Reuses loaded configuration for the TTL. A failed refresh keeps the last good configuration
/// (and is retried after a short pause, so a dead SSM does not slow every request).
pub struct ConfigCache<S> {
    source: S,
    ttl: Duration,
    state: Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    config: Option<Arc<Config>>,
    next_refresh: Option<Instant>,
}

/// After a failed refresh, wait this long (at most the TTL) before asking SSM again.
const RETRY_FAILED_REFRESH: Duration = Duration::from_secs(30);
/// With a last good configuration in hand, a refresh may take this long before the request
/// goes on without it: a slow SSM must not eat the time Flashduty needs.
const REFRESH_WAIT: Duration = Duration::from_millis(700);

impl<S: ConfigSource> ConfigCache<S> {
    pub fn new(source: S, ttl: Duration) -> Self {
        Self {
            source,
            ttl,
            state: Mutex::new(CacheState::default()),
        }
    }

    pub async fn get(&self) -> Result<Arc<Config>, ConfigError> {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        if let (Some(config), Some(next)) = (&state.config, state.next_refresh)
            && now < next
        {
            return Ok(Arc::clone(config));
        }
        let loaded = match &state.config {
            None => self.source.load().await,
            Some(_) => tokio::time::timeout(REFRESH_WAIT, self.source.load())
                .await
                .unwrap_or_else(|_| {
                    Err(ConfigError::Unreachable {
                        prefix: "the configuration source".to_owned(),
                        reason: format!("no answer within {} ms", REFRESH_WAIT.as_millis()),
                    })
                }),
        };
        match loaded {
            Ok(config) => {
                let config = Arc::new(config);
                state.config = Some(Arc::clone(&config));
                state.next_refresh = Some(now + self.ttl);
                Ok(config)
            }
            Err(error) => match state.config.clone() {
                Some(last_good) => {
                    tracing::warn!(
                        error = %error,
                        "configuration refresh failed; keeping the last good configuration"
                    );
                    state.next_refresh = Some(now + self.ttl.min(RETRY_FAILED_REFRESH));
                    Ok(last_good)
                }
                None => Err(error),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn push_url_must_be_https_except_on_loopback() {
        assert!(
            PushUrl::parse(
                "https://api.flashcat.cloud/event/push/alert/standard?integration_key=k"
            )
            .is_ok()
        );
        assert!(PushUrl::parse("http://127.0.0.1:8080/x").is_ok());
        assert!(PushUrl::parse("http://localhost/x").is_ok());
        assert!(PushUrl::parse("http://[::1]:9/x").is_ok());
        let err = PushUrl::parse("http://example.com/x?integration_key=SECRET").unwrap_err();
        assert!(err.contains("https") && !err.contains("SECRET"), "{err}");
        assert!(PushUrl::parse("ftp://example.com").is_err());
    }

    #[test]
    fn push_url_display_hides_the_key() {
        let url = PushUrl::parse(
            "https://api.flashcat.cloud/event/push/alert/standard?integration_key=SECRET",
        )
        .unwrap();
        assert_eq!(
            url.to_string(),
            "https://api.flashcat.cloud/event/push/alert/standard?<redacted>"
        );
        assert!(!format!("{url:?}").contains("SECRET"));
        assert_eq!(format!("{:?}", Secret::new("SECRET")), "Secret(***)");
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
        assert!(err.to_string().contains("CONFIG_TTL_SECONDS"));
    }

    #[test]
    fn local_mode_refuses_to_run_open_unless_told() {
        let err = LocalSource::read(env(&[]), false).unwrap_err();
        assert!(err.to_string().contains("HARBOR_AUTH_HEADER"));
        let open = LocalSource::read(env(&[]), true).unwrap();
        assert!(open.auth.open && open.push_url.is_none());
        let closed = LocalSource::read(env(&[("URL_TOKEN", "t")]), true).unwrap();
        assert!(!closed.auth.open, "a configured secret always applies");
    }

    struct FakeStore {
        params: std::sync::Mutex<Result<BTreeMap<String, String>, String>>,
        calls: AtomicUsize,
    }

    impl ParameterStore for FakeStore {
        async fn parameters_by_path(
            &self,
            _prefix: &str,
        ) -> Result<BTreeMap<String, String>, String> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.params.lock().map_err(|e| e.to_string())?.clone()
        }
    }

    fn store(pairs: &[(&str, &str)]) -> FakeStore {
        FakeStore {
            params: std::sync::Mutex::new(Ok(pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect())),
            calls: AtomicUsize::new(0),
        }
    }

    #[tokio::test]
    async fn ssm_errors_name_the_parameter() {
        let source = SsmSource::new(store(&[("/p/auth-header", "x")]), "/p".into(), false);
        assert_eq!(
            source.load().await.unwrap_err(),
            ConfigError::Missing {
                name: "/p/push-url".into()
            }
        );

        let source = SsmSource::new(
            store(&[
                ("/p/push-url", "https://h/x"),
                ("/p/auth-header", "x"),
                ("/p/rules", "{\"rulez\": []}"),
            ]),
            "/p".into(),
            false,
        );
        let err = source.load().await.unwrap_err().to_string();
        assert!(
            err.starts_with("SSM parameter /p/rules is invalid"),
            "{err}"
        );

        let source = SsmSource::new(store(&[("/p/push-url", "https://h/x")]), "/p".into(), false);
        assert!(
            source
                .load()
                .await
                .unwrap_err()
                .to_string()
                .contains("/p/auth-header")
        );
    }

    /// A store that answers once, then hangs.
    struct HangingStore {
        calls: AtomicUsize,
    }

    impl ParameterStore for HangingStore {
        async fn parameters_by_path(
            &self,
            _prefix: &str,
        ) -> Result<BTreeMap<String, String>, String> {
            if self.calls.fetch_add(1, Ordering::SeqCst) > 0 {
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
            Ok([("/p/push-url", "https://h/x"), ("/p/auth-header", "x")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect())
        }
    }

    #[tokio::test]
    async fn a_hanging_refresh_does_not_hold_the_request() {
        let source = SsmSource::new(
            HangingStore {
                calls: AtomicUsize::new(0),
            },
            "/p".into(),
            false,
        );
        let cache = ConfigCache::new(source, Duration::ZERO);
        assert!(cache.get().await.is_ok());
        let started = Instant::now();
        assert!(
            cache.get().await.is_ok(),
            "last good configuration is served"
        );
        let waited = started.elapsed();
        assert!(
            waited < Duration::from_secs(2),
            "waited {waited:?} for a hanging SSM"
        );
    }

    #[tokio::test]
    async fn cache_reuses_and_survives_a_failed_refresh() {
        let source = SsmSource::new(
            store(&[("/p/push-url", "https://h/x"), ("/p/auth-header", "x")]),
            "/p".into(),
            false,
        );
        let cache = ConfigCache::new(source, Duration::ZERO);
        assert!(cache.get().await.is_ok());
        *cache.source.store.params.lock().unwrap() = Err("connection refused".into());
        assert!(cache.get().await.is_ok(), "last good configuration is kept");
        assert_eq!(cache.source.store.calls.load(Ordering::SeqCst), 2);

        let fresh = ConfigCache::new(
            SsmSource::new(store(&[]), "/p".into(), false),
            Duration::from_secs(60),
        );
        *fresh.source.store.params.lock().unwrap() = Err("down".into());
        assert!(matches!(
            fresh.get().await,
            Err(ConfigError::Unreachable { .. })
        ));
    }
}
