//! The AWS SDK's HTTP over the shared client.
//!
//! The SDK's own HTTPS client would bring a second hyper/rustls stack and load the system
//! root store again at cold start; the SDK takes any [`HttpClient`], so it gets ours. The SSM
//! client itself is built with the code that reads SSM, in [`crate::config::ssm`].

/// The SSM client's builder, re-exported under its former path for existing callers.
pub use crate::config::ssm_client;

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
