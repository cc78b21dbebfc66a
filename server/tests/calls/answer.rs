use app::protocol::{CallMsg, CallType, InviteData, ServerMsg, SignalData, INVITE_DATA_VERSION};

use crate::harness::*;

#[test]
fn callee_answers_then_caller_hangs_up() {
    let mut w = World::online(&["alice", "bob"]);
    let (invite_id, room_id) = w.call("alice", &["bob"], CallType::Video, 30);
    w.quiet("alice");
    assert_eq!(
        w.invited("bob"),
        ServerMsg::Invited {
            invite_id: invite_id.clone(),
            sponsor: "alice".into(),
            user_ids: vec!["bob".into()],
            is_from_group: false,
            group_id: None,
            invite_data: InviteData {
                version: INVITE_DATA_VERSION,
                call_type: CallType::Video,
                room_id
            },
            timeout: 30,
        }
    );

    ok(&w.accept("bob", &invite_id));
    assert_eq!(
        w.take("bob"),
        [enter(room_id, "alice"), media("alice", true, true)]
    );
    assert_eq!(
        w.take("alice"),
        [enter(room_id, "bob"), media("bob", true, true)]
    );

    ok(&w.hangup("alice"));
    w.quiet("alice");
    assert_eq!(
        w.take("bob"),
        [leave(room_id, "alice"), ServerMsg::CallEnd { room_id }]
    );
    assert!(!w.board.is_busy("alice") && !w.board.is_busy("bob"));
    // Answered calls do not time out later.
    w.advance(60);
    w.quiet("alice");
    w.quiet("bob");
}

#[test]
fn negotiation_and_media_state_reach_the_peer_only() {
    let mut w = World::online(&["alice", "bob", "eve"]);
    w.in_call("alice", "bob", CallType::Audio);

    w.signal("alice", "bob", r#"{"kind":"offer","sdp":"v=0"}"#);
    let got = w.take("bob");
    assert!(
        matches!(&got[..], [ServerMsg::Signal { from, data }] if from == "alice" && matches!(data, SignalData::Offer { .. })),
        "{got:?}"
    );
    w.quiet("eve");

    w.command(
        "bob",
        CallMsg::Media {
            audio: false,
            video: false,
        },
    );
    assert_eq!(w.take("alice"), [media("bob", false, false)]);
    w.quiet("bob");
    w.quiet("eve");
}

#[test]
fn one_to_one_call_switches_type() {
    let mut w = World::online(&["alice", "bob"]);
    w.in_call("alice", "bob", CallType::Video);
    ok(&w.ask("bob", |req| CallMsg::SwitchType {
        req,
        call_type: CallType::Audio,
    }));
    assert_eq!(
        w.take("alice"),
        [ServerMsg::CallType {
            user_id: "bob".into(),
            call_type: CallType::Audio
        }]
    );
}

#[test]
fn callee_hangs_up_ends_the_call_for_the_caller() {
    let mut w = World::online(&["alice", "bob"]);
    let room_id = w.in_call("alice", "bob", CallType::Audio);
    ok(&w.hangup("bob"));
    assert_eq!(
        w.take("alice"),
        [leave(room_id, "bob"), ServerMsg::CallEnd { room_id }]
    );
    w.quiet("bob");
}
