//! `POST …/accounts/{id}/live_feed/restart`: the FI restarts a live feed that stopped on a
//! refused statement (`invalid-end-balance`, …) once it fixed the cause. The refused
//! statements' transactions are cut again from where the last delivered statement ended
//! (`LiveStore::restart_live_feed`), so nothing is skipped; a rejected feed connection or a
//! revoked consent needs the customer instead (`LIVE_FEED_NOT_STOPPED`).

use axum::extract::State;
use axum::Json;
use bankfeeds_domain::live::RestartRefusal;
use bankfeeds_domain::BankFeedAccountId;
use bankfeeds_wire::accounts::LiveFeedEnvelopeOut;

use super::accounts::live_feed_out;
use crate::http::auth::ConnectionAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::path::InPath;
use crate::http::responses::Unauthorized;
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/versioned/accounting/bank_feeds/accounts/{id}/live_feed/restart",
    tag = "bank feed accounts",
    params(InPath<BankFeedAccountId>, crate::rutter::connections::AccessTokenParam),
    responses(
        (status = 200, body = LiveFeedEnvelopeOut),
        (status = 400, description = "`INVALID_ID`", body = crate::http::error::ErrorOut),
        (status = 409, description = "`NO_LIVE_FEED`: the account is not delivered live; `LIVE_FEED_NOT_STOPPED`: only a stopped feed restarts", body = crate::http::error::ErrorOut),
        (status = 410, description = "`BANK_FEED_ACCOUNT_NOT_FOUND`: no such account on this connection", body = crate::http::error::ErrorOut),
        Unauthorized,
    ),
)]
pub async fn restart(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    InPath(id): InPath<BankFeedAccountId>,
) -> ApiResult<Json<LiveFeedEnvelopeOut>> {
    let account = super::accounts::find_account(&state, &auth, id).await?;
    let restarted = state
        .store
        .restart_live_feed(auth.connection.id, account.id, state.clock.now())
        .await?
        .map_err(|refusal| match refusal {
            RestartRefusal::NoLiveFeed => ApiError::conflict(
                refusal.code(),
                "this account is not delivered live to its platform",
            ),
            RestartRefusal::NotStopped(now) => ApiError::conflict(
                refusal.code(),
                format!(
                    "only a stopped live feed restarts; this one is {}",
                    now.as_str()
                ),
            ),
        })?;
    tracing::info!(account_id = %account.id, "live feed restarted by the FI");
    Ok(Json(LiveFeedEnvelopeOut {
        live_feed: live_feed_out(restarted),
    }))
}
