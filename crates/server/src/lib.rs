//! The bankfeeds HTTP server.
//!
//! `main` (in the CLI crate) loads the config, sets up telemetry and calls [`run`]; tests build
//! an [`AppState`] on a store of their own and call [`serve`] on `127.0.0.1:0`.

pub mod client_limit;
pub mod codat;
pub mod config;
pub mod console;
pub mod demo_bank;
pub mod health;
pub mod http;
pub mod jobs;
pub mod link;
pub mod listener;
pub mod metrics;
pub mod ofx;
pub mod openapi;
pub mod platforms;
pub mod retention;
pub mod rutter;
pub mod sandbox_access;
pub mod sealed;
pub mod signal;
pub mod state;
pub mod statements;
pub mod telemetry;
pub mod tls;
pub mod web;
pub mod webhooks;
pub mod xero;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use bankfeeds_domain::job::JobKind;
use bankfeeds_domain::SystemClock;
use bankfeeds_store::{Durability, DynStore};
use bankfeeds_store_postgres::PostgresDb;
use bankfeeds_store_sqlite::SqliteDb;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use config::Config;
pub use http::error::ApiError;
pub use state::AppState;

/// Opens the database the config names (SQLite or PostgreSQL, by URL scheme). Does not migrate.
pub async fn open_store(config: &Config) -> anyhow::Result<DynStore> {
    let store: DynStore = match config.backend()? {
        config::Backend::Sqlite => {
            let synchronous = match config.sqlite_synchronous {
                config::SqliteSynchronous::Full => bankfeeds_store_sqlite::Synchronous::Full,
                config::SqliteSynchronous::Normal => bankfeeds_store_sqlite::Synchronous::Normal,
            };
            Arc::new(SqliteDb::open(&config.database_url, synchronous).await?)
        }
        config::Backend::Postgres => {
            let on_unsafe = if config.postgres_allow_unsafe_settings {
                bankfeeds_store_postgres::UnsafeSettings::Allow
            } else {
                bankfeeds_store_postgres::UnsafeSettings::Refuse
            };
            Arc::new(
                PostgresDb::open(
                    &config.database_url,
                    config.database_max_connections,
                    on_unsafe,
                )
                .await?,
            )
        }
    };
    if let Durability::Reduced(why) = store.durability() {
        tracing::warn!(backend = store.backend(), "{why}");
    }
    Ok(store)
}

/// How long a request body may take to arrive.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(telemetry::request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(CatchPanicLayer::custom(|_panic| {
            tracing::error!("handler panicked");
            ApiError::internal_opaque().into_response()
        }))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::metrics::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::hsts::add,
        ))
        .layer(axum::middleware::from_fn(http::early_refusal::close_after))
        .layer(DefaultBodyLimit::max(http::extract::BODY_LIMIT))
        // A body must arrive in time too: the largest allowed at a slow ~140 kB/s.
        .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT));

    // The sandbox platforms and the demo bank exist only when turned on; otherwise their
    // paths are unknown routes like any other.
    let mut anonymous = Router::new().merge(link::router());
    if state.sandbox.is_some() {
        anonymous = anonymous
            .merge(platforms::sandbox::router(&state))
            .merge(demo_bank::router());
    }
    Router::new()
        .route("/", get(web::landing::page))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(http::metrics::get_metrics))
        .route(
            "/openapi.json",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    openapi::document(),
                )
            }),
        )
        .route(
            "/codat/openapi.json",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    codat::openapi::document(),
                )
            }),
        )
        // The API reference: Swagger UI (embedded in the binary) reading /openapi.json.
        .merge(
            utoipa_swagger_ui::SwaggerUi::new("/docs")
                .config(utoipa_swagger_ui::Config::from("/openapi.json")),
        )
        .merge(rutter::router().route_layer(axum::middleware::from_fn({
            // The Rutter door takes exactly the query parameters its document declares.
            let contract = http::query_contract::QueryContract::from_document(
                &<openapi::ApiDoc as utoipa::OpenApi>::openapi(),
            );
            move |req, next| http::query_contract::check(contract.clone(), req, next)
        })))
        .merge(anonymous.route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::auth::limit_anonymous,
        )))
        .merge(codat::router())
        .merge(ofx::router())
        .merge(console::router())
        .fallback({
            // An empty id segment of a Rutter-door operation is a malformed id, not a typo.
            let empty = http::empty_segment::EmptySegments::from_document(
                &<openapi::ApiDoc as utoipa::OpenApi>::openapi(),
            );
            move |method: axum::http::Method, uri: axum::http::Uri| async move {
                empty
                    .refusal(&method, uri.path())
                    .unwrap_or_else(ApiError::route_not_found)
            }
        })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(layers)
        .with_state(state)
}

/// Background job workers per instance: batches for one account run one at a time anyway, so a
/// few workers keep several accounts moving without crowding the database.
const JOB_WORKERS: usize = 2;

/// Serves until `shutdown` is cancelled, then lets in-flight requests finish for up to `grace`.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
    grace: Duration,
) -> anyhow::Result<()> {
    serve_with(
        listener,
        state,
        shutdown,
        grace,
        listener::Limits::default(),
    )
    .await
}

/// `serve` with the given socket-level limits.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
    grace: Duration,
    limits: listener::Limits,
) -> anyhow::Result<()> {
    serve_with_tls(listener, state, shutdown, grace, limits, None).await
}

/// `serve_with`, over TLS when `tls` is given.
pub async fn serve_with_tls(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
    grace: Duration,
    limits: listener::Limits,
    tls: Option<tls::TlsAcceptor>,
) -> anyhow::Result<()> {
    jobs::recover(&state).await?;
    if let Some(keyring) = &state.keyring {
        // Secrets kept as they were before a key ring was configured, or sealed under a key
        // since rotated out of first place, are sealed under the current key.
        let resealed = webhooks::secret::reseal_all(&state.store, keyring).await?;
        if resealed > 0 {
            tracing::info!(
                resealed,
                "webhook signing secrets sealed under the current key"
            );
        }
    }
    let workers_stop = CancellationToken::new();
    let mut workers = jobs::spawn_workers(&state, JOB_WORKERS, &workers_stop);
    let scheduler = state
        .sandbox_sync_tick
        .map(|tick| platforms::sandbox::sync::spawn(state.clone(), tick, workers_stop.clone()));
    let retention = state.retention.map(|(policy, every)| {
        retention::spawn(
            state.store.clone(),
            state.metrics.clone(),
            state.clock.clone(),
            policy,
            every,
            workers_stop.clone(),
        )
    });
    let deliveries = webhooks::worker::Worker::new(
        state.store.clone(),
        state.clock.clone(),
        state.metrics.clone(),
        (*state.webhooks).clone(),
        state.instance.to_string(),
        state.keyring.clone(),
    )?
    .spawn(workers_stop.clone())
    .await;
    // Live delivery needs sealed app credentials, so a hub without a key ring has no live
    // feed to serve.
    let live = match state.keyring.clone() {
        Some(keyring) => {
            let worker = xero::worker::LiveWorker {
                store: state.store.clone(),
                clock: state.clock.clone(),
                client: state.xero.clone(),
                keyring,
                holder: state.instance.to_string(),
                settings: (*state.live).clone(),
                metrics: state.metrics.clone(),
            };
            // Before any claim: what this instance held when it died is free again at once.
            worker.release_own_leases().await;
            Some(worker.spawn(&workers_stop))
        }
        None => None,
    };
    let app = router(state);
    let server = listener::serve(listener, app, limits, tls, shutdown.clone());
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result?,
        () = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_seconds = grace.as_secs(), "requests still running after the grace period; stopping");
        }
    }
    // Workers finish the job in hand (its transaction commits or rolls back whole) and stop.
    workers_stop.cancel();
    while workers.join_next().await.is_some() {}
    if let Some(scheduler) = scheduler {
        let _ = scheduler.await;
    }
    if let Some(retention) = retention {
        let _ = retention.await;
    }
    // A try in flight is dropped; its lease expires (or is freed at the next start) and it is
    // sent again: at least once.
    let mut deliveries = deliveries;
    deliveries.abort_all();
    while deliveries.join_next().await.is_some() {}
    // A statement in flight is dropped; its lease expires and it is sent again with the same
    // Idempotency-Key, which Xero answers as the same statement.
    if let Some(mut live) = live {
        live.abort_all();
        while live.join_next().await.is_some() {}
    }
    Ok(())
}

/// Who runs each kind of job: the door that accepts it.
pub fn job_runners() -> jobs::Runners<AppState> {
    jobs::Runners::new(|kind| match kind {
        JobKind::TransactionBatch => Arc::new(rutter::batch_job::BatchRunner),
        JobKind::CodatPush => Arc::new(codat::push::PushRunner),
        JobKind::AccountWrite => Arc::new(rutter::accounts::AccountWriteRunner),
    })
}

/// The state a hub serves with, as its config says, on an opened store.
pub fn app_state(config: &Config, store: DynStore) -> AppState {
    let mut state = AppState::new(
        store,
        Arc::new(SystemClock),
        config.public_base(),
        config.rate_limit_per_10s,
    );
    state.sandbox_sync = config.sandbox_schedule();
    state.instance = config.instance().into();
    state.retention = Some(config.retention());
    state.sandbox = config.sandbox_access().map(Arc::new);
    state.web_connect_intu_bid = config.web_connect_intu_bid.as_str().into();
    state.webhooks = Arc::new(config.webhook_settings());
    // Checked when the config was loaded.
    state.keyring = config.keyring().ok().flatten().map(Arc::new);
    // Xero's allowance per tenant is one for every instance on this database.
    let limiter = xero::TenantLimiter::shared(state.store.clone(), state.clock.clone());
    state.xero = Arc::new(xero::XeroClient::new(
        config.xero_endpoints(),
        Arc::new(limiter),
        Default::default(),
    ));
    state.live = Arc::new(config.live_settings());
    state.auth_failures =
        client_limit::AuthFailures::per_minute(config.auth_failures_per_minute).map(Arc::new);
    state.anonymous_limiter = client_limit::ClientLimiter::new(
        config.anonymous_rate_limit_per_10s,
        Duration::from_secs(10),
    )
    .map(Arc::new);
    state
}

/// Opens and migrates the database, then serves on `listener` until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // A bad certificate or key stops start-up before the database is touched.
    let tls = config.tls_acceptor()?;
    let store = open_store(&config).await?;
    store.migrate().await?;
    tracing::info!(
        listen = %listener.local_addr()?,
        database = store.backend(),
        tls = tls.is_some(),
        "bankfeeds serving"
    );
    let state = app_state(&config, store);
    serve_with_tls(
        listener,
        state,
        shutdown,
        Duration::from_secs(config.shutdown_grace_seconds),
        config.limits().fit_to_process(),
        tls,
    )
    .await?;
    tracing::info!("bankfeeds stopped");
    Ok(())
}
