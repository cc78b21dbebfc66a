//! API calls: checked here first, then sent and followed until the server answers, or until
//! it has not answered for too long.
//!
//! The server answers every request at once, so a request unanswered for [`ANSWER_WITHIN`]
//! (or a login for [`LOG_IN_WITHIN`]) means the connection is dead though the socket has not
//! noticed yet (a half-open TCP connection, a server stuck or gone). The machine then acts as
//! if the socket had closed: every request fails, a call ends, and the page hears an error,
//! rather than a promise that never settles and a call state the server may no longer share.

use std::time::Duration;

use super::{Effect, Event, Machine, Pending, Phase, Token};
use crate::protocol::{CallMsg, ClientMsg, GroupMsg, Login, Outcome, Refusal};

/// How long the server has to answer a request.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// How long opening the socket and logging in may take.
pub const LOG_IN_WITHIN: Duration = Duration::from_secs(15);

impl Machine {
    pub(super) fn on_request(&mut self, token: Token, msg: ClientMsg) {
        let sent = match msg {
            ClientMsg::Login(login) => self.start_login(token, login),
            ClientMsg::Call(msg) => self.call_request(token, msg),
            ClientMsg::Group(msg) => self.group_request(token, msg),
        };
        if let Err(refusal) = sent {
            self.complete(Some(token), Err(refusal));
        }
    }

    /// A login opens the socket first; the credentials go out once it is open.
    fn start_login(&mut self, token: Token, login: Login) -> Result<(), Refusal> {
        if self.user.is_some() || self.login.is_some() || self.resuming.is_some() {
            return Err(Refusal::AlreadyLoggedIn);
        }
        self.login = Some((Some(token), Some(login)));
        self.login_by = Some(self.now + LOG_IN_WITHIN);
        self.out.push_back(Effect::OpenSocket);
        Ok(())
    }

    /// The next moment a request or the login is given up on.
    pub(super) fn request_deadline(&self) -> Option<Duration> {
        let request = self
            .answer_by
            .iter()
            .find(|(_, req)| self.pending.contains_key(req))
            .map(|(at, _)| *at);
        let login = self.login.as_ref().and(self.login_by);
        request
            .into_iter()
            .chain(login)
            .chain(self.resume_deadline())
            .min()
    }

    /// Drops the deadlines of requests that have been answered, so the queue holds only
    /// requests in flight.
    pub(super) fn forget_answered(&mut self) {
        while let Some((_, req)) = self.answer_by.front() {
            if self.pending.contains_key(req) {
                break;
            }
            self.answer_by.pop_front();
        }
        if self.login.is_none() {
            self.login_by = None;
        }
    }

    /// A request or the login unanswered past its time: the connection is as good as closed.
    pub(super) fn on_request_timeout(&mut self) {
        let now = self.now;
        let login_late = self.login.is_some() && self.login_by.is_some_and(|at| now >= at);
        let request_late = self
            .answer_by
            .iter()
            .any(|(at, req)| now >= *at && self.pending.contains_key(req));
        if !(login_late || request_late) {
            return;
        }
        let why = if login_late {
            format!(
                "The server did not answer the login within {} s.",
                LOG_IN_WITHIN.as_secs()
            )
        } else {
            format!(
                "The server did not answer within {} s.",
                ANSWER_WITHIN.as_secs()
            )
        };
        self.answer_by.clear();
        self.out.push_back(Effect::Closed);
        self.on_disconnected(why);
    }

    pub(super) fn socket_open(&mut self) {
        if let Some(login) = self.login.as_mut().and_then(|(_, l)| l.take()) {
            self.last_login = Some(login.clone());
            self.out.push_back(Effect::Send(ClientMsg::Login(login)));
        }
    }

    fn group_request(&mut self, token: Token, mut msg: GroupMsg) -> Result<(), Refusal> {
        self.require_user()?;
        let req = self.next_req();
        *msg.req_mut() = req;
        self.pending.insert(req, (Some(token), Pending::Other));
        self.answer_by.push_back((self.now + ANSWER_WITHIN, req));
        self.out.push_back(Effect::Send(ClientMsg::Group(msg)));
        Ok(())
    }

    fn call_request(&mut self, token: Token, msg: CallMsg) -> Result<(), Refusal> {
        self.require_user()?;
        let pending = match &msg {
            CallMsg::Call {
                user_ids,
                call_type,
                ..
            } => {
                if user_ids.is_empty() {
                    return Err(Refusal::NobodyToCall);
                }
                Pending::Call(*call_type)
            }
            CallMsg::Accept { invite_id, .. } => Pending::Accept(self.ringing_id(invite_id)?),
            CallMsg::Reject { invite_id, .. } => Pending::Reject(self.ringing_id(invite_id)?),
            CallMsg::Hangup { .. } => {
                if self.phase == Phase::Idle && self.ringing.is_empty() {
                    // Nothing to hang up: done.
                    self.complete(Some(token), Ok(Outcome::default()));
                    return Ok(());
                }
                // Release devices at once; the server's answer only confirms.
                if self.phase != Phase::Idle {
                    self.end_locally();
                }
                Pending::Hangup
            }
            CallMsg::SwitchType { call_type, .. } => {
                if let Err(refusal) = self.check_switch(*call_type) {
                    self.emit(Event::Error(refusal.clone()));
                    return Err(refusal);
                }
                Pending::SwitchType(*call_type)
            }
            // Not requests: nothing comes back to wait for.
            CallMsg::Signal { .. } | CallMsg::Media { .. } => {
                self.send(msg);
                self.complete(Some(token), Ok(Outcome::default()));
                return Ok(());
            }
        };
        self.send_numbered(Some(token), msg, pending);
        Ok(())
    }

    /// Numbers `msg`, remembers what it was, and sends it.
    pub(super) fn send_numbered(
        &mut self,
        token: Option<Token>,
        mut msg: CallMsg,
        pending: Pending,
    ) {
        let req = self.next_req();
        if let Some(r) = msg.req_mut() {
            *r = req;
        }
        self.pending.insert(req, (token, pending));
        self.answer_by.push_back((self.now + ANSWER_WITHIN, req));
        self.send(msg);
    }

    fn require_user(&self) -> Result<(), Refusal> {
        match self.user {
            Some(_) => Ok(()),
            None => Err(Refusal::NotLoggedIn),
        }
    }

    fn ringing_id(&self, invite_id: &str) -> Result<String, Refusal> {
        if self.ringing.contains_key(invite_id) {
            Ok(invite_id.to_owned())
        } else {
            Err(Refusal::NotRingingForYou)
        }
    }
}
