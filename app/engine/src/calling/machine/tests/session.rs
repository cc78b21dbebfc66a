//! Logging in, being kicked out and losing the connection.

use super::*;

#[test]
fn requests_before_login_fail_at_once() {
    let mut m = Machine::new();
    m.request(7, Request::Hangup);
    assert_eq!(
        drain(&mut m),
        [Effect::Complete {
            token: 7,
            result: Err(Refusal::NotLoggedIn)
        }]
    );
}

#[test]
fn login_is_answered_by_the_server() {
    let mut m = Machine::new();
    m.request(
        1,
        Request::Login {
            user_id: "alice".into(),
            user_sig: "s".into(),
        },
    );
    assert_eq!(drain(&mut m), [Effect::OpenSocket]);
    m.handle(m.now, Input::SocketOpen);
    assert!(matches!(
        &drain(&mut m)[..],
        [Effect::Send(ClientMsg::Login(Login { .. }))]
    ));
    m.on_server(ServerMsg::Error {
        req: None,
        code: ErrorCode::BadUserSig,
        message: "expired".into(),
    });
    assert_eq!(
        drain(&mut m),
        [
            Effect::Complete {
                token: 1,
                result: Err(Refusal::Remote {
                    code: ErrorCode::BadUserSig,
                    message: "expired".into()
                })
            },
            Effect::Closed
        ]
    );
    assert_eq!(m.user(), None);
}

#[test]
fn kicked_out_ends_everything() {
    let mut m = logged_in("alice");
    invited(&mut m, "i1", 9, CallType::Audio);
    drain(&mut m);
    m.on_server(ServerMsg::KickedOut {});
    assert_eq!(
        drain(&mut m),
        [Effect::Emit(Event::KickedOut), Effect::Closed]
    );
    assert_eq!(m.user(), None);
    m.request(
        8,
        Request::Accept {
            invite_id: "i1".into(),
        },
    );
    assert!(matches!(
        &drain(&mut m)[..],
        [Effect::Complete {
            result: Err(Refusal::NotLoggedIn),
            ..
        }]
    ));
}

#[test]
fn lost_connection_fails_what_was_waiting() {
    let mut m = logged_in("alice");
    m.request(
        2,
        Request::Call {
            user_ids: vec!["bob".into()],
            call_type: CallType::Audio,
            timeout: 0,
            group_id: None,
        },
    );
    drain(&mut m);
    m.disconnected("connection lost");
    let effects = drain(&mut m);
    assert!(matches!(
        &effects[0],
        Effect::Complete {
            token: 2,
            result: Err(Refusal::Connection(_))
        }
    ));
    assert!(matches!(
        effects.last(),
        Some(Effect::Emit(Event::Error(Refusal::Connection(_))))
    ));
}

#[test]
fn fresh_ice_servers_replace_the_ones_given_at_login() {
    let mut m = logged_in("alice");
    let fresh = vec![IceServer {
        urls: vec!["turn:203.0.113.5:3478?transport=udp".into()],
        username: Some("1600:alice".into()),
        credential: Some("c".into()),
    }];
    m.on_server(ServerMsg::IceServers {
        ice_servers: fresh.clone(),
    });
    assert_eq!(drain(&mut m), [Effect::IceServers(fresh)]);
}

#[test]
fn a_request_the_server_never_answers_fails_and_ends_the_session() {
    use crate::calling::machine::requests::ANSWER_WITHIN;
    let mut m = logged_in("alice");
    m.request(
        5,
        Request::Call {
            user_ids: vec!["bob".into()],
            call_type: CallType::Audio,
            timeout: 30,
            group_id: None,
        },
    );
    drain(&mut m);
    let due = m.poll_timeout().expect("a deadline for the request");
    assert_eq!(due, m.now + ANSWER_WITHIN);
    m.handle(due - Duration::from_millis(1), Input::Timeout);
    assert_eq!(drain(&mut m), [], "not yet");
    m.handle(due, Input::Timeout);
    let effects = drain(&mut m);
    assert!(effects.contains(&Effect::Closed), "{effects:?}");
    assert!(
        effects.iter().any(|e| matches!(
            e,
            Effect::Complete {
                token: 5,
                result: Err(Refusal::Connection(_))
            }
        )),
        "{effects:?}"
    );
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::Emit(Event::Error(Refusal::Connection(_))))));
    assert_eq!(m.user(), None);
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn answered_requests_leave_no_deadline() {
    let mut m = logged_in("alice");
    m.request(5, Request::Hangup);
    m.request(
        6,
        Request::Call {
            user_ids: vec!["bob".into()],
            call_type: CallType::Audio,
            timeout: 30,
            group_id: None,
        },
    );
    let req = sent_req(&drain(&mut m));
    assert!(m.poll_timeout().is_some());
    m.on_server(ServerMsg::Result {
        req,
        outcome: Outcome::default(),
    });
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn a_login_the_server_never_answers_fails() {
    use crate::calling::machine::requests::LOG_IN_WITHIN;
    let mut m = Machine::new();
    m.request(
        1,
        Request::Login {
            user_id: "alice".into(),
            user_sig: "s".into(),
        },
    );
    m.handle(m.now, Input::SocketOpen);
    drain(&mut m);
    assert_eq!(m.poll_timeout(), Some(m.now + LOG_IN_WITHIN));
    m.handle(m.now + LOG_IN_WITHIN, Input::Timeout);
    let effects = drain(&mut m);
    assert!(effects.contains(&Effect::Closed), "{effects:?}");
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Complete {
            token: 1,
            result: Err(Refusal::Connection(_))
        }
    )));
    // A new login may start.
    m.request(
        2,
        Request::Login {
            user_id: "alice".into(),
            user_sig: "s".into(),
        },
    );
    assert_eq!(drain(&mut m), [Effect::OpenSocket]);
}
