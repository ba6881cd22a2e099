//! The accept loop: the router on hyper, with the limits `axum::serve` does not set.
//!
//! - Every request's headers must arrive within `header_timeout`, counted from when the
//!   connection starts waiting for them: a client that sends half a header, or holds an idle
//!   keep-alive connection, is closed instead of holding a socket for ever.
//! - At most `max_connections` are open at once, kept below the process's file-descriptor
//!   limit so the database and the log always have descriptors left. At the cap the loop stops
//!   accepting (new clients wait in the kernel's backlog) until a connection closes.
//!
//! Body and whole-request deadlines are tower layers in the router (`lib.rs::router`).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
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

/// Serves `app` on `listener` until `shutdown` is cancelled, then waits for open connections to
/// finish their requests (the caller bounds that wait).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
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
        tokio::spawn(async move {
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            // Errors here are the client's (a reset, a timeout, a malformed request); hyper has
            // already answered what it could.
            let _ = watcher.watch(connection).await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
