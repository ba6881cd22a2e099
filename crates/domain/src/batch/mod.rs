//! One batch of transactions pushed for one bank feed account: the rules it must keep
//! ([`rules`]) and the decision against what is already stored ([`decide`]).

pub mod decide;
pub mod rules;

pub use decide::{
    assemble, classify, decide_batch, fresh, is_pure_resend, BatchFacts, BatchItem, BatchRefusal,
    BatchRequest, Decision,
};
pub use rules::{codes, summary, validate_batch, AccountContext, Violation};
pub use rules::{MAX_TEXT_CHARS, MAX_TRANSACTION_ID_CHARS, SUMMARY_LIMIT};
