//! SSM mode: one `GetParametersByPath` with decryption under `SSM_PREFIX`, over the SDK client
//! built here on the instance's one HTTPS client ([`crate::transport::aws`] adapts it).

use super::{Config, ConfigError, ConfigSource, Origin, Param, ParameterLookup};
use crate::transport;
use aws_sdk_ssm::config::{BehaviorVersion, Region};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

/// Reads parameters by path. A trait so the source can be tested against any store.
pub trait ParameterStore: Send + Sync {
    /// Every parameter directly under `prefix`, decrypted, keyed by full name; a failure is
    /// [`ConfigError::Unreachable`].
    fn parameters_by_path(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, ConfigError>> + Send;
}

impl ParameterStore for aws_sdk_ssm::Client {
    async fn parameters_by_path(
        &self,
        prefix: &str,
    ) -> Result<BTreeMap<String, String>, ConfigError> {
        let mut pages = self
            .get_parameters_by_path()
            .path(prefix)
            .with_decryption(true)
            .recursive(false)
            .into_paginator()
            .send();
        let mut found = BTreeMap::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| ConfigError::Unreachable {
                prefix: prefix.to_owned(),
                reason: aws_sdk_ssm::error::DisplayErrorContext(e).to_string(),
            })?;
            for p in page.parameters.unwrap_or_default() {
                if let (Some(name), Some(value)) = (p.name, p.value) {
                    found.insert(name, value);
                }
            }
        }
        Ok(found)
    }
}

/// The parameters under a prefix: `push-url` (required), `auth-header`, `url-token`, `rules`.
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

impl<P: ParameterStore> ParameterLookup for SsmSource<P> {
    const PUSH_URL_REQUIRED: bool = true;

    fn origin(&self, param: Param) -> Origin {
        let key = match param {
            Param::PushUrl => "push-url",
            Param::AuthHeader => "auth-header",
            Param::UrlToken => "url-token",
            Param::Rules => "rules",
        };
        Origin::Ssm(format!("{}/{key}", self.prefix))
    }

    async fn fetch_all(&self) -> Result<BTreeMap<String, String>, ConfigError> {
        let mut found = self.store.parameters_by_path(&self.prefix).await?;
        found.retain(|_, value| !value.trim().is_empty());
        Ok(found)
    }
}

impl<P: ParameterStore> ConfigSource for SsmSource<P> {
    async fn load(&self) -> Result<Config, ConfigError> {
        super::load(self, self.allow_unauthenticated).await
    }
}

/// Timeouts that keep an SSM read well inside Harbor's 3 s wait.
fn timeouts() -> aws_sdk_ssm::config::timeout::TimeoutConfig {
    aws_sdk_ssm::config::timeout::TimeoutConfig::builder()
        .connect_timeout(transport::CONNECT_TIMEOUT)
        .read_timeout(Duration::from_millis(1000))
        .operation_attempt_timeout(Duration::from_millis(1000))
        .operation_timeout(Duration::from_millis(2000))
        .build()
}

/// The SSM client over `http`: region from `AWS_REGION` (or `AWS_DEFAULT_REGION`), credentials
/// from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, endpoint from
/// `AWS_ENDPOINT_URL_SSM` (or `AWS_ENDPOINT_URL`) when set, e.g. a local SSM. Only the
/// environment is consulted: the SDK's full provider chain (profiles, SSO, IMDS, STS) has
/// nothing to find in a Lambda and would add ~0.7 MB to the binary.
pub fn ssm_client(
    http: reqwest::Client,
    env: impl Fn(&str) -> Option<String>,
) -> aws_sdk_ssm::Client {
    let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION"));
    let endpoint = env("AWS_ENDPOINT_URL_SSM").or_else(|| env("AWS_ENDPOINT_URL"));
    let mut config = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(transport::aws::sdk_http_client(http))
        .credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        )
        .timeout_config(timeouts())
        .region(region.map(Region::new));
    if let Some(endpoint) = endpoint.filter(|e| !e.is_empty()) {
        config = config.endpoint_url(endpoint);
    }
    aws_sdk_ssm::Client::from_conf(config.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store holding fixed parameters.
    struct FakeStore(BTreeMap<String, String>);

    impl ParameterStore for FakeStore {
        async fn parameters_by_path(
            &self,
            _prefix: &str,
        ) -> Result<BTreeMap<String, String>, ConfigError> {
            Ok(self.0.clone())
        }
    }

    fn source(pairs: &[(&str, &str)]) -> SsmSource<FakeStore> {
        let params = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SsmSource::new(FakeStore(params), "/p".into(), false)
    }

    #[tokio::test]
    async fn ssm_errors_name_the_parameter() {
        let err = source(&[("/p/auth-header", "x")]).load().await.unwrap_err();
        assert_eq!(
            err,
            ConfigError::Missing {
                origin: Origin::Ssm("/p/push-url".into())
            }
        );
        assert_eq!(
            err.to_string(),
            "SSM parameter /p/push-url is missing: put it with `make config` or aws ssm \
             put-parameter"
        );

        let err = source(&[
            ("/p/push-url", "https://h/x"),
            ("/p/auth-header", "x"),
            ("/p/rules", "{\"rulez\": []}"),
        ])
        .load()
        .await
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("SSM parameter /p/rules is invalid"),
            "{err}"
        );

        let err = source(&[("/p/push-url", "https://h/x")])
            .load()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("/p/auth-header"), "{err}");
    }

    #[tokio::test]
    async fn blank_parameters_count_as_unset() {
        let err = source(&[("/p/push-url", " "), ("/p/auth-header", "x")])
            .load()
            .await
            .unwrap_err();
        assert!(matches!(err, ConfigError::Missing { .. }), "{err}");
        let config = source(&[
            ("/p/push-url", "https://h/x"),
            ("/p/auth-header", "x"),
            ("/p/url-token", "  "),
            ("/p/rules", "\n"),
        ])
        .load()
        .await
        .unwrap();
        assert!(config.auth.url_token.is_none());
        assert!(config.push_url.is_some());
    }
}
