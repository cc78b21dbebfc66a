use app::protocol::{CallMsg, CallType, ErrorCode, SignalData};

use crate::harness::*;

fn call(w: &mut World, from: &str, to: &[&str]) -> ErrorCode {
    let user_ids: Vec<String> = to.iter().map(|s| s.to_string()).collect();
    refused(&w.ask(from, |req| CallMsg::Call {
        req,
        user_ids,
        call_type: CallType::Audio,
        timeout: 0,
        group_id: None,
    }))
}

#[test]
fn only_the_invitee_may_answer() {
    let mut w = World::online(&["alice", "bob", "eve"]);
    let (invite_id, _) = w.call("alice", &["bob"], CallType::Audio, 0);
    assert_eq!(refused(&w.accept("eve", &invite_id)), ErrorCode::InviteGone);
    assert_eq!(
        refused(&w.reject("eve", &invite_id, false)),
        ErrorCode::InviteGone
    );
    assert_eq!(
        refused(&w.accept("alice", &invite_id)),
        ErrorCode::InviteGone
    );
    assert_eq!(
        refused(&w.accept("bob", "no-such-invite")),
        ErrorCode::InviteGone
    );
    ok(&w.accept("bob", &invite_id));
    assert_eq!(refused(&w.accept("bob", &invite_id)), ErrorCode::InviteGone);
}

#[test]
fn only_room_members_may_signal() {
    let mut w = World::online(&["alice", "bob", "eve"]);
    let (invite_id, _) = w.call("alice", &["bob"], CallType::Audio, 0);
    w.take("bob");
    w.take("alice");
    let data = SignalData::Offer { sdp: "v=0".into() };
    // Before answering, bob is not in the room.
    w.command(
        "bob",
        CallMsg::Signal {
            to: "alice".into(),
            data: data.clone(),
        },
    );
    assert_eq!(refused(&w.take("bob")[0]), ErrorCode::NotInRoom);
    w.accept("bob", &invite_id);
    w.take("alice");
    w.take("bob");
    w.command(
        "eve",
        CallMsg::Signal {
            to: "alice".into(),
            data: data.clone(),
        },
    );
    assert_eq!(refused(&w.take("eve")[0]), ErrorCode::NotInRoom);
    w.command(
        "alice",
        CallMsg::Signal {
            to: "eve".into(),
            data,
        },
    );
    assert_eq!(refused(&w.take("alice")[0]), ErrorCode::NotInRoom);
    w.quiet("bob");
}

#[test]
fn bad_call_requests() {
    let mut w = World::online(&["alice", "bob"]);
    assert_eq!(call(&mut w, "alice", &[]), ErrorCode::InvalidArgument);
    assert_eq!(
        call(&mut w, "alice", &["alice"]),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        call(&mut w, "alice", &["not valid!"]),
        ErrorCode::InvalidArgument
    );
    assert!(!w.board.is_busy("alice"));
    assert_eq!(refused(&w.hangup("alice")), ErrorCode::NotInCall);
}

#[test]
fn ringing_user_cannot_place_a_call() {
    let mut w = World::online(&["alice", "bob", "carol"]);
    w.call("alice", &["bob"], CallType::Audio, 0);
    assert_eq!(call(&mut w, "bob", &["carol"]), ErrorCode::Busy);
}

#[test]
fn call_size_is_capped() {
    let mut w = World::with_max(3);
    for u in ["alice", "bob", "carol", "dave"] {
        w.login(u);
    }
    assert_eq!(
        call(&mut w, "alice", &["bob", "carol", "dave"]),
        ErrorCode::CallTooLarge
    );
    assert!(!w.board.is_busy("alice"));
    let (invite_id, _) = w.call("alice", &["bob", "carol"], CallType::Audio, 0);
    w.accept("bob", &invite_id);
    // Pending invitees count towards the cap too.
    assert_eq!(call(&mut w, "bob", &["dave"]), ErrorCode::CallTooLarge);
}

#[test]
fn a_list_longer_than_any_call_is_refused_before_it_is_read() {
    let mut w = World::with_max(3);
    w.login("alice");
    // Thousands of names with a bad one last: refused for its length, before any name is
    // looked at (which, under the hub's lock, would be work in proportion to the list).
    let mut long: Vec<String> = (0..10_000).map(|i| format!("u{i}")).collect();
    long.push("not valid!".into());
    let long: Vec<&str> = long.iter().map(String::as_str).collect();
    assert_eq!(call(&mut w, "alice", &long), ErrorCode::CallTooLarge);
    // Repeating a name within the slack is still one invitee.
    w.login("bob");
    let (invite_id, _) = w.call("alice", &["bob", "bob", "bob"], CallType::Audio, 0);
    assert!(!invite_id.is_empty());
}

#[test]
fn switching_type_needs_a_one_to_one_call() {
    let mut w = World::online(&["alice", "bob", "carol"]);
    let switch = |w: &mut World, u: &str| {
        refused(&w.ask(u, |req| CallMsg::SwitchType {
            req,
            call_type: CallType::Video,
        }))
    };
    assert_eq!(switch(&mut w, "alice"), ErrorCode::NotInCall);
    let (invite_id, _) = w.call("alice", &["bob", "carol"], CallType::Audio, 0);
    w.accept("bob", &invite_id);
    w.accept("carol", &invite_id);
    assert_eq!(switch(&mut w, "alice"), ErrorCode::NotOneToOne);
}

#[test]
fn group_calls_need_membership() {
    let mut w = World::online(&["alice", "bob"]);
    let team = group("g1", &["bob", "carol"]);
    let reply = w.ask_with(
        "alice",
        |req| CallMsg::Call {
            req,
            user_ids: vec!["bob".into()],
            call_type: CallType::Audio,
            timeout: 0,
            group_id: Some("g1".into()),
        },
        Some(team),
    );
    assert_eq!(refused(&reply), ErrorCode::NotGroupMember);
    w.quiet("bob");
}

#[test]
fn commands_from_unknown_connections_are_ignored() {
    let mut w = World::online(&["alice"]);
    w.command_on(999, CallMsg::Hangup { req: 1 });
    assert!(w.take_conn(999).is_empty());
}
