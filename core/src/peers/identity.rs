//! This desk's long-term key and self-signed certificate (kept in the encrypted database
//! beside the desk id), and TLS configurations that
//! accept only paired desks' certificates (pinned by their SHA-256), in both directions.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::PeerError;
use crate::error::{CoreError, Result};

/// The name a desk's certificate carries and a connection asks for (never checked: the
/// pin is the certificate itself).
pub const TLS_NAME: &str = "tsunagi-desk";

pub struct Identity {
    key: Zeroizing<Vec<u8>>,
    pub cert: Vec<u8>,
}

/// A certificate's pin: the SHA-256 of its DER, in hex.
pub fn fingerprint(cert: &[u8]) -> String {
    hex::encode(Sha256::digest(cert))
}

/// Paired desks by their certificate's fingerprint (desk id as the value). Read at every
/// handshake, so an unpairing takes effect at the next one.
#[derive(Debug, Clone, Default)]
pub struct Pins(Arc<RwLock<HashMap<String, String>>>);

impl Pins {
    pub fn set(&self, pins: HashMap<String, String>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = pins;
    }

    /// The desk a certificate belongs to, if it is paired.
    pub fn desk_of(&self, cert: &[u8]) -> Option<String> {
        let pins = self.0.read().unwrap_or_else(|e| e.into_inner());
        pins.get(&fingerprint(cert)).cloned()
    }
}

impl Identity {
    /// A new key pair and its self-signed certificate (PKCS#8 and certificate, DER).
    pub fn make() -> Result<(Vec<u8>, Vec<u8>)> {
        let failed = |e: rcgen::Error| -> CoreError { PeerError::Setup(e.to_string()).into() };
        let key = rcgen::KeyPair::generate().map_err(failed)?;
        let cert = rcgen::CertificateParams::new(vec![TLS_NAME.to_owned()])
            .map_err(failed)?
            .self_signed(&key)
            .map_err(failed)?;
        Ok((key.serialize_der(), cert.der().to_vec()))
    }

    pub fn from_parts(key: Vec<u8>, cert: Vec<u8>) -> Identity {
        Identity {
            key: Zeroizing::new(key),
            cert,
        }
    }

    pub fn fingerprint(&self) -> String {
        fingerprint(&self.cert)
    }

    fn chain(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        (
            vec![CertificateDer::from(self.cert.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.to_vec())),
        )
    }

    /// Accepts desks whose certificate is pinned, and asks them for it.
    pub fn server_config(&self, pins: Pins) -> Result<Arc<rustls::ServerConfig>> {
        let provider = provider();
        let verifier = Arc::new(Pinned {
            pins,
            provider: provider.clone(),
        });
        let (chain, key) = self.chain();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls_error)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(tls_error)?;
        Ok(Arc::new(config))
    }

    /// Connects only to a desk whose certificate is pinned, showing ours.
    pub fn client_config(&self, pins: Pins) -> Result<Arc<rustls::ClientConfig>> {
        let provider = provider();
        let verifier = Arc::new(Pinned {
            pins,
            provider: provider.clone(),
        });
        let (chain, key) = self.chain();
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls_error)?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_auth_cert(chain, key)
            .map_err(tls_error)?;
        Ok(Arc::new(config))
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn tls_error(e: rustls::Error) -> CoreError {
    PeerError::Setup(e.to_string()).into()
}

/// The certificate must be one a paired desk showed at pairing; its handshake signature is
/// checked as usual. No names, no authorities, no dates: the pin is the trust.
#[derive(Debug)]
struct Pinned {
    pins: Pins,
    provider: Arc<CryptoProvider>,
}

impl Pinned {
    fn check(&self, cert: &CertificateDer<'_>) -> std::result::Result<(), rustls::Error> {
        match self.pins.desk_of(cert) {
            Some(_) => Ok(()),
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            )),
        }
    }
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        self.check(end_entity)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl ClientCertVerifier for Pinned {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> std::result::Result<ClientCertVerified, rustls::Error> {
        self.check(end_entity)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        ServerCertVerifier::verify_tls12_signature(self, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        ServerCertVerifier::verify_tls13_signature(self, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        ServerCertVerifier::supported_verify_schemes(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    fn identity() -> Identity {
        let (key, cert) = Identity::make().unwrap();
        Identity::from_parts(key, cert)
    }

    /// A client with `client`'s certificate connects to `server`, which pins `pinned`;
    /// whether a byte gets across.
    async fn talk(server: &Identity, client: &Identity, server_pins: &[&Identity]) -> bool {
        let pins = Pins::default();
        pins.set(
            server_pins
                .iter()
                .map(|i| (i.fingerprint(), "d".repeat(32)))
                .collect(),
        );
        let client_pins = Pins::default();
        client_pins.set([(server.fingerprint(), "s".repeat(32))].into());
        let acceptor = TlsAcceptor::from(server.server_config(pins).unwrap());
        let connector = TlsConnector::from(client.client_config(client_pins).unwrap());
        let (a, b) = tokio::io::duplex(64 * 1024);
        let serve = tokio::spawn(async move {
            let mut tls = acceptor.accept(a).await.ok()?;
            let mut byte = [0u8; 1];
            tls.read_exact(&mut byte).await.ok()?;
            Some(byte[0])
        });
        let name = ServerName::try_from(TLS_NAME).unwrap();
        // Held until the server has read (or refused): dropping it would close the pipe.
        let _client = match connector.connect(name, b).await {
            Ok(mut tls) => {
                let _ = tls.write_all(&[7]).await;
                let _ = tls.flush().await;
                Some(tls)
            }
            Err(_) => None,
        };
        serve.await.unwrap() == Some(7)
    }

    #[tokio::test]
    async fn only_a_pinned_desk_gets_a_word_through() {
        let (server, paired, stranger) = (identity(), identity(), identity());
        assert!(talk(&server, &paired, &[&paired]).await);
        assert!(
            !talk(&server, &stranger, &[&paired]).await,
            "a desk never paired"
        );
        assert!(!talk(&server, &paired, &[]).await, "a desk unpaired");
    }
}
