//! Coming back after the server restarts. A server that stops on purpose closes every socket
//! with code 1012 ("service restart"): the machine then ends what the restart ended (the call,
//! the ringing, requests in flight) but keeps the login, and logs in again with the same
//! credentials after a pause that grows (the first spread by the glue's random offset, so that
//! thousands of clients do not all return in the same instant). The page sees CALL_END if it
//! was in a call, and an ERROR only if the server does not come back.

use std::time::Duration;

use super::{Effect, Event, Machine, Phase, Refusal};

/// Attempts before giving up: with the pauses doubling to [`LONGEST_PAUSE`], about five minutes.
pub const ATTEMPTS: u32 = 12;
pub const LONGEST_PAUSE: Duration = Duration::from_secs(30);

/// A restart being waited out.
#[derive(Clone, Copy, Debug)]
pub(super) struct Resuming {
    /// Attempts made so far.
    pub attempt: u32,
    /// The first pause; later ones double it.
    pub first_pause: Duration,
    /// When the next attempt is due; `None` while one is under way.
    pub due: Option<Duration>,
}

impl Machine {
    /// The server said it is restarting (`spread`: the glue's random first pause).
    pub(super) fn on_server_restarting(&mut self, spread: Duration) {
        let Some(login) = self.last_login.clone() else {
            self.on_disconnected("the server is restarting".into());
            return;
        };
        self.end_for_restart();
        self.last_login = Some(login);
        self.resuming = Some(Resuming {
            attempt: 0,
            first_pause: spread.max(Duration::from_millis(100)),
            due: Some(self.now + spread.max(Duration::from_millis(100))),
        });
    }

    /// What the restart ended: the call, the ringing, the requests; not the login.
    fn end_for_restart(&mut self) {
        if let Some((token, _)) = self.login.take() {
            self.complete(
                token,
                Err(Refusal::Connection("the server is restarting".into())),
            );
        }
        self.fail_pending(|| Refusal::Connection("the server is restarting".into()));
        if self.phase != Phase::Idle {
            self.end_and_report();
        }
        self.ringing.clear();
        self.user = None;
    }

    /// When the next attempt is due, if one is.
    pub(super) fn resume_deadline(&self) -> Option<Duration> {
        self.resuming.and_then(|r| r.due)
    }

    /// Starts the attempt that is due.
    pub(super) fn on_resume_timeout(&mut self) {
        let Some(mut resuming) = self.resuming else {
            return;
        };
        if resuming.due.is_none_or(|at| self.now < at) {
            return;
        }
        let Some(login) = self.last_login.clone() else {
            self.resuming = None;
            return;
        };
        resuming.attempt += 1;
        resuming.due = None;
        self.resuming = Some(resuming);
        self.login = Some((None, Some(login)));
        self.login_by = Some(self.now + super::requests::LOG_IN_WITHIN);
        self.out.push_back(Effect::OpenSocket);
    }

    /// An attempt failed to reach the server: try again later, or give up after [`ATTEMPTS`].
    /// True if the failure was an attempt's.
    pub(super) fn resume_failed(&mut self, reason: &str) -> bool {
        let Some(mut resuming) = self.resuming else {
            return false;
        };
        self.login = None;
        self.login_by = None;
        if resuming.attempt >= ATTEMPTS {
            self.give_up_resuming(Refusal::Connection(
                format!("the server did not come back after restarting: {reason}").into(),
            ));
            return true;
        }
        let pause = resuming
            .first_pause
            .saturating_mul(1 << resuming.attempt.min(16))
            .min(LONGEST_PAUSE);
        resuming.due = Some(self.now + pause);
        self.resuming = Some(resuming);
        self.out.push_back(Effect::Closed);
        true
    }

    /// The server came back but refused the login (the sig expired meanwhile, say).
    pub(super) fn give_up_resuming(&mut self, why: Refusal) {
        self.resuming = None;
        self.last_login = None;
        self.login = None;
        self.login_by = None;
        self.out.push_back(Effect::Closed);
        self.emit(Event::Error(why));
    }

    /// The login of an attempt succeeded: the session goes on.
    pub(super) fn resumed(&mut self) {
        self.resuming = None;
    }
}
