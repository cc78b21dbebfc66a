use app::protocol::{CallType, ServerMsg};

use crate::harness::*;

#[test]
fn caller_cancels_before_an_answer() {
    let mut w = World::online(&["alice", "bob"]);
    let (invite_id, _) = w.call("alice", &["bob"], CallType::Video, 30);
    w.take("bob");
    ok(&w.hangup("alice"));
    w.quiet("alice");
    assert_eq!(
        w.take("bob"),
        [ServerMsg::CallingCancel {
            invite_id: invite_id.clone(),
            sponsor: "alice".into()
        }]
    );
    assert_eq!(
        refused(&w.accept("bob", &invite_id)),
        app::protocol::ErrorCode::InviteGone
    );
    assert_eq!(w.board.next_deadline(), None);
}

#[test]
fn unanswered_call_times_out_on_both_sides() {
    let mut w = World::online(&["alice", "bob"]);
    let (invite_id, room_id) = w.call("alice", &["bob"], CallType::Audio, 30);
    w.take("bob");
    assert_eq!(
        w.board.next_deadline(),
        Some(w.now + std::time::Duration::from_secs(30))
    );
    w.advance(29);
    w.quiet("alice");
    w.quiet("bob");
    w.advance(1);
    assert_eq!(
        w.take("bob"),
        [ServerMsg::CallingTimeout {
            invite_id: invite_id.clone()
        }]
    );
    assert_eq!(
        w.take("alice"),
        [
            ServerMsg::NoResp {
                invite_id,
                user_id: "bob".into(),
                user_ids: vec!["bob".into()]
            },
            ServerMsg::CallEnd { room_id },
        ]
    );
    assert!(!w.board.is_busy("alice") && !w.board.is_busy("bob"));
}

#[test]
fn timeout_zero_rings_until_the_servers_ceiling() {
    // The spec's "no timeout" would let a stranger keep anyone ringing, and busy, forever.
    let mut w = World::online(&["alice", "bob"]);
    let (invite_id, room_id) = w.call("alice", &["bob"], CallType::Audio, 0);
    match w.invited("bob") {
        ServerMsg::Invited { timeout, .. } => assert_eq!(timeout, 600),
        other => panic!("{other:?}"),
    }
    w.advance(599);
    w.quiet("alice");
    assert!(w.board.is_busy("bob"));
    w.advance(1);
    assert_eq!(
        w.take("bob"),
        [ServerMsg::CallingTimeout {
            invite_id: invite_id.clone()
        }]
    );
    assert_eq!(
        w.take("alice"),
        [
            ServerMsg::NoResp {
                invite_id,
                user_id: "bob".into(),
                user_ids: vec!["bob".into()]
            },
            ServerMsg::CallEnd { room_id },
        ]
    );
    assert!(!w.board.is_busy("bob"));
}

#[test]
fn a_timeout_past_the_ceiling_is_cut_to_it() {
    let mut w = World::online(&["alice", "bob"]);
    w.board = server::signaling::switchboard::Switchboard::new(
        9,
        server::signaling::switchboard::seeded_ids(1),
    )
    .with_max_ring(std::time::Duration::from_secs(60));
    w.login("alice");
    w.login("bob");
    w.call("alice", &["bob"], CallType::Audio, 3600);
    assert_eq!(
        w.board.next_deadline(),
        Some(w.now + std::time::Duration::from_secs(60))
    );
}

#[test]
fn caller_disconnect_mid_ring_cancels() {
    let mut w = World::online(&["alice", "bob"]);
    let (invite_id, _) = w.call("alice", &["bob"], CallType::Audio, 30);
    w.take("bob");
    w.disconnect("alice");
    assert_eq!(
        w.take("bob"),
        [ServerMsg::CallingCancel {
            invite_id,
            sponsor: "alice".into()
        }]
    );
    assert!(!w.board.is_busy("bob"));
}

#[test]
fn callee_disconnect_mid_ring_keeps_ringing_for_a_reload() {
    let mut w = World::online(&["alice", "bob"]);
    let (invite_id, _) = w.call("alice", &["bob"], CallType::Audio, 30);
    w.take("bob");
    w.disconnect("bob");
    w.quiet("alice");
    w.advance(10);
    w.login("bob");
    match &w.take("bob")[..] {
        [ServerMsg::Invited {
            invite_id: i,
            timeout,
            ..
        }] => {
            assert_eq!(*i, invite_id);
            assert_eq!(*timeout, 20, "the time left, not the original timeout");
        }
        other => panic!("{other:?}"),
    }
    ok(&w.accept("bob", &invite_id));
}

#[test]
fn callee_offline_the_whole_time_gets_no_resp() {
    let mut w = World::online(&["alice"]);
    let (invite_id, _) = w.call("alice", &["bob"], CallType::Audio, 5);
    w.advance(5);
    assert!(
        matches!(&w.take("alice")[0], ServerMsg::NoResp { invite_id: i, .. } if *i == invite_id)
    );
}

#[test]
fn disconnect_mid_call_is_a_leave() {
    let mut w = World::online(&["alice", "bob"]);
    let room_id = w.in_call("alice", "bob", CallType::Audio);
    w.disconnect("bob");
    assert_eq!(
        w.take("alice"),
        [leave(room_id, "bob"), ServerMsg::CallEnd { room_id }]
    );
}
