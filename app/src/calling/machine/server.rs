//! How the machine follows what the server says.

use super::{switch_failure, Effect, Event, Failure, Machine, MemberMedia, Pending, Phase};
use crate::protocol::{Outcome, ServerMsg};

impl Machine {
    pub fn on_server(&mut self, msg: ServerMsg) {
        match msg {
            ServerMsg::LoggedIn {
                user_id,
                ice_servers,
            } => {
                self.user = Some(user_id);
                self.out.push_back(Effect::IceServers(ice_servers));
                if let Some(token) = self.login.take() {
                    self.complete(token, Ok(Outcome::default()));
                }
            }
            ServerMsg::Result { req, outcome } => self.on_result(req, outcome),
            ServerMsg::Error {
                req: Some(req),
                code,
                message,
            } => self.on_error(req, code, message),
            ServerMsg::Error {
                req: None,
                code,
                message,
            } => match self.login.take() {
                Some(token) => self.complete(token, Err(Failure { code, message })),
                None => self.emit(Event::Error { code, message }),
            },
            ServerMsg::Invited {
                invite_id,
                sponsor,
                user_ids,
                is_from_group,
                invite_data,
                timeout,
                ..
            } => {
                self.ringing.insert(invite_id.clone(), invite_data.clone());
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
            ServerMsg::LineBusy { user_id, .. } => self.emit(Event::LineBusy { user_id }),
            ServerMsg::NoResp {
                user_id, user_ids, ..
            } => self.emit(Event::NoResp { user_id, user_ids }),
            ServerMsg::CallingCancel { invite_id, sponsor } => {
                if self.ringing.remove(&invite_id).is_some() {
                    self.emit(Event::CallingCancel { invite_id, sponsor });
                }
            }
            ServerMsg::CallingTimeout { invite_id } => {
                if self.ringing.remove(&invite_id).is_some() {
                    self.emit(Event::CallingTimeout { invite_id });
                }
            }
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
                    self.end_locally();
                    self.emit(Event::CallEnd);
                }
            }
            ServerMsg::KickedOut {} => {
                if self.phase != Phase::Idle {
                    self.end_locally();
                }
                self.user = None;
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
            ServerMsg::Signal { from, data } => {
                if self.members.contains_key(&from) {
                    self.out.push_back(Effect::Signal { from, data });
                }
            }
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
                if let (Some(data), Some(room_id)) =
                    (self.ringing.remove(&invite_id), outcome.room_id)
                {
                    self.phase = Phase::InCall {
                        room_id,
                        call_type: data.call_type,
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

    fn on_error(&mut self, req: u32, code: u32, message: String) {
        let Some((token, pending)) = self.pending.remove(&req) else {
            self.emit(Event::Error { code, message });
            return;
        };
        let failure = match pending {
            // The server no longer had us in a call: hanging up succeeded all the same.
            Pending::Hangup => {
                self.complete(token, Ok(Outcome::default()));
                return;
            }
            Pending::Accept(invite_id) | Pending::Reject(invite_id) => {
                if code == crate::protocol::code::INVITE_GONE {
                    self.ringing.remove(&invite_id);
                }
                Failure { code, message }
            }
            Pending::SwitchType(call_type) => {
                let f = Failure::new(switch_failure(call_type), message);
                self.emit(Event::Error {
                    code: f.code,
                    message: f.message.clone(),
                });
                f
            }
            Pending::Call(_) | Pending::Other => Failure { code, message },
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
        self.members.insert(user_id.clone(), MemberMedia::default());
        // One fixed rule for who offers, so both sides never offer at once.
        let offer = self.user.as_deref().is_some_and(|me| me < user_id.as_str());
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
        let before = *known;
        known.audio = Some(audio);
        known.video = Some(video);
        if before.audio != Some(audio) {
            self.emit(Event::UserAudioAvailable {
                user_id: user_id.clone(),
                available: audio,
            });
        }
        if before.video != Some(video) {
            self.emit(Event::UserVideoAvailable {
                user_id,
                available: video,
            });
        }
    }
}
