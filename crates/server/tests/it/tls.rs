//! HTTPS served by the hub itself (`serve --tls-cert --tls-key`): a self-signed certificate
//! loaded from PEM files, a real TLS client that trusts only it, an OFX exchange over it, and
//! the socket's deadlines kept for the handshake.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bankfeeds_domain::{Clock, NewOrg, SystemClock};
use bankfeeds_server::listener::Limits;
use bankfeeds_store_tests::TestDb;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;

use crate::helpers::{sqlite_db, test_state};

/// A hub on SQLite serving HTTPS with a fresh self-signed certificate for 127.0.0.1; what a
/// client needs to trust it; the token stops it.
struct TlsHub {
    addr: String,
    org_id: String,
    connector: TlsConnector,
    shutdown: CancellationToken,
    _db: TestDb,
    _dir: TempDir,
}

impl Drop for TlsHub {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A directory removed when dropped.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn tls_hub(header_timeout: Duration) -> TlsHub {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let dir = std::env::temp_dir().join(format!("bf-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.key_pair.serialize_pem()).unwrap();
    // The files go through the same loader `serve` uses.
    let acceptor = bankfeeds_server::tls::acceptor(&cert_file, &key_file).unwrap();

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(cert.cert.der().to_vec()))
        .unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();

    let db = sqlite_db("tls").await;
    let (new, _secret) = NewOrg::generate("TLS Bank", SystemClock.now()).unwrap();
    db.store.create_org(&new).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let state = test_state(db.store.clone(), format!("https://{addr}"), 0);
    let shutdown = CancellationToken::new();
    tokio::spawn(bankfeeds_server::serve_with_tls(
        listener,
        state,
        shutdown.clone(),
        Duration::from_secs(1),
        Limits {
            header_timeout,
            max_connections: 100,
        },
        Some(acceptor),
    ));
    TlsHub {
        addr,
        org_id: new.org.id.to_string(),
        connector: TlsConnector::from(Arc::new(client)),
        shutdown,
        _db: db,
        _dir: TempDir(dir),
    }
}

impl TlsHub {
    /// Sends `request` over a verified TLS connection; the whole answer, read to its close.
    async fn exchange(&self, request: &[u8]) -> String {
        let tcp = TcpStream::connect(&self.addr).await.unwrap();
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let mut tls = self.connector.connect(name, tcp).await.unwrap();
        tls.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        // The server closes after a `Connection: close` answer; a TLS close_notify or a plain
        // close both end the read.
        let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut answer)).await;
        String::from_utf8_lossy(&answer).into_owned()
    }
}

const PROFRQ: &str = "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\n\
    ENCODING:USASCII\r\nCHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n\
    <OFX><SIGNONMSGSRQV1><SONRQ><DTCLIENT>20240201120000<USERID>anonymous00000000000000000000000\
    <USERPASS>anonymous00000000000000000000000<LANGUAGE>ENG<FI><ORG>X<FID>1</FI><APPID>QWIN\
    <APPVER>2700</SONRQ></SIGNONMSGSRQV1><PROFMSGSRQV1><PROFTRNRQ><TRNUID>p1<PROFRQ>\
    <CLIENTROUTING>NONE<DTPROFUP>19900101</PROFRQ></PROFTRNRQ></PROFMSGSRQV1></OFX>";

#[tokio::test]
async fn https_serves_the_api_and_ofx_with_a_self_signed_certificate() {
    let hub = tls_hub(Duration::from_secs(10)).await;
    let health = hub
        .exchange(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(
        health
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "over https the hub asks browsers to stay on https: {health}"
    );

    // aqbanking's shape: HTTP/1.0, a Host without the port.
    let post = format!(
        "POST /ofx/{} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ofx\r\n\
         Content-Length: {}\r\n\r\n{PROFRQ}",
        hub.org_id,
        PROFRQ.len()
    );
    let answer = hub.exchange(post.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    assert!(answer.contains("<CODE>0"), "{answer}");
    // The profile sends clients back to the https URL they came on.
    let url = format!("<URL>https://{}/ofx/{}", hub.addr, hub.org_id);
    assert!(answer.contains(&url), "{url} not in {answer}");
}

#[tokio::test]
async fn plain_http_and_silent_clients_on_the_tls_port_are_closed() {
    let hub = tls_hub(Duration::from_secs(1)).await;

    // Plain HTTP gets no HTTP answer: the handshake fails and the socket is closed.
    let mut plain = TcpStream::connect(&hub.addr).await.unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut got))
        .await
        .expect("closed")
        .ok();
    assert!(
        !String::from_utf8_lossy(&got).contains("200"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );

    // A client that connects and never starts the handshake is closed at the header deadline.
    let mut silent = TcpStream::connect(&hub.addr).await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0) | Err(_))),
        "still open after 5 s: {read:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));

    // And the hub still serves TLS clients afterwards.
    let health = hub
        .exchange(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
}
