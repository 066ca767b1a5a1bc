//! Lambda Function URL request events (payload format 2.0), the one place the tests build them:
//! `aws_lambda_events`' [`LambdaFunctionUrlRequest`], filled in as AWS fills it for a request to
//! `https://<url-id>.lambda-url.us-east-1.on.aws/`.
//!
//! * [`FunctionUrlEvent::to_json`]: the event as JSON, for `cargo lambda invoke` (`e2e` binary);
//! * [`FunctionUrlEvent::to_request`]: the `lambda_http::Request` the runtime makes of that JSON
//!   (`lambda_http::request::from_str`, as `lambda_http::run` does), for the in-process handler
//!   (`handler` binary).
//!
//! What AWS does and the builder copies: its own forwarding headers (`host`, `x-forwarded-*`,
//! `x-amzn-trace-id`) replace any the caller sent; a header sent more than once arrives as one
//! value, the values joined with commas; `rawQueryString` is the query as sent and
//! `queryStringParameters` its decoded pairs (repeated keys joined with commas); the body is
//! absent when empty, else text or base64 (`isBase64Encoded`). Header values that are not UTF-8
//! are carried lossily (U+FFFD), as the event is JSON.

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlRequestContext,
    LambdaFunctionUrlRequestContextHttpDescription,
};
use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;
use std::collections::HashMap;

/// The Function URL's id and domain.
pub const URL_ID: &str = "abcdefgh";
pub const DOMAIN: &str = "abcdefgh.lambda-url.us-east-1.on.aws";
/// The caller's address as AWS reports it (a documentation address).
pub const SOURCE_IP: &str = "203.0.113.7";

/// How the body travels in the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// `"body": "<text>"`, `isBase64Encoded: false` (bytes that are not UTF-8 become U+FFFD).
    Text,
    /// `"body": "<base64>"`, `isBase64Encoded: true`.
    Base64,
}

/// A Function URL request event under construction.
#[derive(Clone, Debug)]
pub struct FunctionUrlEvent {
    method: String,
    path: String,
    raw_query: String,
    /// AWS's own headers, in order; [`FunctionUrlEvent::aws_header`] changes them.
    aws: Vec<(String, String)>,
    /// The caller's headers, in the order sent (names lowercase).
    headers: Vec<(String, Vec<u8>)>,
    /// The `body` member as it stands in the event, and `isBase64Encoded`.
    body: Option<(String, bool)>,
}

impl FunctionUrlEvent {
    /// A request with this method to `/`, no query, no body, only AWS's own headers.
    pub fn new(method: &str) -> FunctionUrlEvent {
        FunctionUrlEvent {
            method: method.to_owned(),
            path: "/".to_owned(),
            raw_query: String::new(),
            aws: [
                ("host", DOMAIN),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-port", "443"),
                ("x-forwarded-for", SOURCE_IP),
                (
                    "x-amzn-trace-id",
                    "Root=1-67d40a1b-0123456789abcdef01234567",
                ),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn post() -> FunctionUrlEvent {
        FunctionUrlEvent::new("POST")
    }

    /// Adds a header the caller sent (any bytes; a repeated name is joined with a comma).
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> FunctionUrlEvent {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_ref().to_vec()));
        self
    }

    /// Adds every `(name, value)` header.
    pub fn headers<N: AsRef<str>, V: AsRef<[u8]>>(
        mut self,
        headers: impl IntoIterator<Item = (N, V)>,
    ) -> FunctionUrlEvent {
        for (name, value) in headers {
            self = self.header(name.as_ref(), value);
        }
        self
    }

    /// Sets one of the headers AWS adds itself (`host`, `x-forwarded-proto`, ...) to `value`,
    /// as a front end passing on what the caller sent would.
    pub fn aws_header(mut self, name: &str, value: &str) -> FunctionUrlEvent {
        let name = name.to_ascii_lowercase();
        match self.aws.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value.to_owned(),
            None => self.aws.push((name, value.to_owned())),
        }
        self
    }

    /// The query string as sent, without `?` (`token=abc&x=1`), encoded or not.
    pub fn query(mut self, raw: &str) -> FunctionUrlEvent {
        self.raw_query = raw.to_owned();
        self
    }

    /// The query of these pairs, form-urlencoded.
    pub fn query_pairs<K: AsRef<str>, V: AsRef<str>>(
        self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> FunctionUrlEvent {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs {
            query.append_pair(key.as_ref(), value.as_ref());
        }
        let raw = query.finish();
        self.query(&raw)
    }

    /// The raw path (`rawPath` and `requestContext.http.path`).
    pub fn path(mut self, raw: &str) -> FunctionUrlEvent {
        self.path = raw.to_owned();
        self
    }

    /// The body, carried as `encoding` says; an empty body leaves `body` out, as AWS does.
    pub fn body(mut self, bytes: &[u8], encoding: Encoding) -> FunctionUrlEvent {
        self.body = (!bytes.is_empty()).then(|| match encoding {
            Encoding::Text => (String::from_utf8_lossy(bytes).into_owned(), false),
            Encoding::Base64 => (BASE64.encode(bytes), true),
        });
        self
    }

    /// The `body` member exactly as given, with this `isBase64Encoded` (which may then be a
    /// lie, as no AWS event would be).
    pub fn raw_body(mut self, body: &str, is_base64_encoded: bool) -> FunctionUrlEvent {
        self.body = Some((body.to_owned(), is_base64_encoded));
        self
    }

    /// The event; `Err` when a header cannot be carried (a name that is not a header name, a
    /// value with control characters).
    pub fn build(&self) -> Result<LambdaFunctionUrlRequest, String> {
        let mut joined: Vec<(String, String)> = Vec::new();
        for (name, value) in &self.headers {
            if self.aws.iter().any(|(aws, _)| aws == name) {
                continue;
            }
            let value = String::from_utf8_lossy(value);
            match joined.iter_mut().find(|(n, _)| n == name) {
                Some((_, old)) => {
                    old.push(',');
                    old.push_str(&value);
                }
                None => joined.push((name.clone(), value.into_owned())),
            }
        }
        let mut headers = HeaderMap::new();
        for (name, value) in self.aws.iter().chain(&joined) {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("header name {name:?}: {e}"))?;
            let value = HeaderValue::from_str(value)
                .map_err(|e| format!("header {name}: value {value:?}: {e}"))?;
            headers.insert(header, value);
        }
        let mut parameters: HashMap<String, String> = HashMap::new();
        for (key, value) in url::form_urlencoded::parse(self.raw_query.as_bytes()) {
            parameters
                .entry(key.into_owned())
                .and_modify(|old| {
                    old.push(',');
                    old.push_str(&value);
                })
                .or_insert_with(|| value.clone().into_owned());
        }

        let mut http = LambdaFunctionUrlRequestContextHttpDescription::default();
        http.method = Some(self.method.clone());
        http.path = Some(self.path.clone());
        http.protocol = Some("HTTP/1.1".to_owned());
        http.source_ip = Some(SOURCE_IP.to_owned());
        http.user_agent = joined
            .iter()
            .find(|(name, _)| name == "user-agent")
            .map(|(_, value)| value.clone());
        let mut context = LambdaFunctionUrlRequestContext::default();
        context.account_id = Some("anonymous".to_owned());
        context.request_id = Some("3b6d3a2e-0d5f-4e8e-9d2b-6f1e2a3b4c5d".to_owned());
        context.apiid = Some(URL_ID.to_owned());
        context.domain_name = Some(DOMAIN.to_owned());
        context.domain_prefix = Some(URL_ID.to_owned());
        context.time = Some("14/Mar/2025:10:35:23 +0000".to_owned());
        context.time_epoch = 1_741_948_523_000;
        context.http = http;

        let mut event = LambdaFunctionUrlRequest::default();
        event.version = Some("2.0".to_owned());
        event.raw_path = Some(self.path.clone());
        event.raw_query_string = Some(self.raw_query.clone());
        event.headers = headers;
        event.query_string_parameters = parameters;
        event.request_context = context;
        event.body = self.body.as_ref().map(|(body, _)| body.clone());
        event.is_base64_encoded = self.body.as_ref().is_some_and(|(_, base64)| *base64);
        Ok(event)
    }

    /// The event as JSON; panics when it cannot be built.
    pub fn to_json(&self) -> Value {
        let event = self.build().unwrap_or_else(|e| panic!("{e}: {self:?}"));
        serde_json::to_value(&event).expect("a Function URL event serialises")
    }

    /// The request `lambda_http` makes of the event, as the runtime does before calling the
    /// handler; `Err` when the event cannot be built or lambda_http refuses it. (lambda_http
    /// panics on some events: see the `lambda_http` module of the handler tests.)
    pub fn to_request(&self) -> Result<lambda_http::Request, String> {
        let event = self.build()?;
        let json = serde_json::to_string(&event).map_err(|e| e.to_string())?;
        lambda_http::request::from_str(&json).map_err(|e| e.to_string())
    }
}
