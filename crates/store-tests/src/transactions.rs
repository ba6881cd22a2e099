//! `TransactionStore`, in two files: applying batches (`apply`), and reading the stored
//! transactions back and marking them ingested (`read`).

mod apply;
mod read;

pub use apply::*;
pub use read::*;
