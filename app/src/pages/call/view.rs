//! What the calling UI shows, as a pure reducer of the engine's events: the page's glue feeds
//! every event to [`CallView::apply`] and renders the result.

use crate::{calling::events::Event, protocol::CallType};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub user_id: String,
    pub audio: bool,
    pub video: bool,
    pub speaking: bool,
    /// `good`, `fair` or `poor`, once known.
    pub quality: Option<&'static str>,
    pub reconnecting: bool,
}

impl Member {
    pub fn new(user_id: String, video: bool) -> Self {
        Self {
            user_id,
            audio: true,
            video,
            speaking: false,
            quality: None,
            reconnecting: false,
        }
    }
}

/// The calling screen: nothing, a call ringing out or in, or a call in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallView {
    Idle,
    /// Our call is ringing; `outcome` is set, in words, when it failed.
    Outgoing {
        peers: Vec<String>,
        video: bool,
        outcome: Option<&'static str>,
    },
    Incoming {
        invite_id: String,
        sponsor: String,
        video: bool,
        others: Vec<String>,
        timeout: u32,
    },
    InCall {
        video: bool,
        members: Vec<Member>,
    },
}

/// What an event changed besides the view, for the page to count or show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Applied {
    /// The invitation on screen went unanswered.
    pub missed: bool,
}

impl CallView {
    /// Follows one engine event; `me` is the signed-in user.
    pub fn apply(&mut self, me: &str, event: &Event) -> Applied {
        let mut applied = Applied::default();
        match event {
            Event::Invited {
                invite_id,
                sponsor,
                user_ids,
                invite_data,
                timeout,
                ..
            } => {
                // A second invitation while one is on screen or a call is up waits its turn.
                if *self == Self::Idle {
                    *self = Self::Incoming {
                        invite_id: invite_id.clone(),
                        sponsor: sponsor.clone(),
                        video: invite_data.call_type == CallType::Video,
                        others: user_ids.iter().filter(|u| *u != me).cloned().collect(),
                        timeout: *timeout,
                    };
                }
            }
            Event::Reject { .. } => self.failed("Declined"),
            Event::LineBusy { .. } => self.failed("Busy"),
            Event::NoResp { .. } => self.failed("No answer"),
            Event::CallingCancel { invite_id, .. } | Event::CallingTimeout { invite_id, .. } => {
                if matches!(self, Self::Incoming { invite_id: i, .. } if i == invite_id) {
                    *self = Self::Idle;
                    applied.missed = true;
                }
            }
            Event::UserEnter { user_id } => self.enter(user_id),
            Event::UserLeave { user_id } => {
                if let Self::InCall { members, .. } = self {
                    members.retain(|m| m.user_id != *user_id);
                }
            }
            Event::CallEnd { .. } => {
                // A failed outgoing call keeps its outcome on screen until dismissed.
                if !matches!(
                    self,
                    Self::Outgoing {
                        outcome: Some(_),
                        ..
                    }
                ) {
                    *self = Self::Idle;
                }
            }
            Event::KickedOut => *self = Self::Idle,
            other => self.apply_to_member(other),
        }
        applied
    }

    /// The member-level events: media, speaking, quality, reconnection.
    fn apply_to_member(&mut self, event: &Event) {
        let user = match event {
            Event::UserVideoAvailable { user_id, .. }
            | Event::UserAudioAvailable { user_id, .. }
            | Event::Speaking { user_id, .. }
            | Event::NetworkQuality { user_id, .. }
            | Event::Reconnecting { user_id, .. } => user_id,
            _ => return,
        };
        let Self::InCall { members, .. } = self else {
            return;
        };
        let Some(m) = members.iter_mut().find(|m| m.user_id == *user) else {
            return;
        };
        match event {
            Event::UserVideoAvailable { available, .. } => m.video = *available,
            Event::UserAudioAvailable { available, .. } => m.audio = *available,
            Event::Speaking { speaking, .. } => m.speaking = *speaking,
            Event::NetworkQuality { quality, .. } => m.quality = Some(quality.as_str()),
            Event::Reconnecting { reconnecting, .. } => m.reconnecting = *reconnecting,
            _ => {}
        }
    }

    fn enter(&mut self, user_id: &str) {
        let video = match self {
            Self::Outgoing { video, .. } | Self::InCall { video, .. } => *video,
            _ => return,
        };
        let mut members = match self {
            Self::InCall { members, .. } => std::mem::take(members),
            _ => Vec::new(),
        };
        if !members.iter().any(|m| m.user_id == user_id) {
            members.push(Member::new(user_id.to_owned(), video));
        }
        *self = Self::InCall { video, members };
    }

    /// A refusal of our outgoing call; in a group call, one refusal is not the call's outcome.
    fn failed(&mut self, outcome: &'static str) {
        if let Self::Outgoing {
            outcome: o, peers, ..
        } = self
        {
            if peers.len() == 1 {
                *o = Some(outcome);
            }
        }
    }

    /// The call switched between audio and video.
    pub fn set_video(&mut self, video: bool) {
        if let Self::InCall { video: v, .. } = self {
            *v = video;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        calling::quality::Quality,
        protocol::{InviteData, INVITE_DATA_VERSION},
    };

    fn invited(invite_id: &str, call_type: CallType) -> Event {
        Event::Invited {
            invite_id: invite_id.into(),
            sponsor: "alice".into(),
            user_ids: vec!["bob".into(), "carol".into()],
            is_from_group: false,
            invite_data: InviteData {
                version: INVITE_DATA_VERSION,
                call_type,
                room_id: 7,
            },
            timeout: 30,
        }
    }

    fn outgoing(peers: &[&str]) -> CallView {
        CallView::Outgoing {
            peers: peers.iter().map(|p| p.to_string()).collect(),
            video: true,
            outcome: None,
        }
    }

    fn enter(user: &str) -> Event {
        Event::UserEnter {
            user_id: user.into(),
        }
    }

    #[test]
    fn an_invitation_rings_and_a_cancel_counts_as_missed() {
        let mut view = CallView::Idle;
        view.apply("bob", &invited("i1", CallType::Video));
        assert_eq!(
            view,
            CallView::Incoming {
                invite_id: "i1".into(),
                sponsor: "alice".into(),
                video: true,
                others: vec!["carol".into()],
                timeout: 30
            }
        );
        // Another invitation does not replace the one on screen.
        view.apply("bob", &invited("i2", CallType::Audio));
        let other = Event::CallingCancel {
            invite_id: "i2".into(),
            sponsor: "dave".into(),
        };
        assert_eq!(view.apply("bob", &other), Applied { missed: false });
        assert!(matches!(&view, CallView::Incoming { invite_id, .. } if invite_id == "i1"));
        let timeout = Event::CallingTimeout {
            invite_id: "i1".into(),
            sponsor: "alice".into(),
            user_ids: vec!["bob".into()],
        };
        assert_eq!(view.apply("bob", &timeout), Applied { missed: true });
        assert_eq!(view, CallView::Idle);
    }

    #[test]
    fn a_one_to_one_refusal_stays_on_screen_until_dismissed() {
        let mut view = outgoing(&["bob"]);
        view.apply(
            "alice",
            &Event::LineBusy {
                sponsor: "alice".into(),
                user_id: "bob".into(),
            },
        );
        view.apply("alice", &call_end());
        assert!(matches!(
            view,
            CallView::Outgoing {
                outcome: Some("Busy"),
                ..
            }
        ));
    }

    #[test]
    fn a_group_call_is_not_ended_by_one_refusal() {
        let mut view = outgoing(&["bob", "carol"]);
        view.apply(
            "alice",
            &Event::Reject {
                user_id: "bob".into(),
            },
        );
        assert_eq!(view, outgoing(&["bob", "carol"]));
        view.apply("alice", &enter("carol"));
        view.apply("alice", &enter("carol"));
        assert_eq!(
            view,
            CallView::InCall {
                video: true,
                members: vec![Member::new("carol".into(), true)]
            }
        );
        view.apply("alice", &call_end());
        assert_eq!(view, CallView::Idle);
    }

    #[test]
    fn member_tiles_follow_media_speaking_quality_and_reconnection() {
        let mut view = outgoing(&["bob"]);
        view.apply("alice", &enter("bob"));
        let events = [
            Event::UserVideoAvailable {
                user_id: "bob".into(),
                available: false,
            },
            Event::UserAudioAvailable {
                user_id: "bob".into(),
                available: false,
            },
            Event::Speaking {
                user_id: "bob".into(),
                speaking: true,
            },
            Event::NetworkQuality {
                user_id: "bob".into(),
                quality: Quality::Poor,
            },
            Event::Reconnecting {
                user_id: "bob".into(),
                reconnecting: true,
            },
            // Events about someone not in the call change nothing.
            Event::Speaking {
                user_id: "eve".into(),
                speaking: true,
            },
        ];
        for e in &events {
            view.apply("alice", e);
        }
        let CallView::InCall { members, .. } = &view else {
            panic!("not in a call: {view:?}");
        };
        assert_eq!(
            members,
            &[Member {
                user_id: "bob".into(),
                audio: false,
                video: false,
                speaking: true,
                quality: Some("poor"),
                reconnecting: true,
            }]
        );
        view.apply(
            "alice",
            &Event::UserLeave {
                user_id: "bob".into(),
            },
        );
        assert_eq!(
            view,
            CallView::InCall {
                video: true,
                members: vec![]
            }
        );
        view.apply("alice", &Event::KickedOut);
        assert_eq!(view, CallView::Idle);
    }

    fn call_end() -> Event {
        Event::CallEnd {
            user_id: "alice".into(),
            seconds: 0,
        }
    }
}
