//! Coming back by itself after the server restarts.

use super::*;
use crate::calling::machine::resume::{ATTEMPTS, LONGEST_PAUSE};

fn restarting(m: &mut Machine, spread_ms: u64) -> Vec<Effect> {
    m.handle(
        m.now,
        Input::ServerRestarting {
            spread: Duration::from_millis(spread_ms),
        },
    );
    drain(m)
}

/// Runs the attempt that is due; returns what it did.
fn attempt(m: &mut Machine) -> Vec<Effect> {
    let due = m.poll_timeout().expect("an attempt is due");
    m.handle(due, Input::Timeout);
    drain(m)
}

#[test]
fn a_restart_ends_the_call_and_the_session_comes_back_with_the_same_login() {
    let mut m = logged_in("alice");
    in_call_with(&mut m, "bob");
    drain(&mut m);
    let effects = restarting(&mut m, 700);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Emit(Event::CallEnd { .. }))),
        "{effects:?}"
    );
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::Emit(Event::Error(_)))),
        "a restart is not an error: {effects:?}"
    );
    assert_eq!(m.user(), None);
    assert_eq!(m.poll_timeout(), Some(m.now + Duration::from_millis(700)));

    assert_eq!(attempt(&mut m), [Effect::OpenSocket]);
    m.handle(m.now, Input::SocketOpen);
    assert!(matches!(
        &drain(&mut m)[..],
        [Effect::Send(ClientMsg::Login(Login { user_id, user_sig }))]
            if user_id == "alice" && user_sig == "sig"
    ));
    m.on_server(ServerMsg::LoggedIn {
        user_id: "alice".into(),
        ice_servers: vec![],
    });
    // Nobody asked for this login, so nothing completes; the session is simply back.
    assert_eq!(drain(&mut m), [Effect::IceServers(vec![])]);
    assert_eq!(m.user(), Some("alice"));
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn pauses_double_and_a_server_that_stays_away_is_given_up_on() {
    let mut m = logged_in("alice");
    restarting(&mut m, 1000);
    let mut pauses = Vec::new();
    let mut last = m.now;
    for n in 1..=ATTEMPTS {
        let due = m.poll_timeout().expect("another attempt");
        pauses.push(due - last);
        assert_eq!(attempt(&mut m), [Effect::OpenSocket], "attempt {n}");
        m.handle(m.now, Input::Disconnected("refused".into()));
        last = m.now;
        let effects = drain(&mut m);
        let gave_up = effects
            .iter()
            .any(|e| matches!(e, Effect::Emit(Event::Error(Refusal::Connection(_)))));
        assert_eq!(gave_up, n == ATTEMPTS, "attempt {n}: {effects:?}");
    }
    assert_eq!(&pauses[..4], [1, 2, 4, 8].map(Duration::from_secs));
    assert_eq!(pauses.last(), Some(&LONGEST_PAUSE));
    assert_eq!(m.poll_timeout(), None);
    // The page may log in again itself.
    m.request(
        9,
        Request::Login {
            user_id: "alice".into(),
            user_sig: "sig".into(),
        },
    );
    assert_eq!(drain(&mut m), [Effect::OpenSocket]);
}

#[test]
fn a_login_refused_on_return_ends_the_session_with_an_error() {
    let mut m = logged_in("alice");
    restarting(&mut m, 500);
    attempt(&mut m);
    m.handle(m.now, Input::SocketOpen);
    drain(&mut m);
    m.on_server(ServerMsg::Error {
        req: None,
        code: ErrorCode::BadUserSig,
        message: "expired".into(),
    });
    let effects = drain(&mut m);
    assert!(effects.contains(&Effect::Closed));
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::Emit(Event::Error(Refusal::Remote { .. })))));
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn logging_out_while_waiting_stops_the_return() {
    let mut m = logged_in("alice");
    restarting(&mut m, 500);
    m.handle(m.now, Input::Logout);
    drain(&mut m);
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn a_restart_before_any_login_is_a_plain_disconnect() {
    let mut m = Machine::new();
    assert!(restarting(&mut m, 500).is_empty());
    assert_eq!(m.poll_timeout(), None);
}
