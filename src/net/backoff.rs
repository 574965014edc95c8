//! Exponential backoff between attempts, and the jitter that keeps many clients out of step.

use std::time::Duration;

/// The longest wait between two attempts, however many attempts came before.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// The wait before retry number `retry` (1-based): `base`, `2·base`, `4·base`, … capped at
/// [`MAX_RETRY_DELAY`].
pub fn retry_delay(base: Duration, retry: u32) -> Duration {
    let factor = 1u32
        .checked_shl(retry.saturating_sub(1))
        .unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(MAX_RETRY_DELAY)
}

/// `delay` scaled by a random factor in [0.5, 1) (`random` in [0, 1)): up to half is taken off,
/// so many clients that failed together do not all try again together.
pub fn jitter(delay: Duration, random: f64) -> Duration {
    delay.mul_f64(0.5 + 0.5 * random.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps() {
        let base = Duration::from_millis(1000);
        let delays: Vec<u64> = (1..=7)
            .map(|r| retry_delay(base, r).as_millis() as u64)
            .collect();
        assert_eq!(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        assert_eq!(retry_delay(base, 200), MAX_RETRY_DELAY);
        assert_eq!(retry_delay(Duration::ZERO, 3), Duration::ZERO);
    }
}
