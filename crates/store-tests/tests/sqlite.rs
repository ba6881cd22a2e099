//! The conformance suite on SQLite: always runs.
bankfeeds_store_tests::conformance_suite!(bankfeeds_store_tests::backends::sqlite);
