//! Waiting for what a hub does in the background: a job, a delivery, a commit that
//! PostgreSQL's events feed lists once every older transaction has ended.

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

/// How long a test waits for a hub's background work.
const PATIENCE: Duration = Duration::from_secs(20);

/// Reads with `read`, every `every`, until `done` holds of the answer or [`PATIENCE`] has
/// passed; returns the last answer either way, for the caller's assertions to judge.
pub async fn poll<T, F, Fut>(every: Duration, mut read: F, done: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        let answer = read().await;
        if done(&answer) || Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(every).await;
    }
}

/// [`poll`] that fails the test with `what` and the last answer when `done` never holds.
pub async fn wait_until<T, F, Fut>(
    what: &str,
    every: Duration,
    read: F,
    done: impl Fn(&T) -> bool,
) -> T
where
    T: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let answer = poll(every, read, &done).await;
    assert!(done(&answer), "{what}: {answer:?}");
    answer
}
