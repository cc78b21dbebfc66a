use app::protocol::CallType;
use server::signaling::switchboard::Presence;

use crate::harness::*;

#[test]
fn presence_follows_login_calls_and_logout() {
    let mut w = World::online(&["alice", "bob"]);
    assert_eq!(
        w.presence,
        [
            ("alice".into(), Presence::Online),
            ("bob".into(), Presence::Online)
        ]
    );
    w.presence.clear();
    // Ringing is not being in a call; the caller is in one from the moment they call.
    let (invite_id, _) = w.call("alice", &["bob"], CallType::Audio, 0);
    assert_eq!(w.presence, [("alice".into(), Presence::InCall)]);
    w.accept("bob", &invite_id);
    assert_eq!(w.presence[1..], [("bob".into(), Presence::InCall)]);
    w.presence.clear();
    w.hangup("bob");
    assert_eq!(
        w.presence,
        [
            ("bob".into(), Presence::Online),
            ("alice".into(), Presence::Online)
        ]
    );
    w.presence.clear();
    w.disconnect("alice");
    // Offline is announced only once the grace for a reload has passed.
    assert!(w.presence.is_empty());
    assert_eq!(w.board.presence_of("alice"), Presence::Offline);
    w.advance(2);
    assert!(w.presence.is_empty());
    w.advance(1);
    assert_eq!(w.presence, [("alice".into(), Presence::Offline)]);
    assert_eq!(w.board.presence_of("bob"), Presence::Online);
}

#[test]
fn a_second_login_does_not_flicker_offline() {
    let mut w = World::online(&["alice"]);
    w.presence.clear();
    w.login("alice");
    assert!(w.presence.is_empty(), "{:?}", w.presence);
}

#[test]
fn presence_during_the_grace_is_what_contacts_were_told() {
    let mut w = World::online(&["alice"]);
    w.disconnect("alice");
    // Someone who asks now is told what everyone else was told: still online.
    assert_eq!(w.board.announced_presence("alice"), Presence::Online);
    w.advance(3);
    assert_eq!(w.board.announced_presence("alice"), Presence::Offline);
}

#[test]
fn a_reload_within_the_grace_shows_no_offline() {
    let mut w = World::online(&["alice"]);
    w.presence.clear();
    w.disconnect("alice");
    w.advance(1);
    w.login("alice");
    w.advance(10);
    assert!(w.presence.is_empty(), "{:?}", w.presence);
}
