//! The storage conformance suite: every backend must pass the same tests, each on a fresh database.
//!
//! `backends` makes those databases (also used by the server's HTTP tests). The tests are plain
//! async functions over a `DynStore`, one file per storage trait (`orgs`, `connections`, …, and
//! `store` for `Store`'s own methods), with shared fixtures in `helpers`. `conformance_suite!`
//! turns every one of them into a `#[tokio::test]` for one backend.

pub mod accounts;
pub mod backends;
pub mod connections;
pub mod connectors;
pub mod console;
pub mod console_actions;
pub mod continuity;
pub mod credentials;
pub mod customers;
pub mod deliveries;
pub mod events;
pub mod fairness;
pub mod fi_configs;
mod helpers;
pub mod idempotency;
pub mod jobs;
pub mod link;
pub mod live;
pub mod live_consent;
pub mod live_limits;
pub mod ofx;
pub mod operators;
pub mod orgs;
pub mod otps;
pub mod platform_feeds;
pub mod retention;
pub mod status;
pub mod store;
pub mod transactions;
pub mod webhooks;

pub use backends::{TestDb, POSTGRES_URL_ENV, REQUIRE_POSTGRES_ENV};

/// A measurement, not a check, on both backends: `$sqlite` and `$postgres` are ignored tests
/// (run them with `--ignored --nocapture`) that call the invoking file's
/// `measure(Option<TestDb>, backend name)` on a fresh database named `$name`.
#[macro_export]
macro_rules! measured_on_both_backends {
    ($name:literal: $sqlite:ident, $postgres:ident) => {
        #[tokio::test]
        #[ignore = "a measurement; run with --ignored --nocapture"]
        async fn $sqlite() {
            measure($crate::backends::sqlite($name).await, "sqlite").await;
        }

        #[tokio::test]
        #[ignore = "a measurement; run with --ignored --nocapture"]
        async fn $postgres() {
            measure($crate::backends::postgres($name).await, "postgres").await;
        }
    };
}

/// Expands to one `#[tokio::test]` per suite case, run against `$backend` (a function returning
/// `Option<TestDb>`, `None` meaning the backend is not available here and the test is skipped).
#[macro_export]
macro_rules! conformance_suite {
    ($backend:path) => {
        $crate::__suite_cases!(__suite_tests; $backend);
    };
}

/// The suite's cases, by the module that holds them, handed to `$callback` (a macro of this
/// crate) after `$args`. A case may carry attributes, e.g. `#[ignore = "bug: …"]`. A unit test
/// below checks that every case function in the suite's files is listed here.
#[doc(hidden)]
#[macro_export]
macro_rules! __suite_cases {
    ($callback:ident; $($args:tt)*) => {
        $crate::$callback! { $($args)*;
            store: [
                migrations_are_idempotent,
                ping_answers,
                the_backend_names_itself,
            ],
            orgs: [
                orgs_round_trip,
                org_client_ids_are_unique,
                each_client_id_finds_only_its_own_organisation,
                orgs_list_every_organisation_once,
                client_secrets_rotate_and_the_old_one_stops_working,
                organisations_are_disabled_and_enabled_again,
                a_disabled_organisation_is_deleted_with_everything_it_owns,
            ],
            connections: [
                connections_round_trip,
                connection_tokens_are_unique,
                organisations_never_see_each_others_connections,
                deleted_connections_disappear_but_their_token_is_recognised,
                connection_pages_walk_every_row_once_in_creation_order,
                access_tokens_rotate,
                deleted_connections_leave_their_feeds_disconnected,
            ],
            continuity: [
                balances_are_checked_and_recorded_with_their_batch,
                a_refusing_platform_refuses_a_break_and_writes_nothing,
                the_continuity_report_finds_every_injected_break_and_no_other,
                closed_days_are_declared_and_read_with_the_posting_days,
            ],
            customers: [
                customers_round_trip_update_and_delete,
                unlinking_a_customer_connection_deactivates_its_feeds,
                customer_tokens_are_stored_hashed,
                organisations_never_see_each_others_customers,
            ],
            accounts: [
                accounts_round_trip,
                internal_ids_are_unique_per_connection_unless_overridden,
                parents_must_be_on_the_same_connection,
                patches_merge_and_clear_fields,
                account_lists_filter_sort_and_page,
                disconnected_accounts_leave_every_company,
                patches_may_pause_the_feed,
                accounts_are_never_seen_through_another_connection,
                feed_states_apply_only_to_live_accounts,
            ],
            transactions: [
                applying_a_batch_stores_it_once,
                refused_batches_write_only_the_job_outcome,
                transaction_lists_filter_and_page,
                a_jobs_ingestion_counts_its_own_transactions,
            ],
            jobs: [
                jobs_run_one_at_a_time_per_account_in_arrival_order,
                expired_leases_are_claimed_again,
                leases_are_renewed_and_released_by_their_holder,
                fail_job_finishes_once,
                finish_job_records_any_answer_once,
                get_job_is_scoped_to_the_organisation,
                connection_jobs_list_newest_first,
            ],
            fairness: [
                a_backlog_does_not_delay_another_organisations_job,
                a_single_worker_alternates_between_organisations,
                concurrent_fair_claimers_take_each_job_once_in_account_order,
            ],
            idempotency: [
                idempotent_account_writes_replay_and_refuse_reuse,
                idempotent_job_submission_replays,
                idempotent_connection_creation_replays,
                idempotent_account_updates_replay,
            ],
            link: [
                link_flow_binds_and_activates_feeds,
                link_refusals_change_nothing,
                a_challenge_binds_only_from_its_browser,
                concurrent_binds_use_a_challenge_once,
                a_deleted_connection_cannot_complete_a_link,
                mapped_feeds_join_the_linked_company,
            ],
            connectors: [
                connector_settings_round_trip_and_stay_per_org_and_platform,
            ],
            live: [
                live_tokens_are_replaced_by_compare_and_set,
                live_feeds_round_trip_and_show_their_state,
                statements_chain_their_balances_and_take_each_transaction_once,
                a_first_cut_smaller_than_the_backlog_opens_below_all_of_it,
                claims_take_each_accounts_oldest_statement_once,
                two_claimers_never_hold_one_statement,
            ],
            live_limits: [
                instances_share_one_budget_per_tenant,
                a_hold_stops_the_tenant_for_everyone_until_it_ends,
            ],
            live_consent: [
                a_consent_is_used_once_then_completed_into_pending_feeds,
                deleting_queues_one_feed_deletion_in_the_same_transaction,
                a_stopped_feed_restarts_and_cuts_its_refused_lines_again,
                a_restarted_instance_frees_only_its_own_leases,
                a_consent_for_another_tenant_asks_for_new_feed_connections,
                untried_statements_go_with_their_feed_connection_and_are_cut_again,
            ],
            fi_configs: [
                fi_configs_round_trip_and_replace,
                organisations_never_see_each_others_fi_configs,
            ],
            console: [
                console_reads_count_and_find_only_their_organisations_data,
            ],
            console_actions: [
                console_actions_record_their_operator,
                feed_days_and_webhook_health_are_the_organisations,
            ],
            operators: [
                operators_are_per_organisation_and_set_up_once,
                sessions_expire_are_revoked_and_die_with_their_operator,
                failed_sign_ins_lock_an_email_until_the_lock_ends,
            ],
            otps: [
                otps_are_single_use_and_expire,
                concurrent_consumers_get_an_otp_once,
                concurrent_issuers_leave_one_active_otp,
                otps_issued_alongside_leave_earlier_ones_valid,
                otps_answer_with_their_own_organisation_and_connection,
                a_new_otp_supersedes_an_expired_unused_one,
            ],
            credentials: [
                credentials_are_stored_hashed_and_revoked_together,
                revoking_leaves_later_sets_and_other_organisations_alone,
                a_username_is_never_stored_twice,
            ],
            ofx: [
                ofx_credentials_are_hashed_replaced_and_revoked,
                failed_ofx_signons_lock_the_user_until_the_lock_expires,
                downloads_mark_only_what_was_returned,
                trnuids_are_judged_per_user_and_forgotten_after_their_horizon,
            ],
            platform_feeds: [
                feeds_are_ingested_as_statements_once,
                concurrent_syncs_take_each_transaction_once,
                unlinked_feeds_go_inactive_and_stop_syncing,
                scheduled_syncs_find_the_feeds_due,
                statements_belong_to_their_feed,
                statements_are_periods_by_posting_day,
                a_break_before_the_first_sync_shows_as_a_difference,
                a_break_before_the_window_is_not_the_first_statements,
            ],
            retention: [
                spent_live_consents_are_deleted,
                expired_link_secrets_are_deleted_after_their_horizon,
                idempotency_keys_are_kept_while_their_job_waits,
                finished_jobs_lose_their_bodies_after_their_horizon,
                a_purge_deletes_only_its_own_kind,
            ],
            status: [
                status_counts_migrations_jobs_and_feeds_across_organisations,
            ],
            events: [
                account_changes_append_events,
                organisations_never_see_each_others_events,
                event_pages_walk_every_event_once_in_commit_order,
            ],
            webhooks: [
                webhooks_round_trip,
                an_organisation_has_a_bounded_number_of_webhooks,
                a_webhook_creation_replays_under_its_idempotency_key,
                webhook_secrets_are_listed_and_replaced_only_if_unchanged,
                the_events_feed_pages_every_event_once_in_order,
                connections_and_feeds_record_their_lifecycle_events,
            ],
            deliveries: [
                deliveries_follow_filters_and_go_in_order_per_endpoint,
                two_claimers_never_send_one_delivery_twice,
                an_endpoint_failing_long_enough_is_disabled_with_an_event,
                recover_sends_again_what_was_fanned_out_since,
                retention_purges_webhook_history_but_never_pending_deliveries,
                a_delivery_handed_back_counts_no_try,
            ],
        }
    };
}

/// One `#[tokio::test]` per case listed by `__suite_cases!`, on `$backend`.
#[doc(hidden)]
#[macro_export]
macro_rules! __suite_tests {
    ($backend:path; $($module:ident: [$($(#[$attr:meta])* $case:ident),* $(,)?]),* $(,)?) => {
        $($(
            $(#[$attr])*
            #[tokio::test]
            async fn $case() {
                let Some(db) = $backend(stringify!($case)).await else { return };
                $crate::$module::$case(db.store.clone()).await;
            }
        )*)*
    };
}

/// `(module, case)` for every case listed by `__suite_cases!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __suite_case_names {
    (; $($module:ident: [$($(#[$attr:meta])* $case:ident),* $(,)?]),* $(,)?) => {
        &[$($((stringify!($module), stringify!($case)),)*)*]
    };
}

#[cfg(test)]
mod registration {
    use std::collections::BTreeSet;

    /// Each module's source, as compiled: a case is a `pub async fn NAME(store: DynStore)`.
    const SOURCES: &[(&str, &str)] = &[
        ("accounts", include_str!("accounts.rs")),
        ("connections", include_str!("connections.rs")),
        ("connectors", include_str!("connectors.rs")),
        ("console", include_str!("console.rs")),
        ("console_actions", include_str!("console_actions.rs")),
        ("continuity", include_str!("continuity.rs")),
        ("credentials", include_str!("credentials.rs")),
        ("customers", include_str!("customers.rs")),
        ("events", include_str!("events.rs")),
        ("webhooks", include_str!("webhooks.rs")),
        ("deliveries", include_str!("deliveries.rs")),
        ("fairness", include_str!("fairness.rs")),
        ("fi_configs", include_str!("fi_configs.rs")),
        ("helpers", include_str!("helpers.rs")),
        ("idempotency", include_str!("idempotency.rs")),
        ("jobs", include_str!("jobs.rs")),
        ("link", include_str!("link.rs")),
        ("live", include_str!("live.rs")),
        ("live_consent", include_str!("live_consent.rs")),
        ("live_limits", include_str!("live_limits.rs")),
        ("ofx", include_str!("ofx.rs")),
        ("operators", include_str!("operators.rs")),
        ("orgs", include_str!("orgs.rs")),
        ("otps", include_str!("otps.rs")),
        ("platform_feeds", include_str!("platform_feeds.rs")),
        ("retention", include_str!("retention.rs")),
        ("status", include_str!("status.rs")),
        ("store", include_str!("store.rs")),
        ("transactions", include_str!("transactions/apply.rs")),
        ("transactions", include_str!("transactions/read.rs")),
    ];

    #[test]
    fn every_case_in_the_suite_files_runs_on_every_backend() {
        let listed: &[(&str, &str)] = crate::__suite_cases!(__suite_case_names;);
        let listed: BTreeSet<(&str, &str)> = listed.iter().copied().collect();
        let mut defined = BTreeSet::new();
        for (module, source) in SOURCES {
            for line in source.lines() {
                if let Some(rest) = line.strip_prefix("pub async fn ") {
                    if let Some((name, _)) = rest.split_once("(store: DynStore)") {
                        defined.insert((*module, name));
                    }
                }
            }
        }
        assert_eq!(
            listed, defined,
            "conformance_suite! must list exactly the suite's cases"
        );
        let files: BTreeSet<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".rs") && n != "lib.rs" && n != "backends.rs")
            .collect();
        let checked: BTreeSet<_> = SOURCES
            .iter()
            .filter(|(m, _)| *m != "transactions")
            .map(|(m, _)| format!("{m}.rs"))
            .chain(["transactions.rs".to_owned()])
            .collect();
        assert_eq!(files, checked, "a new file must be added to SOURCES");
    }
}
