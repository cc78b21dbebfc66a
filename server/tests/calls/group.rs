use app::protocol::{CallType, ServerMsg};

use crate::harness::*;

#[test]
fn partial_answers_reject_and_timeout_keep_the_call() {
    let mut w = World::online(&["alice", "bob", "carol", "dave"]);
    let (invite_id, room_id) = w.call("alice", &["bob", "carol", "dave"], CallType::Video, 30);
    for u in ["bob", "carol", "dave"] {
        match w.invited(u) {
            ServerMsg::Invited {
                user_ids,
                is_from_group,
                ..
            } => {
                assert_eq!(user_ids, ["bob", "carol", "dave"]);
                assert!(!is_from_group);
            }
            other => panic!("{other:?}"),
        }
    }
    ok(&w.accept("bob", &invite_id));
    w.take("alice");
    w.take("bob");

    ok(&w.reject("carol", &invite_id, false));
    assert_eq!(
        w.take("alice"),
        [ServerMsg::Reject {
            invite_id: invite_id.clone(),
            user_id: "carol".into()
        }]
    );
    w.quiet("bob");

    w.advance(30);
    assert_eq!(
        w.take("dave"),
        [ServerMsg::CallingTimeout {
            invite_id: invite_id.clone()
        }]
    );
    assert_eq!(
        w.take("alice"),
        [ServerMsg::NoResp {
            invite_id,
            user_id: "dave".into(),
            user_ids: vec!["dave".into()]
        }]
    );
    // Two are still talking.
    w.quiet("bob");
    assert!(w.board.is_busy("alice") && w.board.is_busy("bob"));

    ok(&w.hangup("bob"));
    assert_eq!(
        w.take("alice"),
        [leave(room_id, "bob"), ServerMsg::CallEnd { room_id }]
    );
}

#[test]
fn newcomer_meets_every_member() {
    let mut w = World::online(&["alice", "bob", "carol"]);
    let (invite_id, room_id) = w.call("alice", &["bob", "carol"], CallType::Audio, 0);
    w.take("bob");
    w.take("carol");
    w.accept("bob", &invite_id);
    w.take("alice");
    w.take("bob");
    w.accept("carol", &invite_id);
    assert_eq!(
        w.take("carol"),
        [
            enter(room_id, "alice"),
            media("alice", true, false),
            enter(room_id, "bob"),
            media("bob", true, false),
        ]
    );
    assert_eq!(
        w.take("alice"),
        [enter(room_id, "carol"), media("carol", true, false)]
    );
    assert_eq!(
        w.take("bob"),
        [enter(room_id, "carol"), media("carol", true, false)]
    );
}

#[test]
fn last_member_left_gets_call_end() {
    let mut w = World::online(&["alice", "bob", "carol"]);
    let (invite_id, room_id) = w.call("alice", &["bob", "carol"], CallType::Audio, 0);
    w.take("bob");
    w.take("carol");
    w.accept("bob", &invite_id);
    w.accept("carol", &invite_id);
    for u in ["alice", "bob", "carol"] {
        w.take(u);
    }
    w.hangup("alice");
    assert_eq!(w.take("bob"), [leave(room_id, "alice")]);
    assert_eq!(w.take("carol"), [leave(room_id, "alice")]);
    w.hangup("bob");
    assert_eq!(
        w.take("carol"),
        [leave(room_id, "bob"), ServerMsg::CallEnd { room_id }]
    );
    assert!(!w.board.is_busy("carol"));
}

#[test]
fn sponsor_leaving_does_not_cancel_while_others_remain() {
    let mut w = World::online(&["alice", "bob", "carol"]);
    let (invite_id, room_id) = w.call("alice", &["bob", "carol"], CallType::Audio, 0);
    w.take("bob");
    w.take("carol");
    w.accept("bob", &invite_id);
    w.take("alice");
    w.take("bob");
    w.hangup("alice");
    assert_eq!(w.take("bob"), [leave(room_id, "alice")]);
    w.quiet("carol");
    ok(&w.accept("carol", &invite_id));
    assert_eq!(
        w.take("carol"),
        [enter(room_id, "bob"), media("bob", true, false)]
    );
}

#[test]
fn member_invites_more_people_into_the_same_room() {
    let mut w = World::online(&["alice", "bob", "carol"]);
    let room_id = w.in_call("alice", "bob", CallType::Video);
    let (second, same_room) = w.call("bob", &["carol"], CallType::Video, 0);
    assert_eq!(same_room, room_id);
    assert!(matches!(w.invited("carol"), ServerMsg::Invited { sponsor, .. } if sponsor == "bob"));
    ok(&w.accept("carol", &second));
    assert_eq!(w.take("carol").len(), 4);
}

#[test]
fn group_call_reaches_listed_members_only() {
    let mut w = World::online(&["alice", "bob", "carol", "mallory"]);
    let team = group("g1", &["alice", "bob", "carol"]);
    let (invite_id, _) = w.call_with(
        "alice",
        &["bob", "carol", "mallory"],
        CallType::Video,
        0,
        Some(team),
    );
    for u in ["bob", "carol"] {
        match w.invited(u) {
            ServerMsg::Invited {
                is_from_group,
                group_id,
                user_ids,
                invite_id: i,
                ..
            } => {
                assert!(is_from_group);
                assert_eq!(group_id.as_deref(), Some("g1"));
                assert_eq!(user_ids, ["bob", "carol"]);
                assert_eq!(i, invite_id);
            }
            other => panic!("{other:?}"),
        }
    }
    w.quiet("mallory");
}
