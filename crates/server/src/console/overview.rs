//! The overview (`/console`): the organisation's connections by platform and state, its feeds
//! linked and pending, transactions pushed and ingested per day over the last 14 days (an SVG
//! bar chart drawn here, no JavaScript), its stale feeds (`domain::console::is_stale`, the
//! continuity report's rule over a bounded window), its failed jobs in the last 24 hours, and
//! its webhook delivery health when it has endpoints.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use bankfeeds_domain::console::{
    bar_heights, chart_start, fill_days, is_stale, stale_window_start, ConnectionState, DayCount,
    FeedCounts, WebhookHealth, FAILED_JOBS_WINDOW, STALE_WINDOW_DAYS,
};
use bankfeeds_domain::{OrgId, Platform};
use bankfeeds_store::{DynStore, StoreResult};
use chrono::NaiveDate;

use super::ConsoleSession;
use crate::state::AppState;
use crate::web::{self, Chrome, Csrf, PageError};

/// The chart's plot area, in SVG units.
const PLOT_HEIGHT: u32 = 120;
const SLOT_WIDTH: u32 = 40;
const BAR_WIDTH: u32 = 14;
const TOP: u32 = 16;

pub(super) struct PlatformRow {
    pub name: &'static str,
    pub linked: u64,
    pub pending: u64,
}

/// One bar of the chart, placed.
pub(super) struct Bar {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    pub value: u64,
    pub class: &'static str,
    pub label: String,
}

pub(super) struct Chart {
    pub width: u32,
    pub height: u32,
    pub baseline: u32,
    pub bars: Vec<Bar>,
    /// `(x, text)` of each day's label under its pair of bars.
    pub labels: Vec<(u32, String)>,
    pub days: Vec<DayCount>,
}

impl Chart {
    fn new(days: Vec<DayCount>) -> Self {
        let pushed: Vec<u64> = days.iter().map(|d| d.pushed).collect();
        let ingested: Vec<u64> = days.iter().map(|d| d.ingested).collect();
        // Both series on one scale, so the bars compare.
        let all: Vec<u64> = pushed.iter().chain(&ingested).copied().collect();
        let heights = bar_heights(&all, PLOT_HEIGHT);
        let n = days.len();
        let baseline = TOP + PLOT_HEIGHT;
        let mut bars = Vec::with_capacity(2 * n);
        let mut labels = Vec::with_capacity(n);
        for (i, day) in days.iter().enumerate() {
            let slot = u32::try_from(i).unwrap_or(0) * SLOT_WIDTH;
            for (k, (value, class, what)) in [
                (day.pushed, "pushed", "pushed"),
                (day.ingested, "ingested", "ingested"),
            ]
            .into_iter()
            .enumerate()
            {
                let height = heights[k * n + i];
                bars.push(Bar {
                    x: slot + 5 + u32::try_from(k).unwrap_or(0) * (BAR_WIDTH + 2),
                    y: baseline - height,
                    height,
                    value,
                    class,
                    label: format!("{}: {value} {what}", day.day),
                });
            }
            labels.push((slot + SLOT_WIDTH / 2, day.day.format("%d").to_string()));
        }
        Chart {
            width: SLOT_WIDTH * u32::try_from(n).unwrap_or(0),
            height: baseline + 20,
            baseline,
            bars,
            labels,
            days,
        }
    }
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    csrf: String,
    email: String,
    org_name: String,
    platforms: Vec<PlatformRow>,
    connections_linked: u64,
    connections_pending: u64,
    feeds: FeedCounts,
    chart: Chart,
    pushed_total: u64,
    ingested_total: u64,
    failed_jobs: u64,
    stale_feeds: usize,
    stale_window_days: u64,
    webhooks: WebhookHealth,
}

pub(super) async fn page(
    State(state): State<AppState>,
    session: ConsoleSession,
    csrf: Csrf,
) -> Result<Response, PageError> {
    let org = session.operator.org_id;
    let now = state.clock.now();
    let store = &state.store;
    let org_name = store
        .get_org(org)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let counts = store.connection_counts(org).await?;
    let mut platforms: Vec<PlatformRow> = Vec::new();
    for p in Platform::ALL {
        let of = |s: ConnectionState| {
            counts
                .iter()
                .filter(|c| c.platform == p && c.state == s)
                .map(|c| c.count)
                .sum::<u64>()
        };
        let (linked, pending) = (of(ConnectionState::Linked), of(ConnectionState::Pending));
        if linked + pending > 0 {
            platforms.push(PlatformRow {
                name: p.display_name(),
                linked,
                pending,
            });
        }
    }
    let days = fill_days(now, &store.daily_counts(org, chart_start(now)).await?);
    let stale_feeds = stale_feeds(store, org, now.date_naive()).await?;
    let page = OverviewPage {
        chrome: super::chrome("Overview"),
        csrf: csrf.token().to_owned(),
        email: session.operator.email,
        org_name,
        connections_linked: platforms.iter().map(|p| p.linked).sum(),
        connections_pending: platforms.iter().map(|p| p.pending).sum(),
        platforms,
        feeds: store.feed_counts(org).await?,
        pushed_total: days.iter().map(|d| d.pushed).sum(),
        ingested_total: days.iter().map(|d| d.ingested).sum(),
        chart: Chart::new(days),
        failed_jobs: store
            .count_failed_jobs(org, now - FAILED_JOBS_WINDOW)
            .await?,
        stale_feeds,
        stale_window_days: STALE_WINDOW_DAYS,
        webhooks: store.webhook_health(org, now - FAILED_JOBS_WINDOW).await?,
    };
    Ok(csrf.attach(web::render(&page)?, &state))
}

/// How many of the organisation's feeds are stale `today` (`domain::console::is_stale`, over
/// the window of posting days it reads): the overview's figure, and `bankfeeds status`'s summed
/// over every organisation.
pub async fn stale_feeds(store: &DynStore, org: OrgId, today: NaiveDate) -> StoreResult<usize> {
    Ok(store
        .feed_days(org, stale_window_start(today))
        .await?
        .iter()
        .filter(|f| is_stale(f, today))
        .count())
}
