//! Peer connections that drop: scenarios on a clock that moves only when told.

use super::*;

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
    let req = sent_req(&effects);
    assert_eq!(m.phase(), Phase::Idle);
    assert_eq!(m.poll_timeout(), None);
    // The server's answer to a hangup nobody asked for completes nothing.
    m.on_server(ServerMsg::Result {
        req,
        outcome: Outcome::default(),
    });
    assert!(drain(&mut m).is_empty());
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
    // A later drop gets a whole new window.
    link(&mut m, 40.0, "bob", LinkState::Disconnected);
    assert_eq!(m.poll_timeout(), Some(at(60.0)));
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
