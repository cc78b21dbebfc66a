use app::protocol::CallType;
use server::signaling::switchboard::{Ending, Record};

use crate::harness::*;

fn ended(invite_id: &str, callee: &str, ending: Ending) -> Record {
    Record::Ended {
        invite_id: invite_id.into(),
        callee: callee.into(),
        ending,
    }
}

fn placed(invite_id: &str, caller: &str, callee: &str, call_type: CallType) -> Record {
    Record::Placed {
        invite_id: invite_id.into(),
        caller: caller.into(),
        callee: callee.into(),
        call_type,
        group: false,
    }
}

#[test]
fn answered_call_is_recorded_from_placing_to_hanging_up() {
    let mut w = World::online(&["alice", "bob"]);
    let (invite_id, _) = w.call("alice", &["bob"], CallType::Video, 30);
    w.accept("bob", &invite_id);
    w.hangup("alice");
    assert_eq!(
        w.records,
        [
            placed(&invite_id, "alice", "bob", CallType::Video),
            Record::Answered {
                invite_id: invite_id.clone(),
                callee: "bob".into()
            },
            ended(&invite_id, "bob", Ending::Answered),
        ]
    );
}

#[test]
fn unanswered_outcomes_are_recorded() {
    let mut w = World::online(&["alice", "bob", "carol", "dave", "erin"]);
    let (declined, _) = w.call("alice", &["bob"], CallType::Audio, 0);
    w.reject("bob", &declined, false);
    let (busy, _) = w.call("alice", &["bob"], CallType::Audio, 0);
    w.reject("bob", &busy, true);
    let (timed_out, _) = w.call("carol", &["dave"], CallType::Audio, 5);
    w.advance(5);
    let (cancelled, _) = w.call("erin", &["dave"], CallType::Audio, 0);
    w.hangup("erin");
    let endings: Vec<&Record> = w
        .records
        .iter()
        .filter(|r| matches!(r, Record::Ended { .. }))
        .collect();
    assert_eq!(
        endings,
        [
            &ended(&declined, "bob", Ending::Declined),
            &ended(&busy, "bob", Ending::Busy),
            &ended(&timed_out, "dave", Ending::NoAnswer),
            &ended(&cancelled, "dave", Ending::Cancelled),
        ]
    );
}

#[test]
fn a_callee_already_busy_is_recorded_as_busy() {
    let mut w = World::online(&["alice", "bob", "carol"]);
    w.in_call("carol", "bob", CallType::Audio);
    w.records.clear();
    let (invite_id, _) = w.call("alice", &["bob"], CallType::Audio, 0);
    assert_eq!(
        w.records,
        [
            placed(&invite_id, "alice", "bob", CallType::Audio),
            ended(&invite_id, "bob", Ending::Busy)
        ]
    );
}
