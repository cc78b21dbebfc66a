//! What a stranger can do to someone who does not want their calls: blocking, and how often a
//! caller may ring the same person.

use app::protocol::{CallMsg, CallType, ErrorCode, ServerMsg};

use crate::harness::*;

#[test]
fn a_blocked_caller_rings_nobody_and_hears_no_answer() {
    let mut w = World::online(&["alice", "mallory"]);
    w.block("alice", "mallory");
    let (invite_id, room_id) = w.call("mallory", &["alice"], CallType::Video, 30);
    w.quiet("alice");
    assert!(
        !w.board.is_busy("alice"),
        "a blocked call keeps nobody busy"
    );
    w.advance(30);
    w.quiet("alice");
    assert_eq!(
        w.take("mallory"),
        [
            ServerMsg::NoResp {
                invite_id,
                user_id: "alice".into(),
                user_ids: vec!["alice".into()]
            },
            ServerMsg::CallEnd { room_id },
        ]
    );
}

#[test]
fn a_blocked_caller_cannot_tell_that_the_blocker_is_in_a_call() {
    let mut w = World::online(&["alice", "bob", "mallory"]);
    w.block("alice", "mallory");
    let (invite_id, _) = w.call("bob", &["alice"], CallType::Audio, 30);
    w.take("alice");
    ok(&w.accept("alice", &invite_id));
    w.take("alice");
    w.take("bob");
    w.call("mallory", &["alice"], CallType::Audio, 30);
    // No LINE_BUSY: to mallory alice looks exactly as if she were offline.
    w.quiet("mallory");
    w.quiet("alice");
    w.advance(30);
    assert!(matches!(
        &w.take("mallory")[..],
        [ServerMsg::NoResp { .. }, ServerMsg::CallEnd { .. }]
    ));
    w.quiet("alice");
}

#[test]
fn a_blocker_who_logs_in_is_not_rung() {
    let mut w = World::online(&["mallory"]);
    w.block("alice", "mallory");
    w.call("mallory", &["alice"], CallType::Audio, 30);
    w.login("alice");
    w.quiet("alice");
}

#[test]
fn in_a_group_call_only_the_blocker_is_spared() {
    let mut w = World::online(&["alice", "bob", "mallory"]);
    w.block("alice", "mallory");
    let (invite_id, _) = w.call("mallory", &["alice", "bob"], CallType::Audio, 30);
    w.quiet("alice");
    assert!(matches!(w.invited("bob"), ServerMsg::Invited { .. }));
    ok(&w.reject("bob", &invite_id, false));
    // Bob's answer is told; alice's silence lasts until the timeout.
    assert!(matches!(&w.take("mallory")[..], [ServerMsg::Reject { .. }]));
    w.advance(30);
    assert!(matches!(
        &w.take("mallory")[..],
        [ServerMsg::NoResp { user_ids, .. }, ServerMsg::CallEnd { .. }] if user_ids == &["alice"]
    ));
}

#[test]
fn a_declined_caller_cannot_ring_again_and_again() {
    let mut w = World::online(&["bob", "mallory"]);
    for _ in 0..3 {
        let (invite_id, _) = w.call("mallory", &["bob"], CallType::Audio, 30);
        w.invited("bob");
        ok(&w.reject("bob", &invite_id, false));
        w.take("mallory");
    }
    let again = w.ask("mallory", |req| CallMsg::Call {
        req,
        user_ids: vec!["bob".into()],
        call_type: CallType::Audio,
        timeout: 30,
        group_id: None,
    });
    assert_eq!(refused(&again), ErrorCode::CallingTooOften);
    w.quiet("bob");
    assert!(!w.board.is_busy("mallory"), "a refused call opens no room");
    // Others are not held back by it, and after a while mallory may try once more.
    let (_, _) = w.call("mallory", &["carol"], CallType::Audio, 30);
    ok(&w.hangup("mallory"));
    w.advance(20);
    w.call("mallory", &["bob"], CallType::Audio, 30);
    assert!(matches!(w.invited("bob"), ServerMsg::Invited { .. }));
}
