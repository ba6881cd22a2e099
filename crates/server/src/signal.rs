//! The operator's request to stop: what ends `bankfeeds serve` gracefully and interrupts a
//! bench run; and how a background loop waits between rounds without outliving it.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Resolves on Ctrl-C, or on SIGTERM where there are Unix signals.
pub async fn stop_requested() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Sleeps `d`, or less when `stop` is cancelled first; true when stopped. The background loops
/// (webhook delivery, live delivery) wait with it between rounds.
pub(crate) async fn pause(stop: &CancellationToken, d: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(d) => false,
        () = stop.cancelled() => true,
    }
}

/// A sending loop until `stop`: runs `round` again at once while it finds work, and waits
/// `idle` after a round that found none or failed (the failure logged, naming `what`).
pub(crate) async fn drain(
    stop: CancellationToken,
    idle: Duration,
    what: &str,
    mut round: impl AsyncFnMut() -> bankfeeds_store::StoreResult<bool>,
) {
    while !stop.is_cancelled() {
        match round().await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "{what} failed; retrying"),
        }
        if pause(&stop, idle).await {
            break;
        }
    }
}
