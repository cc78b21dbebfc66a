use app::protocol::{code, CallType, SignalData};
use server::signaling::switchboard::Command;

use crate::harness::*;

fn call(w: &mut World, from: &str, to: &[&str]) -> u32 {
    let user_ids: Vec<String> = to.iter().map(|s| s.to_string()).collect();
    refused(&w.ask(from, |req| Command::Call {
        req,
        user_ids,
        call_type: CallType::Audio,
        timeout: 0,
        group: None,
    }))
}

#[test]
fn only_the_invitee_may_answer() {
    let mut w = World::online(&["alice", "bob", "eve"]);
    let (invite_id, _) = w.call("alice", &["bob"], CallType::Audio, 0);
    assert_eq!(refused(&w.accept("eve", &invite_id)), code::INVITE_GONE);
    assert_eq!(
        refused(&w.reject("eve", &invite_id, false)),
        code::INVITE_GONE
    );
    assert_eq!(refused(&w.accept("alice", &invite_id)), code::INVITE_GONE);
    assert_eq!(
        refused(&w.accept("bob", "no-such-invite")),
        code::INVITE_GONE
    );
    ok(&w.accept("bob", &invite_id));
    assert_eq!(refused(&w.accept("bob", &invite_id)), code::INVITE_GONE);
}

#[test]
fn only_room_members_may_signal() {
    let mut w = World::online(&["alice", "bob", "eve"]);
    let (invite_id, _) = w.call("alice", &["bob"], CallType::Audio, 0);
    w.take("bob");
    w.take("alice");
    let data = SignalData(serde_json::json!({"kind": "offer"}));
    // Before answering, bob is not in the room.
    w.command(
        "bob",
        Command::Signal {
            to: "alice".into(),
            data: data.clone(),
        },
    );
    assert_eq!(refused(&w.take("bob")[0]), code::NOT_IN_ROOM);
    w.accept("bob", &invite_id);
    w.take("alice");
    w.take("bob");
    w.command(
        "eve",
        Command::Signal {
            to: "alice".into(),
            data: data.clone(),
        },
    );
    assert_eq!(refused(&w.take("eve")[0]), code::NOT_IN_ROOM);
    w.command(
        "alice",
        Command::Signal {
            to: "eve".into(),
            data,
        },
    );
    assert_eq!(refused(&w.take("alice")[0]), code::NOT_IN_ROOM);
    w.quiet("bob");
}

#[test]
fn bad_call_requests() {
    let mut w = World::online(&["alice", "bob"]);
    assert_eq!(call(&mut w, "alice", &[]), code::INVALID_ARGUMENT);
    assert_eq!(call(&mut w, "alice", &["alice"]), code::INVALID_ARGUMENT);
    assert_eq!(
        call(&mut w, "alice", &["not valid!"]),
        code::INVALID_ARGUMENT
    );
    assert!(!w.board.is_busy("alice"));
    assert_eq!(refused(&w.hangup("alice")), code::NOT_IN_CALL);
}

#[test]
fn ringing_user_cannot_place_a_call() {
    let mut w = World::online(&["alice", "bob", "carol"]);
    w.call("alice", &["bob"], CallType::Audio, 0);
    assert_eq!(call(&mut w, "bob", &["carol"]), code::BUSY);
}

#[test]
fn call_size_is_capped() {
    let mut w = World::with_max(3);
    for u in ["alice", "bob", "carol", "dave"] {
        w.login(u);
    }
    assert_eq!(
        call(&mut w, "alice", &["bob", "carol", "dave"]),
        code::CALL_TOO_LARGE
    );
    assert!(!w.board.is_busy("alice"));
    let (invite_id, _) = w.call("alice", &["bob", "carol"], CallType::Audio, 0);
    w.accept("bob", &invite_id);
    // Pending invitees count towards the cap too.
    assert_eq!(call(&mut w, "bob", &["dave"]), code::CALL_TOO_LARGE);
}

#[test]
fn switching_type_needs_a_one_to_one_call() {
    let mut w = World::online(&["alice", "bob", "carol"]);
    let switch = |w: &mut World, u: &str| {
        refused(&w.ask(u, |req| Command::SwitchType {
            req,
            call_type: CallType::Video,
        }))
    };
    assert_eq!(switch(&mut w, "alice"), code::NOT_IN_CALL);
    let (invite_id, _) = w.call("alice", &["bob", "carol"], CallType::Audio, 0);
    w.accept("bob", &invite_id);
    w.accept("carol", &invite_id);
    assert_eq!(switch(&mut w, "alice"), code::NOT_ONE_TO_ONE);
}

#[test]
fn group_calls_need_membership() {
    let mut w = World::online(&["alice", "bob"]);
    let team = group("g1", &["bob", "carol"]);
    let reply = w.ask("alice", |req| Command::Call {
        req,
        user_ids: vec!["bob".into()],
        call_type: CallType::Audio,
        timeout: 0,
        group: Some(team),
    });
    assert_eq!(refused(&reply), code::NOT_GROUP_MEMBER);
    w.quiet("bob");
}

#[test]
fn commands_from_unknown_connections_are_ignored() {
    let mut w = World::online(&["alice"]);
    w.command_on(999, Command::Hangup { req: 1 });
    assert!(w.take_conn(999).is_empty());
}
