//! Graceful shutdown: after the first SIGTERM/SIGINT running jobs may finish for
//! `host.shutdown_grace_secs`; then the rest end with `SHUTTING_DOWN` and the node exits.

use crate::host::Host;
use crate::say;

/// Where a graceful shutdown is.
pub(crate) enum Shutdown {
    /// No signal yet.
    Running,
    /// Running jobs may finish until then.
    Draining(tokio::time::Instant),
    /// The jobs left were ended; their error frames are sent until then.
    Closing(tokio::time::Instant),
}

/// What the event loop does after a shutdown step.
pub(crate) enum Step {
    /// Go on.
    Wait,
    /// Leave the event loop.
    Exit,
}

/// How long ended jobs' error frames get to reach their clients before the node exits.
const CLOSING: std::time::Duration = std::time::Duration::from_secs(1);

impl Shutdown {
    /// Moves on when the jobs finished or the grace ran out (checked every tick).
    pub(crate) fn step(&mut self, host: &Host) -> Step {
        let now = tokio::time::Instant::now();
        match *self {
            Shutdown::Running => Step::Wait,
            Shutdown::Draining(_) if host.running() == 0 => Step::Exit,
            Shutdown::Draining(until) if now >= until => {
                let ended = host.shut_down_running();
                say(format_args!(
                    "grace over: ended {ended} running job(s) with SHUTTING_DOWN"
                ));
                *self = Shutdown::Closing(now + CLOSING);
                Step::Wait
            }
            Shutdown::Closing(until) if now >= until => Step::Exit,
            Shutdown::Draining(_) | Shutdown::Closing(_) => Step::Wait,
        }
    }
}
