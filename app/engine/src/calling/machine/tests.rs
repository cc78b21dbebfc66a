use std::time::Duration;

use super::*;
use crate::protocol::{CallType, ErrorCode, InviteData, ServerMsg, INVITE_DATA_VERSION};

/// The API calls the tests make, without the request numbers the machine assigns.
enum Request {
    Login {
        user_id: String,
        user_sig: String,
    },
    Call {
        user_ids: Vec<String>,
        call_type: CallType,
        timeout: u32,
        group_id: Option<String>,
    },
    Accept {
        invite_id: String,
    },
    Hangup,
    SwitchType(CallType),
}

impl From<Request> for ClientMsg {
    fn from(r: Request) -> Self {
        match r {
            Request::Login { user_id, user_sig } => ClientMsg::Login(Login { user_id, user_sig }),
            Request::Call {
                user_ids,
                call_type,
                timeout,
                group_id,
            } => ClientMsg::Call(CallMsg::Call {
                req: 0,
                user_ids,
                call_type,
                timeout,
                group_id,
            }),
            Request::Accept { invite_id } => ClientMsg::Call(CallMsg::Accept { req: 0, invite_id }),
            Request::Hangup => ClientMsg::Call(CallMsg::Hangup { req: 0 }),
            Request::SwitchType(call_type) => {
                ClientMsg::Call(CallMsg::SwitchType { req: 0, call_type })
            }
        }
    }
}

mod links;
mod resume;
mod session;

/// Drives a machine through [`Machine::handle`] at its current time.
trait Drive {
    fn request(&mut self, token: Token, request: Request);
    fn on_server(&mut self, msg: ServerMsg);
    fn set_local_media(&mut self, audio: bool, video: bool);
    fn disconnected(&mut self, reason: &str);
}

impl Drive for Machine {
    fn request(&mut self, token: Token, request: Request) {
        self.handle(
            self.now,
            Input::Request {
                token,
                msg: request.into(),
            },
        );
    }
    fn on_server(&mut self, msg: ServerMsg) {
        self.handle(self.now, Input::Server(msg));
    }
    fn set_local_media(&mut self, audio: bool, video: bool) {
        self.handle(self.now, Input::LocalMedia { audio, video });
    }
    fn disconnected(&mut self, reason: &str) {
        self.handle(self.now, Input::Disconnected(reason.into()));
    }
}

fn drain(m: &mut Machine) -> Vec<Effect> {
    std::iter::from_fn(|| m.poll()).collect()
}

fn logged_in(user: &str) -> Machine {
    let mut m = Machine::new();
    m.request(
        1,
        Request::Login {
            user_id: user.into(),
            user_sig: "sig".into(),
        },
    );
    m.handle(m.now, Input::SocketOpen);
    m.on_server(ServerMsg::LoggedIn {
        user_id: user.into(),
        ice_servers: vec![],
    });
    drain(&mut m);
    m
}

fn sent_req(effects: &[Effect]) -> u32 {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Send(ClientMsg::Call(
                CallMsg::Call { req, .. }
                | CallMsg::Accept { req, .. }
                | CallMsg::Hangup { req }
                | CallMsg::SwitchType { req, .. },
            )) => Some(*req),
            _ => None,
        })
        .expect("a request was sent")
}

fn invited(m: &mut Machine, invite_id: &str, room_id: u64, call_type: CallType) {
    m.on_server(ServerMsg::Invited {
        invite_id: invite_id.into(),
        sponsor: "alice".into(),
        user_ids: vec!["bob".into()],
        is_from_group: false,
        group_id: None,
        invite_data: InviteData {
            version: INVITE_DATA_VERSION,
            call_type,
            room_id,
        },
        timeout: 30,
    });
}

/// Places an audio call from a logged-in machine and has `peer` answer it in room 9.
/// In a call with `peer`, connected.
fn in_call_with(m: &mut Machine, peer: &str) {
    joined(m, peer);
    m.handle(
        m.now,
        Input::Link {
            user: peer.into(),
            state: LinkState::Connected,
        },
    );
    drain(m);
}

/// `peer` joined our call; our connection with them is not up yet.
fn joined(m: &mut Machine, peer: &str) {
    m.request(
        2,
        Request::Call {
            user_ids: vec![peer.into()],
            call_type: CallType::Audio,
            timeout: 0,
            group_id: None,
        },
    );
    let req = sent_req(&drain(m));
    m.on_server(ServerMsg::Result {
        req,
        outcome: Outcome {
            room_id: Some(9),
            ..Outcome::default()
        },
    });
    m.on_server(ServerMsg::UserEnter {
        room_id: 9,
        user_id: peer.into(),
    });
    drain(m);
}

fn ok(token: Token) -> Effect {
    Effect::Complete {
        token,
        result: Ok(Outcome::default()),
    }
}

#[test]
fn caller_goes_from_calling_to_in_call_and_offers_to_later_ids() {
    let mut m = logged_in("alice");
    m.request(
        2,
        Request::Call {
            user_ids: vec!["bob".into()],
            call_type: CallType::Video,
            timeout: 30,
            group_id: None,
        },
    );
    let req = sent_req(&drain(&mut m));
    m.on_server(ServerMsg::Result {
        req,
        outcome: Outcome {
            room_id: Some(9),
            invite_id: Some("i".into()),
            ..Outcome::default()
        },
    });
    assert!(matches!(
        drain(&mut m)[..],
        [Effect::Complete {
            token: 2,
            result: Ok(_)
        }]
    ));
    assert_eq!(
        m.phase(),
        Phase::Calling {
            room_id: 9,
            call_type: CallType::Video
        }
    );

    m.set_local_media(true, true);
    assert!(
        drain(&mut m).is_empty(),
        "no media state before anyone is in the call"
    );
    m.on_server(ServerMsg::UserEnter {
        room_id: 9,
        user_id: "bob".into(),
    });
    assert_eq!(
        drain(&mut m),
        [
            Effect::Send(ClientMsg::Call(CallMsg::Media {
                audio: true,
                video: true
            })),
            Effect::Connect {
                user: "bob".into(),
                offer: true
            },
            Effect::Emit(Event::UserEnter {
                user_id: "bob".into()
            }),
        ]
    );
    assert_eq!(
        m.phase(),
        Phase::InCall {
            room_id: 9,
            call_type: CallType::Video
        }
    );
}

#[test]
fn callee_accepts_and_answers_earlier_ids() {
    let mut m = logged_in("bob");
    invited(&mut m, "i1", 9, CallType::Audio);
    assert!(matches!(
        &drain(&mut m)[..],
        [Effect::Emit(Event::Invited { .. })]
    ));
    m.request(
        3,
        Request::Accept {
            invite_id: "i1".into(),
        },
    );
    let req = sent_req(&drain(&mut m));
    m.on_server(ServerMsg::Result {
        req,
        outcome: Outcome {
            room_id: Some(9),
            ..Outcome::default()
        },
    });
    m.on_server(ServerMsg::UserEnter {
        room_id: 9,
        user_id: "alice".into(),
    });
    m.on_server(ServerMsg::Media {
        user_id: "alice".into(),
        audio: true,
        video: false,
    });
    let effects = drain(&mut m);
    assert!(effects.contains(&Effect::Connect {
        user: "alice".into(),
        offer: false
    }));
    assert!(effects.contains(&Effect::Emit(Event::UserAudioAvailable {
        user_id: "alice".into(),
        available: true
    })));
    assert!(effects.contains(&Effect::Emit(Event::UserVideoAvailable {
        user_id: "alice".into(),
        available: false
    })));

    // Only changes are reported after the first state.
    m.on_server(ServerMsg::Media {
        user_id: "alice".into(),
        audio: false,
        video: false,
    });
    assert_eq!(
        drain(&mut m),
        [Effect::Emit(Event::UserAudioAvailable {
            user_id: "alice".into(),
            available: false
        })]
    );
}

#[test]
fn accepting_a_gone_invitation_fails_without_asking() {
    let mut m = logged_in("bob");
    invited(&mut m, "i1", 9, CallType::Audio);
    m.on_server(ServerMsg::CallingCancel {
        invite_id: "i1".into(),
        sponsor: "alice".into(),
    });
    drain(&mut m);
    m.request(
        4,
        Request::Accept {
            invite_id: "i1".into(),
        },
    );
    assert!(matches!(
        &drain(&mut m)[..],
        [Effect::Complete {
            token: 4,
            result: Err(Refusal::NotRingingForYou)
        }]
    ));
}

#[test]
fn hangup_releases_devices_at_once() {
    let mut m = logged_in("alice");
    in_call_with(&mut m, "bob");
    m.request(5, Request::Hangup);
    let effects = drain(&mut m);
    assert_eq!(effects[0], Effect::Disconnect { user: "bob".into() });
    assert_eq!(effects[1], Effect::EndCall);
    assert_eq!(m.phase(), Phase::Idle);
    let req = sent_req(&effects);
    m.on_server(ServerMsg::Result {
        req,
        outcome: Outcome::default(),
    });
    assert_eq!(drain(&mut m), [ok(5)]);
    // The server's USER_LEAVE/CALL_END for a call we already left change nothing.
    m.on_server(ServerMsg::CallEnd { room_id: 9 });
    assert!(drain(&mut m).is_empty());
}

#[test]
fn remote_hangup_ends_the_call() {
    let mut m = logged_in("alice");
    in_call_with(&mut m, "bob");
    m.on_server(ServerMsg::UserLeave {
        room_id: 9,
        user_id: "bob".into(),
    });
    m.on_server(ServerMsg::CallEnd { room_id: 9 });
    assert_eq!(
        drain(&mut m),
        [
            Effect::Disconnect { user: "bob".into() },
            Effect::Emit(Event::UserLeave {
                user_id: "bob".into()
            }),
            Effect::EndCall,
            Effect::Emit(Event::CallEnd {
                user_id: "alice".into(),
                seconds: 0
            }),
        ]
    );
}

#[test]
fn call_end_says_how_long_the_call_lasted() {
    let mut m = logged_in("alice");
    in_call_with(&mut m, "bob");
    drain(&mut m);
    m.handle(m.now + Duration::from_secs(42), Input::Timeout);
    drain(&mut m);
    m.on_server(ServerMsg::CallEnd { room_id: 9 });
    let effects = drain(&mut m);
    assert!(
        effects.contains(&Effect::Emit(Event::CallEnd {
            user_id: "alice".into(),
            seconds: 42
        })),
        "{effects:?}"
    );
}

#[test]
fn timeouts_and_refusals_name_the_sponsor_and_the_invitees() {
    let mut m = logged_in("bob");
    m.on_server(ServerMsg::Invited {
        invite_id: "i1".into(),
        sponsor: "alice".into(),
        user_ids: vec!["bob".into(), "carol".into()],
        is_from_group: true,
        invite_data: InviteData {
            version: 4,
            call_type: CallType::Audio,
            room_id: 9,
        },
        timeout: 30,
        group_id: None,
    });
    drain(&mut m);
    assert_eq!(m.ringing_invite(), Some("i1"));
    m.on_server(ServerMsg::CallingTimeout {
        invite_id: "i1".into(),
    });
    assert_eq!(
        drain(&mut m),
        [Effect::Emit(Event::CallingTimeout {
            invite_id: "i1".into(),
            sponsor: "alice".into(),
            user_ids: vec!["bob".into(), "carol".into()],
        })]
    );
    m.on_server(ServerMsg::LineBusy {
        invite_id: "i2".into(),
        user_id: "dave".into(),
    });
    assert_eq!(
        drain(&mut m),
        [Effect::Emit(Event::LineBusy {
            sponsor: "bob".into(),
            user_id: "dave".into(),
        })]
    );
}

#[test]
fn switching_type_outside_a_one_to_one_call_is_error_60001() {
    let mut m = logged_in("alice");
    m.request(6, Request::SwitchType(CallType::Audio));
    let effects = drain(&mut m);
    assert!(matches!(
        &effects[0],
        Effect::Emit(Event::Error(Refusal::SwitchFailed {
            to: CallType::Audio,
            ..
        }))
    ));
    assert!(matches!(
        &effects[1],
        Effect::Complete {
            token: 6,
            result: Err(Refusal::SwitchFailed {
                to: CallType::Audio,
                ..
            })
        }
    ));
}

#[test]
fn signals_from_strangers_are_ignored() {
    let mut m = logged_in("alice");
    m.on_server(ServerMsg::Signal {
        from: "eve".into(),
        data: SignalData::Restart,
    });
    assert!(drain(&mut m).is_empty());
}
