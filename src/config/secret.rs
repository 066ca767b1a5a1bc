//! Values that must never reach a log line or an error message in clear: the caller's secrets
//! and the push URL, whose query holds Flashduty's integration key.

use std::fmt;
use url::Url;

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

/// Why a push URL was refused. Each message reads after the parameter's name and never shows
/// the URL's query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushUrlError {
    #[error("is not a URL ({0})")]
    NotAUrl(url::ParseError),
    /// `shown` is the URL already redacted.
    #[error("must use https: plain http is accepted only for a loopback host, not {shown}")]
    PlainHttp { shown: String },
    #[error("must be an https URL, not {scheme}:")]
    Scheme { scheme: String },
}

impl PushUrl {
    /// Accepts `https`, or plain `http` to a loopback host (for local testing only).
    pub fn parse(text: &str) -> Result<Self, PushUrlError> {
        let url = Url::parse(text.trim()).map_err(PushUrlError::NotAUrl)?;
        let loopback = matches!(
            url.host(),
            Some(url::Host::Domain("localhost"))
                | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
                | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
        );
        match url.scheme() {
            "https" => Ok(Self(url)),
            "http" if loopback => Ok(Self(url)),
            "http" => Err(PushUrlError::PlainHttp {
                shown: redact(&url),
            }),
            other => Err(PushUrlError::Scheme {
                scheme: other.to_owned(),
            }),
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = PushUrl::parse("http://example.com/x?integration_key=SECRET")
            .unwrap_err()
            .to_string();
        assert!(err.contains("https") && !err.contains("SECRET"), "{err}");
        assert_eq!(
            PushUrl::parse("ftp://example.com").unwrap_err(),
            PushUrlError::Scheme {
                scheme: "ftp".into()
            }
        );
        assert!(matches!(
            PushUrl::parse("not a url"),
            Err(PushUrlError::NotAUrl(_))
        ));
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
}
