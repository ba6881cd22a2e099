//! HTTPS without a terminator in front: `bankfeeds serve --tls-cert FILE --tls-key FILE` (or the
//! `tls_cert`/`tls_key` config keys). Some OFX Direct Connect clients (ofxclient, and so
//! ledger-autosync) speak only HTTPS. rustls with the ring provider; HTTP/1.1 only, as on plain
//! sockets (see `listener.rs`).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
pub use tokio_rustls::TlsAcceptor;

/// The acceptor for a PEM certificate chain (leaf first) and its PEM private key (PKCS#8,
/// PKCS#1 or SEC1). Fails, naming the file, on anything unreadable or mismatched, so a bad
/// pair stops start-up instead of failing every handshake.
pub fn acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| {
            format!(
                "tls_cert {}: not a readable PEM certificate",
                cert.display()
            )
        })?;
    anyhow::ensure!(
        !chain.is_empty(),
        "tls_cert {}: no certificate in the file",
        cert.display()
    );
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("tls_key {}: not a readable PEM private key", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("tls_cert and tls_key do not make a usable pair")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
