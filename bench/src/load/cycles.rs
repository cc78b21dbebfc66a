//! One invite → accept → hang-up cycle between two idle clients, followed frame by frame.

use std::time::Instant;

use super::{note, Cycle, Event, Flavor, Frame, Incoming, Load, Outcome, Role};

impl Load {
    fn random(&mut self, below: usize) -> usize {
        // xorshift64*: plenty for picking pairs.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) % below as u64) as usize
    }

    fn take_idle(&mut self) -> usize {
        let i = self.random(self.idle.len());
        self.idle.swap_remove(i)
    }

    fn send(&mut self, user: usize, frame: String) {
        if let Some(tx) = &self.senders[user] {
            let _ = tx.send(frame);
        }
    }

    fn req(&mut self) -> u64 {
        self.next_req += 1;
        self.next_req
    }

    pub(super) fn start_cycle(&mut self) -> bool {
        if self.idle.len() < 2 {
            return false;
        }
        let caller = self.take_idle();
        let callee = self.take_idle();
        let id = self.next_cycle;
        self.next_cycle += 1;
        let room = 1_000_000 + (id % 1_000_000_000) as u32;
        self.roles[caller] = Role::Calling(id);
        self.roles[callee] = Role::Answering(id);
        let req = self.req();
        let (from, to) = (&self.names[caller], &self.names[callee]);
        let frame = match self.flavor {
            Flavor::Ours { .. } => {
                format!(
                    r#"{{"type":"call","req":{req},"userIDList":["{to}"],"callType":2,"timeout":30}}"#
                )
            }
            Flavor::Relay => format!(
                r#"{{"to":"{to}","type":"invited","inviteID":"{id:016x}","sponsor":"{from}","userIDList":["{to}"],"isFromGroup":false,"inviteData":{{"version":4,"callType":2,"roomID":{room}}},"timeout":30}}"#
            ),
        };
        self.cycles.insert(
            id,
            Cycle {
                caller,
                callee,
                room,
                started: Instant::now(),
                accepted: None,
            },
        );
        self.send(caller, frame);
        true
    }

    /// Moves the cycle of the event's user along, or records what went wrong.
    pub(super) fn handle(&mut self, event: Event, start: Instant, out: &mut Outcome) {
        let user = event.user;
        let frame = match event.what {
            Incoming::Frame(f) => f,
            Incoming::Unreadable(text) => {
                out.errors += 1;
                note(out, format!("unreadable frame: {text}"));
                return;
            }
            Incoming::Closed => {
                self.on_closed(user, out);
                return;
            }
        };
        let times = Times {
            at: event.at,
            start,
        };
        match (frame.kind.as_str(), self.roles[user]) {
            ("invited", Role::Answering(id)) => self.on_invited(id, frame, times, out),
            ("userEnter", Role::Calling(id)) => self.on_user_enter(user, id, &frame, times, out),
            ("callEnd", Role::Answering(id)) => self.on_call_end(id, out),
            (
                "error" | "lineBusy" | "noResp" | "reject" | "callingTimeout" | "callingCancel"
                | "kickedOut",
                _,
            ) => self.on_failure(user, frame, out),
            _ => {}
        }
    }

    /// An unexpected disconnection is an error; the user takes no further part.
    fn on_closed(&mut self, user: usize, out: &mut Outcome) {
        if self.roles[user] != Role::Gone {
            out.errors += 1;
            note(out, format!("{} disconnected", self.names[user]));
            self.roles[user] = Role::Gone;
            self.senders[user] = None;
        }
    }

    /// The callee got the invite: times its delivery and accepts.
    fn on_invited(&mut self, id: u64, frame: Frame, times: Times, out: &mut Outcome) {
        let Some(cycle) = self.cycles.get_mut(&id) else {
            return;
        };
        if frame.sponsor.as_deref() != Some(self.names[cycle.caller].as_str()) {
            return;
        }
        out.invite
            .push((cycle.started - times.start, times.at - cycle.started));
        let (caller, callee, room) = (cycle.caller, cycle.callee, cycle.room);
        let reply = match self.flavor {
            Flavor::Ours { .. } => {
                let req = self.req();
                let invite = frame.invite_id.unwrap_or_default();
                format!(r#"{{"type":"accept","req":{req},"inviteID":"{invite}"}}"#)
            }
            Flavor::Relay => format!(
                r#"{{"to":"{}","type":"userEnter","roomID":{room},"userID":"{}"}}"#,
                self.names[caller], self.names[callee]
            ),
        };
        if let Some(cycle) = self.cycles.get_mut(&id) {
            cycle.accepted = Some(Instant::now());
        }
        self.send(callee, reply);
    }

    /// The caller learnt that the callee entered: times it since the accept and hangs up.
    fn on_user_enter(
        &mut self,
        user: usize,
        id: u64,
        frame: &Frame,
        times: Times,
        out: &mut Outcome,
    ) {
        let Some(cycle) = self.cycles.get(&id) else {
            return;
        };
        let Some(accepted) = cycle.accepted else {
            return;
        };
        if frame.user_id.as_deref() != Some(self.names[cycle.callee].as_str()) {
            return;
        }
        out.enter
            .push((cycle.started - times.start, times.at - accepted));
        let (callee, room) = (cycle.callee, cycle.room);
        let hangup = match self.flavor {
            Flavor::Ours { .. } => {
                let req = self.req();
                format!(r#"{{"type":"hangup","req":{req}}}"#)
            }
            Flavor::Relay => format!(
                r#"{{"to":"{}","type":"callEnd","roomID":{room}}}"#,
                self.names[callee]
            ),
        };
        self.send(user, hangup);
    }

    /// The callee heard the hang-up: the cycle is done and both users are idle again.
    fn on_call_end(&mut self, id: u64, out: &mut Outcome) {
        if let Some(cycle) = self.cycles.remove(&id) {
            for u in [cycle.caller, cycle.callee] {
                self.roles[u] = Role::Idle;
                self.idle.push(u);
            }
            out.cycles += 1;
        }
    }

    /// A frame saying a cycle went wrong (an error, a refusal, a timeout, a kick-out): counted,
    /// with its description.
    fn on_failure(&self, user: usize, frame: Frame, out: &mut Outcome) {
        out.errors += 1;
        let kind = frame.kind;
        let what = match (frame.code, frame.message) {
            (Some(code), Some(m)) => format!("{kind} {code}: {m}"),
            _ => kind,
        };
        note(out, format!("{} got {what}", self.names[user]));
    }
}

/// When a frame arrived, and when the load it belongs to started.
#[derive(Clone, Copy)]
pub(super) struct Times {
    pub(super) at: Instant,
    pub(super) start: Instant,
}
