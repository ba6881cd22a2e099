//! The platform side: built-in sandbox accounting platforms that link feeds the way the real
//! ones do. (Ingestion, the web pages and the real protocols come next.)

pub mod sandbox;
