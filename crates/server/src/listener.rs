//! The accept loop: the router on hyper, with the limits `axum::serve` does not set.
//!
//! - Every request's headers must arrive within `header_timeout`, counted from when the
//!   connection starts waiting for them: a client that sends half a header, or holds an idle
//!   keep-alive connection, is closed instead of holding a socket for ever.
//! - At most `max_connections` are open at once, kept below the process's file-descriptor
//!   limit so the database and the log always have descriptors left. At the cap the loop stops
//!   accepting (new clients wait in the kernel's backlog) until a connection closes.
//!
//! - With TLS (`tls.rs`), the handshake must finish within `header_timeout` too, in the
//!   connection's own task, so a client that opens a socket and says nothing holds neither the
//!   accept loop nor its connection slot for long.
//!
//! Body and whole-request deadlines are tower layers in the router (`lib.rs::router`).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// What one hub instance allows its clients at the socket level.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            max_connections: 1000,
        }
    }
}

/// Descriptors kept back from connections: the database (SQLite's file, WAL and shared memory
/// per pooled connection, or PostgreSQL's sockets), the listener, logs.
const RESERVED_DESCRIPTORS: u64 = 128;

impl Limits {
    /// Raises the soft file-descriptor limit to the hard one, and lowers `max_connections` to
    /// what then fits under it, saying so.
    pub fn fit_to_process(mut self) -> Self {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(nofile) => {
                let fits = nofile.saturating_sub(RESERVED_DESCRIPTORS).max(16);
                if (self.max_connections as u64) > fits {
                    tracing::warn!(
                        configured = self.max_connections,
                        file_descriptor_limit = nofile,
                        using = fits,
                        "max_connections lowered to fit the file-descriptor limit"
                    );
                    self.max_connections = fits as usize;
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read the file-descriptor limit"),
        }
        self
    }
}

/// Serves `app` on `listener` (over TLS when `tls` is given) until `shutdown` is cancelled, then
/// waits for open connections to finish their requests (the caller bounds that wait).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<crate::tls::TlsAcceptor>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    // HTTP/1.1 only: the automatic HTTP/2 detection waits for a client's first bytes with no
    // deadline at all, so an idle socket would never be closed. TLS terminators in front of the
    // hub speak HTTP/2 to browsers and HTTP/1.1 to the hub.
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and the like: wait for descriptors to free instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let builder = builder.clone();
        let watcher = graceful.watcher();
        // Handlers and middleware see the peer as axum's `ConnectInfo<SocketAddr>`.
        let service = TowerToHyperService::new(tower::Layer::layer(
            &axum::Extension(axum::extract::ConnectInfo(peer)),
            app.clone(),
        ));
        let tls = tls.clone();
        let handshake_deadline = limits.header_timeout;
        tokio::spawn(async move {
            // Errors here are the client's (a reset, a timeout, a malformed request, a failed
            // handshake); hyper has already answered what it could.
            match tls {
                None => serve_connection(&builder, watcher, stream, service).await,
                Some(tls) => {
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(handshake_deadline, tls.accept(stream)).await
                    {
                        serve_connection(&builder, watcher, stream, service).await;
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

type Service = TowerToHyperService<
    axum::middleware::AddExtension<Router, axum::extract::ConnectInfo<std::net::SocketAddr>>,
>;

/// One connection, plain or TLS, under the graceful-shutdown watcher.
async fn serve_connection<S>(
    builder: &auto::Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
    stream: S,
    service: Service,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let _ = watcher.watch(connection).await;
}
