//! A token stream reading a job, counted as present (the job keeps generating for it) until it
//! is dropped.

use tokio::time::Instant;

use super::Job;

/// A token stream reading a job; the job counts it as present until it is dropped.
pub struct Reader(pub(super) std::sync::Arc<Job>);

impl Reader {
    /// The client was sent every token before `cursor`.
    pub fn delivered(&self, cursor: u64) {
        let mut r = self.0.readers();
        if cursor > r.delivered {
            r.delivered = cursor;
            drop(r);
            self.0.progress.send_modify(|v| *v += 1);
        }
    }
}

impl Job {
    /// Resolves once a token stream reads the job.
    pub(crate) async fn attended(&self) {
        let mut progress = self.progress.subscribe();
        while self.readers().open == 0 {
            if progress.changed().await.is_err() {
                futures::future::pending::<()>().await;
            }
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let mut r = self.0.readers();
        r.open = r.open.saturating_sub(1);
        r.left_at = Some(Instant::now());
        drop(r);
        self.0.progress.send_modify(|v| *v += 1);
    }
}
