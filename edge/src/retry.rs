//! When a call to Zoho is tried again: only reads (GET: safe and idempotent), only on failures
//! that a moment may cure (a dropped connection, 500, 502, 503, 504), at most twice, with growing
//! pauses. Writes are never retried here: a create retried blindly could add a student twice
//! (the app's idempotency key covers a retried submit instead).

/// Pauses before the second and third attempts, in milliseconds.
pub const BACKOFF_MS: [u64; 2] = [100, 400];

/// What an attempt came to, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// An answer with this HTTP status.
    Status(u16),
    /// The connection failed before an answer.
    Network,
    /// No answer in time: retrying would only double the wait.
    Timeout,
}

/// The pause before the next attempt, or `None` to stop. `attempt` counts from 0.
pub fn pause_before_retry(is_get: bool, outcome: Attempt, attempt: usize) -> Option<u64> {
    let transient = match outcome {
        Attempt::Network => true,
        Attempt::Status(status) => matches!(status, 500 | 502 | 503 | 504),
        Attempt::Timeout => false,
    };
    if is_get && transient {
        BACKOFF_MS.get(attempt).copied()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_retried_twice_on_transient_failures() {
        for outcome in [Attempt::Network, Attempt::Status(500), Attempt::Status(503)] {
            assert_eq!(pause_before_retry(true, outcome, 0), Some(100));
            assert_eq!(pause_before_retry(true, outcome, 1), Some(400));
            assert_eq!(pause_before_retry(true, outcome, 2), None);
        }
    }

    #[test]
    fn writes_timeouts_and_answers_are_not_retried() {
        assert_eq!(pause_before_retry(false, Attempt::Network, 0), None);
        assert_eq!(pause_before_retry(false, Attempt::Status(503), 0), None);
        assert_eq!(pause_before_retry(true, Attempt::Timeout, 0), None);
        for status in [200, 204, 400, 401, 403, 404, 429] {
            assert_eq!(
                pause_before_retry(true, Attempt::Status(status), 0),
                None,
                "{status}"
            );
        }
    }
}
