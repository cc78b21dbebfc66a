use app::protocol::{CallType, ServerMsg};

use crate::harness::*;

#[test]
fn callee_in_a_call_is_busy_and_not_disturbed() {
    let mut w = World::online(&["alice", "bob", "carol"]);
    w.in_call("carol", "bob", CallType::Audio);

    let (invite_id, room_id) = w.call("alice", &["bob"], CallType::Video, 30);
    assert_eq!(
        w.take("alice"),
        [
            ServerMsg::LineBusy {
                invite_id,
                user_id: "bob".into()
            },
            ServerMsg::CallEnd { room_id },
        ]
    );
    w.quiet("bob");
    w.quiet("carol");
    assert!(!w.board.is_busy("alice"));
}

#[test]
fn callee_already_ringing_is_busy() {
    let mut w = World::online(&["alice", "bob", "carol"]);
    w.call("carol", &["bob"], CallType::Audio, 0);
    w.take("bob");
    let (invite_id, _) = w.call("alice", &["bob"], CallType::Audio, 0);
    assert!(
        matches!(&w.take("alice")[0], ServerMsg::LineBusy { invite_id: i, user_id } if *i == invite_id && user_id == "bob")
    );
    w.quiet("bob");
}

#[test]
fn declining_as_busy_reads_as_line_busy() {
    let mut w = World::online(&["alice", "bob"]);
    let (invite_id, room_id) = w.call("alice", &["bob"], CallType::Audio, 0);
    w.take("bob");
    ok(&w.reject("bob", &invite_id, true));
    assert_eq!(
        w.take("alice"),
        [
            ServerMsg::LineBusy {
                invite_id,
                user_id: "bob".into()
            },
            ServerMsg::CallEnd { room_id },
        ]
    );
}

#[test]
fn declining_reads_as_reject() {
    let mut w = World::online(&["alice", "bob"]);
    let (invite_id, room_id) = w.call("alice", &["bob"], CallType::Audio, 0);
    w.take("bob");
    ok(&w.reject("bob", &invite_id, false));
    assert_eq!(
        w.take("alice"),
        [
            ServerMsg::Reject {
                invite_id,
                user_id: "bob".into()
            },
            ServerMsg::CallEnd { room_id },
        ]
    );
    w.quiet("bob");
}
