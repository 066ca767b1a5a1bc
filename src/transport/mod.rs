//! The instance's one HTTPS client, shared by the Flashduty client and the SSM client.
//!
//! One client, not one per service: a second TLS stack would be parsed into memory at every
//! cold start and linked into the binary a second time. rustls with ring trusts the Mozilla
//! roots compiled into the binary (`webpki-roots`): nothing to read or parse at start-up (the
//! system bundle cost ~0.9 ms per client to parse), and the same trust on every machine.
//! `SSL_CERT_FILE` replaces them with a PEM bundle, for a Flashduty behind a private CA.

pub mod aws;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Why the HTTPS client could not be built: a deployment problem, reported at init.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("SSL_CERT_FILE {path}: {reason}")]
    CertFile { path: String, reason: String },
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Longest wait for a TCP connection, to Flashduty or to SSM.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);

/// The HTTPS client for the life of the instance. `cert_file` is `SSL_CERT_FILE`, if set.
pub fn https_client(cert_file: Option<&Path>) -> Result<reqwest::Client, TransportError> {
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config(cert_file)?)
        .user_agent(concat!("harbor-flashduty/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// TLS 1.2 and 1.3 with ring, trusting `roots(cert_file)`.
pub fn tls_config(cert_file: Option<&Path>) -> Result<rustls::ClientConfig, TransportError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots(cert_file)?)
        .with_no_client_auth())
}

/// The compiled-in Mozilla roots, or every certificate in the PEM bundle `cert_file`.
pub fn roots(cert_file: Option<&Path>) -> Result<RootCertStore, TransportError> {
    let Some(path) = cert_file else {
        return Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
    };
    let problem = |reason: String| TransportError::CertFile {
        path: path.display().to_string(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| problem(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| problem(e.to_string()))?;
    let mut store = RootCertStore::empty();
    let (added, ignored) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(problem(format!(
            "no usable CA certificate in the file ({ignored} could not be parsed)"
        )));
    }
    Ok(store)
}

/// A TLS failure (an untrusted or mismatched certificate, no common protocol): the same
/// handshake fails again on retry. rustls errors arrive inside (nested) `io::Error`s, whose
/// `source()` skips the wrapped error, so each `io::Error` is opened too.
pub fn is_tls_failure(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let mut layer = cause;
        loop {
            if layer.is::<rustls::Error>() {
                return true;
            }
            match layer
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
            {
                Some(inner) => layer = inner,
                None => break,
            }
        }
        source = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn without_a_bundle_the_compiled_in_roots_are_trusted() {
        let store = roots(None).unwrap();
        assert_eq!(store.len(), webpki_roots::TLS_SERVER_ROOTS.len());
        assert!(store.len() > 100, "Mozilla's set has well over 100 roots");
    }

    #[test]
    fn a_bundle_replaces_the_compiled_in_roots() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(include_bytes!("../../tests/fixtures/tls/ca.pem"))
            .unwrap();
        assert_eq!(roots(Some(file.path())).unwrap().len(), 1);
    }

    #[test]
    fn a_bundle_without_certificates_is_refused_naming_the_file() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"not a certificate\n").unwrap();
        let err = roots(Some(file.path())).unwrap_err().to_string();
        assert!(err.starts_with("SSL_CERT_FILE "), "{err}");
        assert!(err.contains(&file.path().display().to_string()), "{err}");
        assert!(err.contains("no usable CA certificate"), "{err}");
    }

    #[test]
    fn a_missing_bundle_is_refused_naming_the_file() {
        let err = roots(Some(Path::new("/nonexistent/ca.pem")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn the_client_builds_with_either_trust_set() {
        https_client(None).unwrap();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(include_bytes!("../../tests/fixtures/tls/ca.pem"))
            .unwrap();
        https_client(Some(file.path())).unwrap();
    }
}
