//! Connecting to PostgreSQL with TLS as a libpq URL asks (`sslmode`, `sslrootcert`), for
//! the hub's database and a CRM's SQL source alike:
//!
//! | `sslmode` | TLS | The server's certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default) | when the server offers it | not checked |
//! | `require` | always | not checked |
//! | `verify-ca` | always | signed by `sslrootcert` (or a public CA) |
//! | `verify-full` | always | signed so, and naming the host connected to |
//!
//! As with libpq, only `verify-ca` and `verify-full` stop someone in the middle; use
//! `verify-full` across any network.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, RootCertStore, SignatureScheme};
use std::sync::Arc;

/// How a URL asks for TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// Why a connection's TLS cannot be set up.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsSetupError {
    #[error("sslmode `{0}` is not one of disable, prefer, require, verify-ca, verify-full")]
    Mode(String),
    #[error("sslrootcert {path}: {reason}")]
    RootCert { path: String, reason: String },
    #[error("{0}")]
    Url(String),
}

/// A URL's own settings with `sslmode` and `sslrootcert` taken out (the PostgreSQL client
/// knows neither `verify-*` nor `sslrootcert`), and what they said.
pub fn split_tls_params(url: &str) -> Result<(String, SslMode, Option<String>), TlsSetupError> {
    let Some((base, query)) = url.split_once('?') else { return Ok((url.to_owned(), SslMode::Prefer, None)) };
    let mut mode = SslMode::Prefer;
    let mut root = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslmode" => {
                mode = match v {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => return Err(TlsSetupError::Mode(other.to_owned())),
                }
            }
            "sslrootcert" => {
                let decoded: String =
                    form_urlencoded::parse(format!("x={v}").as_bytes()).map(|(_, v)| v.into_owned()).collect();
                root = Some(decoded);
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    Ok((url, mode, root))
}

/// Accepts any certificate (`prefer`, `require`), still checking the handshake's
/// signatures, so the link is encrypted though its far end is not proven.
#[derive(Debug)]
struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Checks the chain but not the name (`verify-ca`).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(TlsError::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

fn roots(path: Option<&str>) -> Result<RootCertStore, TlsSetupError> {
    let mut store = RootCertStore::empty();
    match path {
        None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(p) => {
            let bad = |reason: String| TlsSetupError::RootCert { path: p.to_owned(), reason };
            let certs = CertificateDer::pem_file_iter(p)
                .map_err(|e| bad(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("holds no certificate".into()));
            }
            for c in certs {
                store.add(c).map_err(|e| bad(e.to_string()))?;
            }
        }
    }
    Ok(store)
}

/// The client settings and TLS connector for `url`.
pub fn prepare(url: &str) -> Result<(postgres::Config, tokio_postgres_rustls::MakeRustlsConnect), TlsSetupError> {
    let (url, mode, root) = split_tls_params(url)?;
    let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| TlsSetupError::Url(e.to_string()))?;
    config.ssl_mode(match mode {
        SslMode::Disable => postgres::config::SslMode::Disable,
        SslMode::Prefer => postgres::config::SslMode::Prefer,
        _ => postgres::config::SslMode::Require,
    });
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Url(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        SslMode::Disable | SslMode::Prefer | SslMode::Require => Arc::new(Unchecked(provider.clone())),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots(root.as_deref())?), provider)
                .build()
                .map_err(|e| TlsSetupError::Url(e.to_string()))?;
            if mode == SslMode::VerifyCa {
                Arc::new(ChainOnly(webpki))
            } else {
                webpki
            }
        }
    };
    let tls = builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth();
    Ok((config, tokio_postgres_rustls::MakeRustlsConnect::new(tls)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_settings_are_read_from_the_url_and_taken_out_of_it() {
        let base = "postgres://u@db.example:5432/hub";
        for (url, want_url, mode, root) in [
            (base.to_owned(), base, SslMode::Prefer, None),
            (format!("{base}?sslmode=disable"), base, SslMode::Disable, None),
            (format!("{base}?sslmode=require"), base, SslMode::Require, None),
            (
                format!("{base}?application_name=x&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=3"),
                "postgres://u@db.example:5432/hub?application_name=x&connect_timeout=3",
                SslMode::VerifyFull,
                Some("/etc/ca.pem"),
            ),
            (format!("{base}?sslmode=verify-ca&sslrootcert=ca.pem"), base, SslMode::VerifyCa, Some("ca.pem")),
        ] {
            let (u, m, r) = split_tls_params(&url).unwrap();
            assert_eq!((u.as_str(), m, r.as_deref()), (want_url, mode, root), "{url}");
        }
        assert_eq!(split_tls_params(&format!("{base}?sslmode=verify")), Err(TlsSetupError::Mode("verify".into())));
    }

    #[test]
    fn a_root_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here").unwrap();
        let url = format!("postgres://u@h/db?sslmode=verify-full&sslrootcert={}", empty.display());
        assert!(matches!(prepare(&url), Err(TlsSetupError::RootCert { .. })));
        let missing = "postgres://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem";
        assert!(matches!(prepare(missing), Err(TlsSetupError::RootCert { .. })));
    }
}
