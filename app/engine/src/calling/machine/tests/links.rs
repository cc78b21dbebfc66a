//! Peer connections that drop: scenarios on a clock that moves only when told.

use super::*;
use crate::calling::machine::{
    links::{CONNECT_WITHIN, RESTART_WHEN_DOWN_FOR},
    requests::ANSWER_WITHIN,
};

fn at(secs: f64) -> Duration {
    Duration::from_secs_f64(secs)
}

fn link(m: &mut Machine, secs: f64, user: &str, state: LinkState) -> Vec<Effect> {
    m.handle(
        at(secs),
        Input::Link {
            user: user.into(),
            state,
        },
    );
    drain(m)
}

fn timeout(m: &mut Machine, secs: f64) -> Vec<Effect> {
    m.handle(at(secs), Input::Timeout);
    drain(m)
}

fn reconnecting(user: &str, reconnecting: bool) -> Effect {
    Effect::Emit(Event::Reconnecting {
        user_id: user.into(),
        reconnecting,
    })
}

#[test]
fn one_to_one_gives_up_after_20s() {
    let mut m = logged_in("alice");
    in_call_with(&mut m, "bob");
    assert_eq!(m.poll_timeout(), None);
    assert_eq!(
        link(&mut m, 1.0, "bob", LinkState::Disconnected),
        [reconnecting("bob", true)]
    );
    // Still down after RESTART_WHEN_DOWN_FOR: the offering side restarts ICE.
    assert_eq!(m.poll_timeout(), Some(at(2.0)));
    assert_eq!(
        timeout(&mut m, 2.0),
        [Effect::RestartIce { user: "bob".into() }]
    );
    assert_eq!(m.poll_timeout(), Some(at(21.0)));
    assert!(timeout(&mut m, 20.9).is_empty(), "too early");
    assert_eq!(
        m.phase(),
        Phase::InCall {
            room_id: 9,
            call_type: CallType::Audio
        }
    );

    let effects = timeout(&mut m, 21.0);
    assert!(
        matches!(&effects[0], Effect::Emit(Event::Error(Refusal::WebRtc(why))) if why.contains("bob"))
    );
    assert_eq!(effects[1], Effect::Disconnect { user: "bob".into() });
    assert_eq!(effects[2], Effect::EndCall);
    assert!(matches!(effects[3], Effect::Emit(Event::CallEnd { .. })));
    let req = sent_req(&effects);
    assert_eq!(m.phase(), Phase::Idle);
    // Only the hangup it sent is left to time, until the server answers it.
    assert_eq!(m.poll_timeout(), Some(at(21.0) + ANSWER_WITHIN));
    // The server's answer to a hangup nobody asked for completes nothing.
    m.on_server(ServerMsg::Result {
        req,
        outcome: Outcome::default(),
    });
    assert!(drain(&mut m).is_empty());
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn reconnect_in_time_keeps_the_call() {
    let mut m = logged_in("alice");
    in_call_with(&mut m, "bob");
    link(&mut m, 1.0, "bob", LinkState::Disconnected);
    // Still down: no second event.
    assert!(link(&mut m, 2.0, "bob", LinkState::Connecting).is_empty());
    assert_eq!(
        link(&mut m, 15.0, "bob", LinkState::Connected),
        [reconnecting("bob", false)]
    );
    assert_eq!(m.poll_timeout(), None);
    assert!(timeout(&mut m, 30.0).is_empty());
    assert_eq!(
        m.phase(),
        Phase::InCall {
            room_id: 9,
            call_type: CallType::Audio
        }
    );
    // A later drop gets a whole new window; back within RESTART_WHEN_DOWN_FOR, nothing restarts.
    link(&mut m, 40.0, "bob", LinkState::Disconnected);
    assert_eq!(m.poll_timeout(), Some(at(41.0)));
    link(&mut m, 40.5, "bob", LinkState::Connected);
    assert_eq!(m.poll_timeout(), None);
    assert!(timeout(&mut m, 41.0).is_empty());
}

#[test]
fn a_group_call_waits_for_a_lost_member() {
    let mut m = logged_in("alice");
    in_call_with(&mut m, "bob");
    m.on_server(ServerMsg::UserEnter {
        room_id: 9,
        user_id: "carol".into(),
    });
    drain(&mut m);
    link(&mut m, 1.0, "carol", LinkState::Failed);
    assert!(timeout(&mut m, 21.0).is_empty());
    assert_eq!(m.members().count(), 2);
    assert_eq!(
        m.poll_timeout(),
        None,
        "no more wake-ups for a deadline that passed"
    );
}

#[test]
fn the_offering_side_restarts_ice_once_per_failure() {
    let mut m = logged_in("alice");
    in_call_with(&mut m, "bob"); // "alice" < "bob": alice offers.
    assert_eq!(
        link(&mut m, 1.0, "bob", LinkState::Failed),
        [
            reconnecting("bob", true),
            Effect::RestartIce { user: "bob".into() }
        ]
    );
    // The answering side's request for the same failure does not restart again.
    m.handle(
        at(1.5),
        Input::Server(ServerMsg::Signal {
            from: "bob".into(),
            data: SignalData::Restart,
        }),
    );
    assert!(drain(&mut m).is_empty());
    assert_eq!(
        link(&mut m, 8.0, "bob", LinkState::Failed),
        [Effect::RestartIce { user: "bob".into() }]
    );
}

#[test]
fn the_answering_side_asks_the_offerer_to_restart() {
    let mut m = logged_in("bob");
    in_call_with(&mut m, "alice"); // "bob" > "alice": bob answers.
    assert_eq!(
        link(&mut m, 1.0, "alice", LinkState::Failed),
        [
            reconnecting("alice", true),
            Effect::Send(ClientMsg::Call(CallMsg::Signal {
                to: "alice".into(),
                data: SignalData::Restart
            }))
        ]
    );
    // A restart request to the answering side is ignored: only the offerer restarts.
    m.on_server(ServerMsg::Signal {
        from: "alice".into(),
        data: SignalData::Restart,
    });
    assert!(drain(&mut m).is_empty());
}

#[test]
fn links_of_strangers_are_ignored() {
    let mut m = logged_in("alice");
    in_call_with(&mut m, "bob");
    assert!(link(&mut m, 1.0, "eve", LinkState::Failed).is_empty());
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn a_connection_that_never_comes_up_ends_the_call_with_an_error() {
    let mut m = logged_in("alice");
    // Bob joins at 3 s.
    assert!(timeout(&mut m, 3.0).is_empty());
    joined(&mut m, "bob");
    assert_eq!(m.poll_timeout(), Some(at(3.0) + CONNECT_WITHIN));
    // Checking, then failing and restarting, does not move the deadline and says nothing of
    // reconnecting: it never connected.
    assert!(link(&mut m, 4.0, "bob", LinkState::Connecting).is_empty());
    assert_eq!(
        link(&mut m, 18.0, "bob", LinkState::Failed),
        [Effect::RestartIce { user: "bob".into() }]
    );
    assert_eq!(m.poll_timeout(), Some(at(23.0)));
    assert!(timeout(&mut m, 22.9).is_empty());

    let effects = timeout(&mut m, 23.0);
    assert_eq!(
        effects[0],
        Effect::Send(ClientMsg::Call(CallMsg::Signal {
            to: "bob".into(),
            data: SignalData::NoPath
        })),
        "bob hears why before alice leaves"
    );
    assert!(
        matches!(&effects[1], Effect::Emit(Event::Error(Refusal::WebRtc(why)))
            if why.contains("Could not connect with bob") && why.contains("TURN")),
        "{effects:?}"
    );
    assert!(effects.contains(&Effect::EndCall));
    assert_eq!(m.phase(), Phase::Idle);
}

#[test]
fn connecting_in_time_clears_the_deadline() {
    let mut m = logged_in("alice");
    in_call_with(&mut m, "bob");
    assert_eq!(m.poll_timeout(), None);
    assert!(timeout(&mut m, 60.0).is_empty());
    assert!(matches!(m.phase(), Phase::InCall { .. }));
}

#[test]
fn the_answering_side_asks_for_a_restart_when_down_for_a_while() {
    let mut m = logged_in("bob");
    in_call_with(&mut m, "alice"); // "bob" > "alice": bob answers.
    link(&mut m, 1.0, "alice", LinkState::Disconnected);
    // A second report of the same state does not move the restart.
    assert!(link(&mut m, 1.5, "alice", LinkState::Disconnected).is_empty());
    assert_eq!(m.poll_timeout(), Some(at(1.0) + RESTART_WHEN_DOWN_FOR));
    assert_eq!(
        timeout(&mut m, 2.0),
        [Effect::Send(ClientMsg::Call(CallMsg::Signal {
            to: "alice".into(),
            data: SignalData::Restart
        }))]
    );
    // Once: the next wake-up is the give-up deadline.
    assert_eq!(m.poll_timeout(), Some(at(21.0)));
}

#[test]
fn the_side_told_there_is_no_path_reports_the_same_error() {
    let mut m = logged_in("bob");
    joined(&mut m, "alice");
    let no_path = || {
        Input::Server(ServerMsg::Signal {
            from: "alice".into(),
            data: SignalData::NoPath,
        })
    };
    m.handle(at(20.0), no_path());
    let effects = drain(&mut m);
    assert!(
        matches!(&effects[0], Effect::Emit(Event::Error(Refusal::WebRtc(why)))
            if why.contains("Could not connect with alice")),
        "{effects:?}"
    );
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::Emit(Event::CallEnd { .. }))));
    let req = sent_req(&effects);
    assert_eq!(m.phase(), Phase::Idle);
    assert_eq!(
        m.poll_timeout(),
        Some(at(20.0) + ANSWER_WITHIN),
        "our own deadline went with the call; the hangup's is left"
    );
    m.on_server(ServerMsg::Result {
        req,
        outcome: Outcome::default(),
    });
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn a_stale_no_path_report_is_ignored() {
    let mut m = logged_in("bob");
    in_call_with(&mut m, "alice");
    m.on_server(ServerMsg::Signal {
        from: "alice".into(),
        data: SignalData::NoPath,
    });
    assert!(drain(&mut m).is_empty(), "connected: the claim is stale");
    assert!(matches!(m.phase(), Phase::InCall { .. }));
}
