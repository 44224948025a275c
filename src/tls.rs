//! What a target's certificate says, when TLS checks of it failed: a second handshake that
//! accepts any certificate, only to read the one the server shows (its subject, issuer and
//! dates). Nothing is sent over that connection.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// How long the second handshake may take.
const WAIT: Duration = Duration::from_secs(5);

/// Accepts any certificate and keeps the server's own.
#[derive(Debug)]
struct Recorder {
    seen: Arc<Mutex<Option<Vec<u8>>>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(end_entity.to_vec());
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The certificate `url`'s server shows, described: subject, issuer and validity; `None` when
/// no handshake could be made (a server that speaks no TLS this client knows, as TLS 1.0 only).
pub async fn describe_certificate(url: &Url) -> Option<String> {
    let host = url.host_str()?.trim_matches(['[', ']']).to_owned();
    let port = url.port_or_known_default()?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let seen = Arc::new(Mutex::new(None));
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Recorder {
            seen: seen.clone(),
            provider,
        }))
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.clone()).ok()?;
    let handshake = async {
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .ok()?;
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .ok()
    };
    let _ = tokio::time::timeout(WAIT, handshake).await;
    let der = seen.lock().unwrap_or_else(|p| p.into_inner()).take()?;
    describe(&der)
}

/// A subject alternative name as a person writes it.
fn name(n: &x509_parser::extensions::GeneralName<'_>) -> String {
    use x509_parser::extensions::GeneralName;
    match n {
        GeneralName::DNSName(d) => (*d).to_owned(),
        GeneralName::IPAddress(b) => match b.len() {
            4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
            16 => <[u8; 16]>::try_from(*b)
                .map(|a| std::net::Ipv6Addr::from(a).to_string())
                .unwrap_or_default(),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// A DER certificate described: `subject …, issuer …, valid from … to …` (UTC).
pub fn describe(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let validity = cert.validity();
    let now = x509_parser::time::ASN1Time::now();
    let state = if validity.not_after < now {
        " (expired)"
    } else if validity.not_before > now {
        " (not yet valid)"
    } else {
        ""
    };
    let names: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| san.value.general_names.iter().map(name).collect())
        .unwrap_or_default();
    Some(format!(
        "subject `{}`{}, issuer `{}`, valid from {} to {}{state}",
        cert.subject(),
        if names.is_empty() {
            String::new()
        } else {
            format!(" (names {})", names.join(", "))
        },
        cert.issuer(),
        validity.not_before,
        validity.not_after,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_described_by_subject_names_and_dates() {
        let mut params = rcgen::CertificateParams::new(vec!["app.example".into()]).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "app.example");
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        let key = rcgen::KeyPair::generate().expect("a key");
        let cert = params.self_signed(&key).expect("a certificate");
        let text = describe(cert.der()).expect("described");
        assert!(text.contains("subject `CN=app.example`"), "{text}");
        assert!(text.contains("app.example"), "{text}");
        assert!(text.contains("2021"), "{text}");
        assert!(text.ends_with("(expired)"), "{text}");
    }
}
