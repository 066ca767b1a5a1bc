//! What Flashduty's answer to one push means: pure, so every case is tested without a network.
//!
//! A 2xx without `error` is accepted; a 2xx whose body carries an `error` object is a refusal
//! (Flashduty reports some rejections that way). 429 and 5xx are worth retrying, after
//! `Retry-After` when given. Every other status is a refusal: retrying the same alert cannot
//! help. A body that is not Flashduty's JSON envelope is read as an empty one.

use serde::Deserialize;
use std::time::{Duration, SystemTime};

/// One HTTP answer, as far as classification needs it.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub status: u16,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<&'a str>,
    /// The `Flashcat-Request-Id` header, used when the body has no `request_id`.
    pub request_id_header: Option<&'a str>,
    pub body: &'a [u8],
}

/// What to do about an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accepted {
        request_id: Option<String>,
    },
    /// Worth another attempt; `after` is Flashduty's `Retry-After`, if it gave one.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Flashduty said no; a missing code is `unknown` and a missing request id `none`.
    Refused {
        status: u16,
        code: String,
        message: String,
        request_id: String,
    },
}

/// Classifies `answer`; `now` dates a `Retry-After` given as an HTTP date.
pub fn classify(answer: &Answer<'_>, now: SystemTime) -> Verdict {
    let envelope: Envelope = serde_json::from_slice(answer.body).unwrap_or_default();
    let request_id = envelope
        .request_id
        .or_else(|| answer.request_id_header.map(str::to_owned));
    let status = answer.status;
    let success = (200..300).contains(&status);
    match envelope.error {
        None if success => Verdict::Accepted { request_id },
        error if status == 429 || (500..600).contains(&status) => {
            let code = error
                .and_then(|e| e.code)
                .map(|c| format!(" {c}"))
                .unwrap_or_default();
            Verdict::Retry {
                reason: format!("HTTP {status}{code}"),
                after: answer.retry_after.and_then(|v| retry_after(v, now)),
            }
        }
        error => {
            let error = error.unwrap_or_default();
            Verdict::Refused {
                status,
                code: error.code.unwrap_or_else(|| "unknown".to_owned()),
                message: error.message.unwrap_or_default(),
                request_id: request_id.unwrap_or_else(|| "none".to_owned()),
            }
        }
    }
}

/// `Retry-After` is seconds or an HTTP date; a date already past means now.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Flashduty's response envelope: `request_id`, and `error` only when something went wrong.
#[derive(Deserialize, Default)]
struct Envelope {
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    error: Option<ErrorObject>,
}

#[derive(Deserialize, Default)]
struct ErrorObject {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wed, 21 Oct 2015 07:28:00 GMT.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480)
    }

    fn accepted(request_id: Option<&str>) -> Verdict {
        Verdict::Accepted {
            request_id: request_id.map(str::to_owned),
        }
    }

    fn retry(reason: &str, after: Option<u64>) -> Verdict {
        Verdict::Retry {
            reason: reason.to_owned(),
            after: after.map(Duration::from_secs),
        }
    }

    fn refused(status: u16, code: &str, message: &str, request_id: &str) -> Verdict {
        Verdict::Refused {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
            request_id: request_id.to_owned(),
        }
    }

    const OK: &str = r#"{"request_id":"r-ok","data":{"alert_key":"k"}}"#;
    const INVALID: &str = r#"{"request_id":"r-400","error":{"code":"InvalidParameter","message":"integration_key is not a valid one"}}"#;
    const TOO_MANY: &str = r#"{"request_id":"r-429","error":{"code":"RequestTooFrequently","message":"Request too frequently."}}"#;

    /// What the row tests, status, `Retry-After`, request id header, body, verdict.
    type Row = (
        &'static str,
        u16,
        Option<&'static str>,
        Option<&'static str>,
        &'static str,
        Verdict,
    );

    #[test]
    fn every_kind_of_answer() {
        let table: Vec<Row> = vec![
            ("2xx ok", 200, None, None, OK, accepted(Some("r-ok"))),
            ("202 ok", 202, None, None, OK, accepted(Some("r-ok"))),
            (
                "body id wins",
                200,
                None,
                Some("h"),
                OK,
                accepted(Some("r-ok")),
            ),
            ("header id", 200, None, Some("h"), "{}", accepted(Some("h"))),
            ("2xx, no id", 200, None, None, "", accepted(None)),
            (
                "2xx, not JSON",
                200,
                None,
                None,
                "<html>ok</html>",
                accepted(None),
            ),
            // `error` that is not an object fails the envelope, which reads as empty.
            (
                "2xx, error not an object",
                200,
                None,
                None,
                r#"{"error":"x"}"#,
                accepted(None),
            ),
            (
                "2xx with error",
                200,
                None,
                None,
                INVALID,
                refused(
                    200,
                    "InvalidParameter",
                    "integration_key is not a valid one",
                    "r-400",
                ),
            ),
            (
                "2xx with an empty error",
                200,
                None,
                Some("h"),
                r#"{"error":{}}"#,
                refused(200, "unknown", "", "h"),
            ),
            (
                "400",
                400,
                None,
                None,
                INVALID,
                refused(
                    400,
                    "InvalidParameter",
                    "integration_key is not a valid one",
                    "r-400",
                ),
            ),
            (
                "400 ignores Retry-After",
                400,
                Some("1"),
                None,
                INVALID,
                refused(
                    400,
                    "InvalidParameter",
                    "integration_key is not a valid one",
                    "r-400",
                ),
            ),
            (
                "401",
                401,
                None,
                None,
                r#"{"request_id":"r-401","error":{"code":"Unauthorized","message":"no"}}"#,
                refused(401, "Unauthorized", "no", "r-401"),
            ),
            (
                "404, not JSON",
                404,
                None,
                None,
                "404 page not found",
                refused(404, "unknown", "", "none"),
            ),
            (
                "404, empty",
                404,
                None,
                Some("h"),
                "",
                refused(404, "unknown", "", "h"),
            ),
            (
                "3xx is not followed",
                301,
                None,
                None,
                "",
                refused(301, "unknown", "", "none"),
            ),
            (
                "429 seconds",
                429,
                Some("3"),
                None,
                TOO_MANY,
                retry("HTTP 429 RequestTooFrequently", Some(3)),
            ),
            (
                "429 padded",
                429,
                Some(" 0 "),
                None,
                TOO_MANY,
                retry("HTTP 429 RequestTooFrequently", Some(0)),
            ),
            (
                "429 date",
                429,
                Some("Wed, 21 Oct 2015 07:28:05 GMT"),
                None,
                TOO_MANY,
                retry("HTTP 429 RequestTooFrequently", Some(5)),
            ),
            (
                "429 past date",
                429,
                Some("Wed, 21 Oct 2015 07:27:00 GMT"),
                None,
                TOO_MANY,
                retry("HTTP 429 RequestTooFrequently", Some(0)),
            ),
            (
                "429 unreadable Retry-After",
                429,
                Some("soon"),
                None,
                TOO_MANY,
                retry("HTTP 429 RequestTooFrequently", None),
            ),
            (
                "429 without Retry-After",
                429,
                None,
                None,
                TOO_MANY,
                retry("HTTP 429 RequestTooFrequently", None),
            ),
            (
                "429, not JSON",
                429,
                None,
                None,
                "slow down",
                retry("HTTP 429", None),
            ),
            ("500", 500, None, None, "", retry("HTTP 500", None)),
            (
                "503 with code and Retry-After",
                503,
                Some("2"),
                None,
                r#"{"error":{"code":"ServiceUnavailable"}}"#,
                retry("HTTP 503 ServiceUnavailable", Some(2)),
            ),
            (
                "502, HTML",
                502,
                None,
                None,
                "<html>bad gateway</html>",
                retry("HTTP 502", None),
            ),
            ("599", 599, None, None, "", retry("HTTP 599", None)),
        ];
        for (what, status, retry_after, request_id_header, body, want) in table {
            let answer = Answer {
                status,
                retry_after,
                request_id_header,
                body: body.as_bytes(),
            };
            assert_eq!(classify(&answer, now()), want, "{what}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after("3", now()), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now()),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after("-1", now()), None);
        assert_eq!(retry_after("", now()), None);
    }
}
