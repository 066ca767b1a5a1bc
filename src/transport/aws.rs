//! The AWS SDK's HTTP over the shared client, and the SSM client built from the environment.
//!
//! The SDK's own HTTPS client would bring a second hyper/rustls stack and load the system
//! root store again at cold start; the SDK takes any [`HttpClient`], so it gets ours.
//! Credentials and region come from the environment variables Lambda sets; the SDK's full
//! provider chain (profiles, SSO, IMDS, STS) has nothing to find in a Lambda and would add
//! ~0.7 MB to the binary.

use aws_sdk_ssm::config::{BehaviorVersion, Region};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use std::time::Duration;

/// Timeouts that keep an SSM read well inside Harbor's 3 s wait.
fn timeouts() -> aws_sdk_ssm::config::timeout::TimeoutConfig {
    aws_sdk_ssm::config::timeout::TimeoutConfig::builder()
        .connect_timeout(super::CONNECT_TIMEOUT)
        .read_timeout(Duration::from_millis(1000))
        .operation_attempt_timeout(Duration::from_millis(1000))
        .operation_timeout(Duration::from_millis(2000))
        .build()
}

/// The SSM client: region from `AWS_REGION` (or `AWS_DEFAULT_REGION`), credentials from
/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, endpoint from
/// `AWS_ENDPOINT_URL_SSM` (or `AWS_ENDPOINT_URL`) when set, e.g. a local SSM.
pub fn ssm_client(
    http: reqwest::Client,
    env: impl Fn(&str) -> Option<String>,
) -> aws_sdk_ssm::Client {
    let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION"));
    let endpoint = env("AWS_ENDPOINT_URL_SSM").or_else(|| env("AWS_ENDPOINT_URL"));
    let mut config = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(sdk_http_client(http))
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

/// `client` as the SDK's HTTP client.
pub fn sdk_http_client(client: reqwest::Client) -> SharedHttpClient {
    SharedHttpClient::new(SdkHttp { client })
}

/// Hands out connectors over one `reqwest::Client`, so every SDK client shares its pool.
#[derive(Debug)]
struct SdkHttp {
    client: reqwest::Client,
}

impl HttpClient for SdkHttp {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        // The connect timeout is the shared client's (the same CONNECT_TIMEOUT the SDK asks
        // for); the read timeout bounds each whole exchange.
        SharedHttpConnector::new(Connector {
            client: self.client.clone(),
            read_timeout: settings.read_timeout(),
        })
    }
}

#[derive(Debug)]
struct Connector {
    client: reqwest::Client,
    read_timeout: Option<Duration>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move { exchange(&client, request, read_timeout).await })
    }
}

async fn exchange(
    client: &reqwest::Client,
    request: HttpRequest,
    read_timeout: Option<Duration>,
) -> Result<HttpResponse, ConnectorError> {
    // SSM requests are small JSON documents, always in memory.
    let body = request
        .body()
        .bytes()
        .ok_or_else(|| ConnectorError::user("streaming request bodies are not supported".into()))?
        .to_vec();
    let method = reqwest::Method::from_bytes(request.method().as_bytes())
        .map_err(|e| ConnectorError::user(e.into()))?;
    let mut outgoing = client.request(method, request.uri());
    for (name, value) in request.headers() {
        outgoing = outgoing.header(name, value);
    }
    if let Some(timeout) = read_timeout {
        outgoing = outgoing.timeout(timeout);
    }
    let response = outgoing.body(body).send().await.map_err(connector_error)?;
    let status = StatusCode::try_from(response.status().as_u16())
        .map_err(|e| ConnectorError::other(e.into(), None))?;
    let headers = response.headers().clone();
    let bytes = response.bytes().await.map_err(connector_error)?;
    let mut out = HttpResponse::new(status, SdkBody::from(bytes));
    for (name, value) in &headers {
        out.headers_mut()
            .try_append(name.clone(), value.clone())
            .map_err(|e| ConnectorError::other(e.into(), None))?;
    }
    Ok(out)
}

/// Timeouts and connection failures are transient to the SDK's retry policy; the rest,
/// including a refused TLS certificate, is not.
fn connector_error(e: reqwest::Error) -> ConnectorError {
    if super::is_tls_failure(&e) {
        ConnectorError::other(e.into(), None)
    } else if e.is_timeout() {
        ConnectorError::timeout(e.into())
    } else if e.is_connect() || e.is_request() || e.is_body() {
        ConnectorError::io(e.into())
    } else {
        ConnectorError::other(e.into(), None)
    }
}
