//! The stand-in's HTTP side: routing, checking and answering a request, and the scripted
//! behaviours.

use super::validate::validate_alert;
use super::*;

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, ScriptState> {
        // A panic while holding the lock poisons it; the records are still worth reading.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the next behaviour off the script (or the default) and resolves `FailRandomly`.
    pub(super) fn next_behaviour(&self) -> Behaviour {
        let mut state = self.lock();
        let behaviour = state
            .script
            .pop_front()
            .unwrap_or_else(|| state.default.clone());
        match behaviour {
            Behaviour::FailRandomly { percent, seed } => {
                if state.random.map(|(current, _)| current) != Some(seed) {
                    state.random = Some((seed, seed));
                }
                let (_, rng) = state.random.as_mut().expect("seeded just above");
                if splitmix64(rng) % 100 < u64::from(percent) {
                    let failures = random_failures();
                    let pick = splitmix64(rng) % failures.len() as u64;
                    failures[pick as usize].clone()
                } else {
                    Behaviour::Accept
                }
            }
            other => other,
        }
    }
}

/// A refusal: the error code and message the real endpoint would answer with.
#[derive(Debug)]
pub(super) struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    pub(super) fn invalid(message: impl Into<String>) -> Refusal {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidParameter",
            message: message.into(),
        }
    }
}

pub(super) async fn push(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received_at = Instant::now();
    let request_id = random_hex(16);
    let verdict = check_request(&shared.integration_key, &method, &uri, &headers, &body);
    let behaviour = shared.next_behaviour();
    shared.lock().received.push(Received {
        at: received_at,
        method: method.to_string(),
        path_and_query: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: header_pairs(&headers),
        body: String::from_utf8_lossy(&body).into_owned(),
        invalid: verdict
            .as_ref()
            .err()
            .map(|r| format!("{}: {}", r.code, r.message)),
        behaviour: behaviour.clone(),
        request_id: request_id.clone(),
    });
    let alert = match verdict {
        Ok(alert) => alert,
        Err(refusal) => {
            return error_response(refusal.status, refusal.code, &refusal.message, &request_id);
        }
    };
    match behaviour {
        Behaviour::Accept => accept(&shared, received_at, &headers, alert, &request_id),
        Behaviour::Hang(delay) => {
            // If the caller gives up, hyper drops this future and nothing is recorded.
            tokio::time::sleep(delay).await;
            accept(&shared, received_at, &headers, alert, &request_id)
        }
        Behaviour::Status(status) => {
            let status = StatusCode::from_u16(status).expect("a valid scripted HTTP status");
            let message = format!("scripted failure: HTTP {}", status.as_u16());
            error_response(status, code_for_status(status), &message, &request_id)
        }
        Behaviour::TooMany { retry_after } => {
            let mut response = error_response(
                StatusCode::TOO_MANY_REQUESTS,
                "RequestTooFrequently",
                "Request too frequently.",
                &request_id,
            );
            if let Some(value) = retry_after {
                let value = HeaderValue::from_str(&value).expect("a valid Retry-After value");
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Behaviour::Reject400 => error_response(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "scripted rejection: labels.team is not allowed",
            &request_id,
        ),
        Behaviour::ErrorBody200 => error_response(
            StatusCode::OK,
            "NoLicense",
            "scripted: HTTP 200 carrying an error object",
            &request_id,
        ),
        Behaviour::FailRandomly { .. } => unreachable!("resolved by next_behaviour"),
    }
}

pub(super) async fn route_not_found(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = random_hex(16);
    let message = format!("{method} {} is not a Flashduty route", uri.path());
    shared.lock().received.push(Received {
        at: Instant::now(),
        method: method.to_string(),
        path_and_query: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: header_pairs(&headers),
        body: String::from_utf8_lossy(&body).into_owned(),
        invalid: Some(format!("RouteNotFound: {message}")),
        behaviour: Behaviour::Accept,
        request_id: request_id.clone(),
    });
    error_response(
        StatusCode::NOT_FOUND,
        "RouteNotFound",
        &message,
        &request_id,
    )
}

pub(super) fn accept(
    shared: &Shared,
    received_at: Instant,
    headers: &HeaderMap,
    alert: Value,
    request_id: &str,
) -> Response {
    let alert_key = alert["alert_key"].clone();
    shared.lock().accepted.push(Accepted {
        received_at,
        completed_at: Instant::now(),
        request_id: request_id.to_owned(),
        headers: header_pairs(headers),
        body: alert,
    });
    let body = json!({"request_id": request_id, "data": {"alert_key": alert_key}});
    (StatusCode::OK, axum::Json(body)).into_response()
}

pub(super) fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
) -> Response {
    let body = json!({"request_id": request_id, "error": {"code": code, "message": message}});
    (status, axum::Json(body)).into_response()
}

/// The error code the reference's table gives for an HTTP status.
pub(super) fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "InvalidParameter",
        401 => "Unauthorized",
        403 => "AccessDenied",
        404 => "RouteNotFound",
        429 => "RequestTooFrequently",
        _ => "InternalError",
    }
}

pub(super) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect()
}

/// Method, content type, integration key, then the body, in the order the brief lists them.
pub(super) fn check_request(
    integration_key: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, Refusal> {
    if method != Method::POST {
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            code: "MethodNotAllowed",
            message: format!("method {method} is not allowed"),
        });
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if !content_type.as_deref().is_some_and(is_json_media_type) {
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidContentType",
            message: format!("content type {content_type:?} is not supported"),
        });
    }
    let key = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "integration_key")
        .map(|(_, value)| value.into_owned());
    if key.as_deref() != Some(integration_key) {
        return Err(Refusal::invalid("integration_key is not a valid one"));
    }
    validate_alert(body).map_err(Refusal::invalid)
}

/// `application/json`, optionally with parameters such as `charset=utf-8`.
pub(super) fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// SplitMix64: a tiny, good-enough PRNG so random failure sequences replay from their seed.
pub(super) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
