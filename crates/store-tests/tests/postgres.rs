//! The conformance suite on PostgreSQL: runs when `BANKFEEDS_TEST_POSTGRES_URL` names a server,
//! and says it was skipped otherwise.
bankfeeds_store_tests::conformance_suite!(bankfeeds_store_tests::backends::postgres);
