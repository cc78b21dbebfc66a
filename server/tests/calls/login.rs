use app::protocol::{CallMsg, CallType, ServerMsg};

use crate::harness::*;

#[test]
fn second_login_kicks_the_first_and_leaves_its_call() {
    let mut w = World::online(&["alice", "bob"]);
    let room_id = w.in_call("alice", "bob", CallType::Video);

    let old = w.conn("alice");
    let new = w.login("alice");
    assert_ne!(old, new);
    assert_eq!(w.take_conn(old), [ServerMsg::KickedOut {}]);
    assert!(w.closed.contains(&old));
    assert_eq!(
        w.take("bob"),
        [leave(room_id, "alice"), ServerMsg::CallEnd { room_id }]
    );
    w.quiet("alice");

    // The old connection can no longer act as alice.
    w.command_on(old, CallMsg::Hangup { req: 1 });
    assert!(w.take_conn(old).is_empty());
    assert!(w.board.is_online("alice"));
}

#[test]
fn late_disconnect_of_a_replaced_connection_changes_nothing() {
    let mut w = World::online(&["alice"]);
    let old = w.conn("alice");
    w.login("alice");
    w.board.disconnect(w.now, old);
    assert!(w.board.is_online("alice"));
}

#[test]
fn signing_out_everywhere_kicks_the_connection_and_leaves_its_call() {
    let mut w = World::online(&["alice", "bob"]);
    let room_id = w.in_call("alice", "bob", CallType::Audio);
    let conn = w.conn("alice");
    w.sign_out("alice");
    assert_eq!(w.take_conn(conn), [ServerMsg::KickedOut {}]);
    assert!(w.closed.contains(&conn));
    assert_eq!(
        w.take("bob"),
        [leave(room_id, "alice"), ServerMsg::CallEnd { room_id }]
    );
    assert!(!w.board.is_online("alice"));
    // Signing out someone who is not connected changes nothing.
    w.sign_out("carol");
    w.quiet("bob");
}
