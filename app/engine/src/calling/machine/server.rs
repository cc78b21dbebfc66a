//! How the machine follows what the server says.

use super::links::CONNECT_WITHIN;
use super::{Effect, Event, Machine, Member, Pending, Phase, Ringing};
use crate::protocol::{ErrorCode, Outcome, Refusal, ServerMsg, SignalData};

impl Machine {
    pub(super) fn on_server_msg(&mut self, msg: ServerMsg) {
        match msg {
            ServerMsg::LoggedIn {
                user_id,
                ice_servers,
            } => {
                self.user = Some(user_id);
                self.out.push_back(Effect::IceServers(ice_servers));
                if let Some((token, _)) = self.login.take() {
                    self.complete(token, Ok(Outcome::default()));
                }
                self.resumed();
            }
            ServerMsg::IceServers { ice_servers } => {
                self.out.push_back(Effect::IceServers(ice_servers));
            }
            ServerMsg::Result { req, outcome } => self.on_result(req, outcome),
            ServerMsg::Error { req, code, message } => {
                self.on_error(req, Refusal::Remote { code, message })
            }
            ServerMsg::Invited {
                invite_id,
                sponsor,
                user_ids,
                is_from_group,
                invite_data,
                timeout,
                ..
            } => {
                let ringing = Ringing {
                    data: invite_data.clone(),
                    sponsor: sponsor.clone(),
                    user_ids: user_ids.clone(),
                    arrived: self.now,
                };
                self.ringing.insert(invite_id.clone(), ringing);
                self.emit(Event::Invited {
                    invite_id,
                    sponsor,
                    user_ids,
                    is_from_group,
                    invite_data,
                    timeout,
                });
            }
            ServerMsg::Reject { user_id, .. } => self.emit(Event::Reject { user_id }),
            ServerMsg::LineBusy { user_id, .. } => {
                let sponsor = self.user.clone().unwrap_or_default();
                self.emit(Event::LineBusy { sponsor, user_id })
            }
            ServerMsg::NoResp {
                user_id, user_ids, ..
            } => {
                let sponsor = self.user.clone().unwrap_or_default();
                self.emit(Event::NoResp {
                    sponsor,
                    user_id,
                    user_ids,
                })
            }
            ServerMsg::CallingCancel { invite_id, sponsor } => {
                if self.ringing.remove(&invite_id).is_some() {
                    self.emit(Event::CallingCancel { invite_id, sponsor });
                }
            }
            ServerMsg::CallingTimeout { invite_id } => {
                if let Some(ringing) = self.ringing.remove(&invite_id) {
                    self.emit(Event::CallingTimeout {
                        invite_id,
                        sponsor: ringing.sponsor,
                        user_ids: ringing.user_ids,
                    });
                }
            }
            other => self.on_call_event(other),
        }
    }

    /// What happens inside the call we are in.
    fn on_call_event(&mut self, msg: ServerMsg) {
        match msg {
            ServerMsg::UserEnter { room_id, user_id } => self.on_enter(room_id, user_id),
            ServerMsg::UserLeave { user_id, .. } => {
                if self.members.remove(&user_id).is_some() {
                    self.out.push_back(Effect::Disconnect {
                        user: user_id.clone(),
                    });
                    self.emit(Event::UserLeave { user_id });
                }
            }
            ServerMsg::CallEnd { .. } => {
                if self.phase != Phase::Idle {
                    self.end_and_report();
                }
            }
            ServerMsg::KickedOut {} => {
                if self.phase != Phase::Idle {
                    self.end_locally();
                }
                self.user = None;
                self.last_login = None;
                self.ringing.clear();
                self.emit(Event::KickedOut);
                self.out.push_back(Effect::Closed);
            }
            ServerMsg::Media {
                user_id,
                audio,
                video,
            } => self.on_media(user_id, audio, video),
            ServerMsg::CallType { call_type, .. } => {
                if let Phase::InCall { room_id, .. } = self.phase {
                    self.phase = Phase::InCall { room_id, call_type };
                    self.out.push_back(Effect::UseCallType(call_type));
                }
            }
            ServerMsg::Presence { user_id, status } => {
                self.emit(Event::Presence { user_id, status });
            }
            ServerMsg::Signal { from, data } => self.on_signal(from, data),
            // Handled by `on_server_msg`.
            ServerMsg::LoggedIn { .. }
            | ServerMsg::IceServers { .. }
            | ServerMsg::Result { .. }
            | ServerMsg::Error { .. }
            | ServerMsg::Invited { .. }
            | ServerMsg::Reject { .. }
            | ServerMsg::LineBusy { .. }
            | ServerMsg::NoResp { .. }
            | ServerMsg::CallingCancel { .. }
            | ServerMsg::CallingTimeout { .. } => {}
        }
    }

    fn on_signal(&mut self, from: String, data: SignalData) {
        if !self.members.contains_key(&from) {
            return;
        }
        if data == SignalData::Restart {
            self.restart_asked(&from);
        } else if data == SignalData::NoPath {
            self.no_path_reported(&from);
        } else {
            self.out.push_back(Effect::Signal { from, data });
        }
    }

    fn on_result(&mut self, req: u32, outcome: Outcome) {
        let Some((token, pending)) = self.pending.remove(&req) else {
            return;
        };
        match pending {
            Pending::Call(call_type) => {
                if let (Phase::Idle, Some(room_id)) = (self.phase, outcome.room_id) {
                    self.phase = Phase::Calling { room_id, call_type };
                }
            }
            Pending::Accept(invite_id) => {
                if let (Some(ringing), Some(room_id)) =
                    (self.ringing.remove(&invite_id), outcome.room_id)
                {
                    self.phase = Phase::InCall {
                        room_id,
                        call_type: ringing.data.call_type,
                    };
                    self.send_media();
                }
            }
            Pending::Reject(invite_id) => {
                self.ringing.remove(&invite_id);
            }
            Pending::SwitchType(call_type) => {
                if let Phase::InCall { room_id, .. } = self.phase {
                    self.phase = Phase::InCall { room_id, call_type };
                    self.out.push_back(Effect::UseCallType(call_type));
                }
            }
            Pending::Hangup | Pending::Other => {}
        }
        self.complete(token, Ok(outcome));
    }

    /// An `error` frame: the answer to a request, a failed login, or news for the listeners.
    fn on_error(&mut self, req: Option<u32>, refusal: Refusal) {
        let Some((token, pending)) = req.and_then(|r| self.pending.remove(&r)) else {
            match self.login.take() {
                Some((None, _)) if req.is_none() => self.give_up_resuming(refusal),
                Some((token, _)) if req.is_none() => {
                    self.last_login = None;
                    self.complete(token, Err(refusal));
                    self.out.push_back(Effect::Closed);
                }
                login => {
                    self.login = login;
                    self.emit(Event::Error(refusal));
                }
            }
            return;
        };
        let failure = match pending {
            // The server no longer had us in a call: hanging up succeeded all the same.
            Pending::Hangup => {
                self.complete(token, Ok(Outcome::default()));
                return;
            }
            Pending::Accept(invite_id) | Pending::Reject(invite_id) => {
                if refusal.code() == ErrorCode::InviteGone {
                    self.ringing.remove(&invite_id);
                }
                refusal
            }
            Pending::SwitchType(to) => {
                let f = Refusal::SwitchFailed {
                    to,
                    why: refusal.to_string().into(),
                };
                self.emit(Event::Error(f.clone()));
                f
            }
            Pending::Call(_) | Pending::Other => refusal,
        };
        self.complete(token, Err(failure));
    }

    fn on_enter(&mut self, room_id: u64, user_id: String) {
        let current = match self.phase {
            Phase::Calling {
                room_id: r,
                call_type,
            }
            | Phase::InCall {
                room_id: r,
                call_type,
            } if r == room_id => call_type,
            _ => return,
        };
        if matches!(self.phase, Phase::Calling { .. }) {
            self.phase = Phase::InCall {
                room_id,
                call_type: current,
            };
            self.send_media();
        }
        if self.members.contains_key(&user_id) {
            return;
        }
        // One fixed rule for who offers, so both sides never offer at once.
        let offer = self.user.as_deref().is_some_and(|me| me < user_id.as_str());
        let member = Member {
            offerer: offer,
            give_up_at: Some(self.now + CONNECT_WITHIN),
            ..Member::default()
        };
        self.members.insert(user_id.clone(), member);
        self.connected_at.get_or_insert(self.now);
        self.out.push_back(Effect::Connect {
            user: user_id.clone(),
            offer,
        });
        self.emit(Event::UserEnter { user_id });
    }

    fn on_media(&mut self, user_id: String, audio: bool, video: bool) {
        let Some(known) = self.members.get_mut(&user_id) else {
            return;
        };
        let (was_audio, was_video) = (known.audio, known.video);
        known.audio = Some(audio);
        known.video = Some(video);
        if was_audio != Some(audio) {
            self.emit(Event::UserAudioAvailable {
                user_id: user_id.clone(),
                available: audio,
            });
        }
        if was_video != Some(video) {
            self.emit(Event::UserVideoAvailable {
                user_id,
                available: video,
            });
        }
    }
}
