//! The storage conformance suite: every backend must pass the same tests, each on a fresh database.
//!
//! `backends` makes those databases (also used by the server's HTTP tests); `suite` holds the
//! tests as plain async functions over a `DynStore`; `conformance_suite!` turns them into
//! `#[tokio::test]`s for one backend.

pub mod accounts;
pub mod backends;
pub mod customers;
pub mod ingest;
pub mod jobs;
pub mod link;
pub mod link_flow;
pub mod suite;

pub use backends::{TestDb, POSTGRES_URL_ENV, REQUIRE_POSTGRES_ENV};

/// Expands to one `#[tokio::test]` per suite case, run against `$backend` (a function returning
/// `Option<TestDb>`, `None` meaning the backend is not available here and the test is skipped).
#[macro_export]
macro_rules! conformance_suite {
    ($backend:path) => {
        $crate::conformance_suite!(@cases $backend;
            migrations_are_idempotent,
            ping_answers,
            orgs_round_trip,
            org_client_ids_are_unique,
            connections_round_trip,
            connection_tokens_are_unique,
            organisations_never_see_each_others_connections,
            deleted_connections_disappear_but_their_token_is_recognised,
            connection_pages_walk_every_row_once_in_creation_order,
            access_tokens_rotate,
        );
        $crate::conformance_suite!(@accounts $backend;
            accounts_round_trip,
            internal_ids_are_unique_per_connection_unless_overridden,
            parents_must_be_on_the_same_connection,
            patches_merge_and_clear_fields,
            account_lists_filter_sort_and_page,
            idempotent_account_writes_replay_and_refuse_reuse,
            account_changes_append_events,
        );
        $crate::conformance_suite!(@jobs $backend;
            jobs_run_one_at_a_time_per_account_in_arrival_order,
            expired_leases_are_claimed_again,
            applying_a_batch_stores_it_once,
            refused_batches_write_only_the_job_outcome,
            fail_job_finishes_once,
            transaction_lists_filter_and_page,
            idempotent_job_submission_replays,
            get_job_is_scoped_to_the_organisation,
        );
        $crate::conformance_suite!(@link $backend;
            fi_configs_round_trip_and_replace,
            otps_are_single_use_and_expire,
            concurrent_consumers_get_an_otp_once,
            concurrent_issuers_leave_one_active_otp,
        );
        $crate::conformance_suite!(@link_flow $backend;
            link_flow_binds_and_activates_feeds,
            link_refusals_change_nothing,
            concurrent_binds_use_a_challenge_once,
            a_deleted_connection_cannot_complete_a_link,
        );
        $crate::conformance_suite!(@customers $backend;
            customers_round_trip_update_and_delete,
            unlinking_a_customer_connection_deactivates_its_feeds,
            connection_jobs_list_newest_first,
            credentials_are_stored_hashed_and_revoked_together,
            otps_issued_alongside_leave_earlier_ones_valid,
            customer_tokens_are_stored_hashed,
        );
        $crate::conformance_suite!(@ingest $backend;
            feeds_are_ingested_as_statements_once,
            concurrent_syncs_take_each_transaction_once,
            unlinked_feeds_go_inactive_and_stop_syncing,
            scheduled_syncs_find_the_feeds_due,
            disconnected_accounts_leave_every_company,
            deleted_connections_take_their_feeds_with_them,
            mapped_feeds_join_the_linked_company,
        );
    };
    (@accounts $backend:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(db) = $backend(stringify!($case)).await else { return };
                $crate::accounts::$case(db.store.clone()).await;
            }
        )*
    };
    (@jobs $backend:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(db) = $backend(stringify!($case)).await else { return };
                $crate::jobs::$case(db.store.clone()).await;
            }
        )*
    };
    (@link $backend:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(db) = $backend(stringify!($case)).await else { return };
                $crate::link::$case(db.store.clone()).await;
            }
        )*
    };
    (@customers $backend:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(db) = $backend(stringify!($case)).await else { return };
                $crate::customers::$case(db.store.clone()).await;
            }
        )*
    };
    (@ingest $backend:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(db) = $backend(stringify!($case)).await else { return };
                $crate::ingest::$case(db.store.clone()).await;
            }
        )*
    };
    (@link_flow $backend:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(db) = $backend(stringify!($case)).await else { return };
                $crate::link_flow::$case(db.store.clone()).await;
            }
        )*
    };
    (@cases $backend:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(db) = $backend(stringify!($case)).await else { return };
                $crate::suite::$case(db.store.clone()).await;
            }
        )*
    };
}
