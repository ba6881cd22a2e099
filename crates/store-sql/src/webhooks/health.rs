//! The organisation's webhook delivery health, for the console's overview: one statement.

use bankfeeds_domain::console::WebhookHealth;
use bankfeeds_domain::{OrgId, Timestamp};
use bankfeeds_store::StoreResult;

use crate::{DbInt, Exec, Sql};

#[derive(sqlx::FromRow)]
struct Row {
    endpoints: DbInt,
    disabled: DbInt,
    pending: DbInt,
    failed: DbInt,
}

pub async fn webhook_health(
    db: &mut impl Exec,
    org: OrgId,
    since: Timestamp,
) -> StoreResult<WebhookHealth> {
    let r: Row = db
        .fetch_one(
            Sql::new(
                "SELECT
                   (SELECT COUNT(*) FROM webhook_endpoints WHERE org_id = $1) AS endpoints,
                   (SELECT COUNT(*) FROM webhook_endpoints
                      WHERE org_id = $1 AND status = 'disabled') AS disabled,
                   (SELECT COUNT(*) FROM webhook_deliveries
                      WHERE org_id = $1 AND status = 'pending') AS pending,
                   (SELECT COUNT(*) FROM webhook_attempts
                      WHERE org_id = $1 AND attempted_at >= $2
                        AND outcome <> 'succeeded') AS failed",
            )
            .bind(org.as_uuid())
            .bind(since),
        )
        .await?;
    Ok(WebhookHealth {
        endpoints: r.endpoints.count(),
        disabled: r.disabled.count(),
        pending: r.pending.count(),
        failed_attempts: r.failed.count(),
    })
}
