//! The page's calling session: the engine, and signals the UI reads.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::protocol::{CallType, GroupInfo, Presence};

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

/// A camera, microphone or speaker to pick from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceOption {
    /// `videoinput`, `audioinput` or `audiooutput`.
    pub kind: String,
    pub id: String,
    pub label: String,
}

/// What the calling UI shows.
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

/// Shared by every component through context; cheap to copy.
#[derive(Clone, Copy)]
pub struct CallSession {
    pub me: RwSignal<Option<String>>,
    pub presence: RwSignal<HashMap<String, Presence>>,
    pub view: RwSignal<CallView>,
    pub kicked: RwSignal<bool>,
    /// Calls missed while this page was open.
    pub missed: RwSignal<u32>,
    pub muted: RwSignal<bool>,
    pub camera: RwSignal<bool>,
    pub notice: RwSignal<Option<String>>,
    pub groups: RwSignal<Vec<GroupInfo>>,
    pub devices: RwSignal<Vec<DeviceOption>>,
    pub can_choose_speaker: RwSignal<bool>,
    #[cfg(feature = "hydrate")]
    engine: StoredValue<Option<crate::calling::web::Engine>, LocalStorage>,
}

impl CallSession {
    pub fn new() -> Self {
        Self {
            me: RwSignal::new(None),
            presence: RwSignal::new(HashMap::new()),
            view: RwSignal::new(CallView::Idle),
            kicked: RwSignal::new(false),
            missed: RwSignal::new(0),
            muted: RwSignal::new(false),
            camera: RwSignal::new(true),
            notice: RwSignal::new(None),
            groups: RwSignal::new(Vec::new()),
            devices: RwSignal::new(Vec::new()),
            can_choose_speaker: RwSignal::new(false),
            #[cfg(feature = "hydrate")]
            engine: StoredValue::new_local(None),
        }
    }

    pub fn presence_of(&self, user: &str) -> Presence {
        self.presence
            .with(|p| p.get(user).copied())
            .unwrap_or(Presence::Offline)
    }
}

impl Default for CallSession {
    fn default() -> Self {
        Self::new()
    }
}

/// Browser-side actions. On the server they are never reached: only event handlers call them.
#[cfg(feature = "hydrate")]
mod actions {
    use super::*;
    use crate::calling::{events::Event, web::Engine};

    impl CallSession {
        fn engine(&self) -> Option<Engine> {
            self.engine.with_value(|e| e.clone())
        }

        /// Logs this page in to the signaling server as the signed-in user.
        pub fn start(self) {
            leptos::task::spawn_local(async move {
                let Some((user_id, user_sig)) = fetch_usersig().await else {
                    return;
                };
                let engine = Engine::new();
                engine.subscribe(move |event| self.on_event(event));
                self.engine.set_value(Some(engine.clone()));
                self.watch_devices();
                match engine.login(user_id.clone(), user_sig).await {
                    Ok(()) => {
                        self.me.set(Some(user_id));
                        self.kicked.set(false);
                        self.refresh_groups();
                    }
                    Err(f) => self
                        .notice
                        .set(Some(format!("Calling is unavailable: {}", f.message))),
                }
            });
        }

        /// Takes this tab back after the user signed in somewhere else.
        pub fn reconnect(self) {
            if let Some(engine) = self.engine() {
                leptos::task::spawn_local(async move {
                    let _ = engine.logout().await;
                });
            }
            self.engine.set_value(None);
            self.start();
        }

        pub fn call(self, peers: Vec<String>, call_type: CallType) {
            self.place(peers, call_type, None);
        }

        /// Calls a named group's members, through the group.
        pub fn call_group(self, group: &GroupInfo, call_type: CallType) {
            let me = self.me.get_untracked().unwrap_or_default();
            let peers = group
                .user_ids
                .iter()
                .filter(|u| **u != me)
                .cloned()
                .collect();
            self.place(peers, call_type, Some(group.group_id.clone()));
        }

        pub fn create_group(self, name: String, members: Vec<String>) {
            let Some(engine) = self.engine() else { return };
            leptos::task::spawn_local(async move {
                match engine.create_group(name, members).await {
                    Ok(_) => self.refresh_groups(),
                    Err(f) => self.notice.set(Some(f.message)),
                }
            });
        }

        /// Keeps the device lists current as devices come and go.
        fn watch_devices(self) {
            use wasm_bindgen::{closure::Closure, JsCast};
            self.can_choose_speaker.set(Engine::can_choose_speaker());
            self.refresh_devices();
            let Some(devices) = web_sys::window().and_then(|w| w.navigator().media_devices().ok())
            else {
                return;
            };
            let on_change = Closure::<dyn FnMut()>::new(move || self.refresh_devices());
            devices.set_ondevicechange(Some(on_change.as_ref().unchecked_ref()));
            // The handler lives as long as the page.
            on_change.forget();
        }

        pub fn refresh_devices(self) {
            let Some(engine) = self.engine() else { return };
            leptos::task::spawn_local(async move {
                let list = engine
                    .devices()
                    .await
                    .into_iter()
                    .map(|d| DeviceOption {
                        kind: d.kind,
                        id: d.id,
                        label: d.label,
                    })
                    .collect();
                self.devices.set(list);
            });
        }

        /// Switches the camera, microphone or speaker, in the running call too.
        pub fn use_device(self, kind: &str, id: String) {
            let Some(engine) = self.engine() else { return };
            match kind {
                "audiooutput" => engine.use_speaker(id),
                "videoinput" => leptos::task::spawn_local(async move {
                    if let Err(f) = engine.use_camera(id).await {
                        self.notice.set(Some(f.message));
                    }
                }),
                _ => leptos::task::spawn_local(async move {
                    if let Err(f) = engine.use_microphone(id).await {
                        self.notice.set(Some(f.message));
                    }
                }),
            }
        }

        fn refresh_groups(self) {
            let Some(engine) = self.engine() else { return };
            leptos::task::spawn_local(async move {
                if let Ok(outcome) = engine.list_groups().await {
                    self.groups.set(outcome.groups.unwrap_or_default());
                }
            });
        }

        fn place(self, peers: Vec<String>, call_type: CallType, group_id: Option<String>) {
            let Some(engine) = self.engine() else { return };
            let video = call_type == CallType::Video;
            self.muted.set(false);
            self.camera.set(video);
            self.view.set(CallView::Outgoing {
                peers: peers.clone(),
                video,
                outcome: None,
            });
            leptos::task::spawn_local(async move {
                if let Err(f) = engine.call(peers, call_type, 30, group_id).await {
                    self.notice.set(Some(f.message));
                    self.view.set(CallView::Idle);
                }
            });
        }

        pub fn accept(self) {
            let (
                Some(engine),
                CallView::Incoming {
                    invite_id,
                    sponsor,
                    video,
                    ..
                },
            ) = (self.engine(), self.view.get_untracked())
            else {
                return;
            };
            self.muted.set(false);
            self.camera.set(video);
            self.view.set(CallView::InCall {
                video,
                members: vec![Member::new(sponsor, video)],
            });
            leptos::task::spawn_local(async move {
                if let Err(f) = engine.accept(invite_id).await {
                    self.notice.set(Some(f.message));
                    self.view.set(CallView::Idle);
                }
            });
        }

        pub fn decline(self) {
            let (Some(engine), CallView::Incoming { invite_id, .. }) =
                (self.engine(), self.view.get_untracked())
            else {
                return;
            };
            self.view.set(CallView::Idle);
            leptos::task::spawn_local(async move {
                let _ = engine.reject(invite_id, false).await;
            });
        }

        pub fn hangup(self) {
            self.view.set(CallView::Idle);
            if let Some(engine) = self.engine() {
                leptos::task::spawn_local(async move {
                    let _ = engine.hangup().await;
                });
            }
        }

        pub fn toggle_mute(self) {
            let Some(engine) = self.engine() else { return };
            let mute = !self.muted.get_untracked();
            engine.set_mic_mute(mute);
            self.muted.set(mute);
        }

        pub fn toggle_camera(self) {
            let Some(engine) = self.engine() else { return };
            if self.camera.get_untracked() {
                engine.close_camera();
                self.camera.set(false);
            } else {
                leptos::task::spawn_local(async move {
                    match engine.open_camera().await {
                        Ok(()) => self.camera.set(true),
                        Err(f) => self.notice.set(Some(f.message)),
                    }
                });
            }
        }

        pub fn switch_type(self, to: CallType) {
            let Some(engine) = self.engine() else { return };
            leptos::task::spawn_local(async move {
                match engine.switch_call_type(to).await {
                    Ok(()) => self.set_call_video(to == CallType::Video),
                    Err(f) => self.notice.set(Some(f.message)),
                }
            });
        }

        /// `480p`, `720p` or `1080p`: the next capture, and the camera at once in a video call.
        pub fn set_quality(self, profile: &str) {
            let (Some(engine), Some(p)) =
                (self.engine(), crate::calling::web::Profile::parse(profile))
            else {
                return;
            };
            engine.set_video_quality(p);
            // In a call with the camera on, reopen it at the new size.
            if matches!(
                self.view.get_untracked(),
                CallView::InCall { video: true, .. }
            ) && self.camera.get_untracked()
            {
                leptos::task::spawn_local(async move {
                    if let Err(f) = engine.open_camera().await {
                        self.notice.set(Some(f.message));
                    }
                });
            }
        }

        pub fn start_remote_view(self, user: &str, dom_id: &str) {
            if let Some(engine) = self.engine() {
                let _ = engine.start_remote_view(user, dom_id);
            }
        }

        pub fn stop_remote_view(self, user: &str, dom_id: &str) {
            if let Some(engine) = self.engine() {
                engine.stop_remote_view(user, dom_id);
            }
        }

        pub fn start_local_view(self, dom_id: &str) {
            if let Some(engine) = self.engine() {
                let _ = engine.start_local_view(dom_id);
            }
        }

        pub fn stop_local_view(self, dom_id: &str) {
            if let Some(engine) = self.engine() {
                engine.stop_local_view(dom_id);
            }
        }

        fn set_call_video(self, video: bool) {
            self.camera.set(video);
            self.view.update(|v| {
                if let CallView::InCall { video: v, .. } = v {
                    *v = video;
                }
            });
        }

        fn update_member(self, user: &str, f: impl FnOnce(&mut Member)) {
            self.view.update(|v| {
                if let CallView::InCall { members, .. } = v {
                    if let Some(m) = members.iter_mut().find(|m| m.user_id == user) {
                        f(m);
                    }
                }
            });
        }

        fn failed(self, outcome: &'static str) {
            self.view.update(|v| {
                if let CallView::Outgoing {
                    outcome: o, peers, ..
                } = v
                {
                    // In a group call, one refusal is not the call's outcome.
                    if peers.len() == 1 {
                        *o = Some(outcome);
                    }
                }
            });
        }

        fn on_event(self, event: &Event) {
            match event.clone() {
                Event::Invited {
                    invite_id,
                    sponsor,
                    user_ids,
                    invite_data,
                    timeout,
                    ..
                } => {
                    if self.view.get_untracked() == CallView::Idle {
                        let me = self.me.get_untracked().unwrap_or_default();
                        let others = user_ids.into_iter().filter(|u| *u != me).collect();
                        self.view.set(CallView::Incoming {
                            invite_id,
                            sponsor,
                            video: invite_data.call_type == CallType::Video,
                            others,
                            timeout,
                        });
                    }
                }
                Event::Reject { .. } => self.failed("Declined"),
                Event::LineBusy { .. } => self.failed("Busy"),
                Event::NoResp { .. } => self.failed("No answer"),
                Event::CallingCancel { invite_id, .. } | Event::CallingTimeout { invite_id } => {
                    if matches!(self.view.get_untracked(), CallView::Incoming { invite_id: ref i, .. } if *i == invite_id)
                    {
                        self.view.set(CallView::Idle);
                        self.missed.update(|n| *n += 1);
                    }
                }
                Event::UserEnter { user_id } => {
                    let video = match self.view.get_untracked() {
                        CallView::Outgoing { video, .. } | CallView::InCall { video, .. } => video,
                        _ => return,
                    };
                    self.view.update(|v| {
                        let mut members = match v {
                            CallView::InCall { members, .. } => std::mem::take(members),
                            _ => Vec::new(),
                        };
                        if !members.iter().any(|m| m.user_id == user_id) {
                            members.push(Member::new(user_id.clone(), video));
                        }
                        *v = CallView::InCall { video, members };
                    });
                }
                Event::UserLeave { user_id } => self.view.update(|v| {
                    if let CallView::InCall { members, .. } = v {
                        members.retain(|m| m.user_id != user_id);
                    }
                }),
                Event::CallEnd => {
                    // A failed outgoing call keeps its outcome on screen until dismissed.
                    if !matches!(
                        self.view.get_untracked(),
                        CallView::Outgoing {
                            outcome: Some(_),
                            ..
                        }
                    ) {
                        self.view.set(CallView::Idle);
                    }
                }
                Event::KickedOut => {
                    self.view.set(CallView::Idle);
                    self.kicked.set(true);
                    self.me.set(None);
                }
                Event::UserVideoAvailable { user_id, available } => {
                    self.update_member(&user_id, |m| m.video = available)
                }
                Event::UserAudioAvailable { user_id, available } => {
                    self.update_member(&user_id, |m| m.audio = available)
                }
                Event::Presence { user_id, status } => self.presence.update(|p| {
                    p.insert(user_id, status);
                }),
                Event::Error { message, .. } => self.notice.set(Some(message)),
                Event::Speaking { user_id, speaking } => {
                    self.update_member(&user_id, |m| m.speaking = speaking)
                }
                Event::NetworkQuality { user_id, quality } => {
                    self.update_member(&user_id, |m| m.quality = Some(quality.as_str()))
                }
                Event::Reconnecting {
                    user_id,
                    reconnecting,
                } => self.update_member(&user_id, |m| m.reconnecting = reconnecting),
            }
        }
    }

    /// The signed-in user's UserSig, or `None` when nobody is signed in.
    async fn fetch_usersig() -> Option<(String, String)> {
        use wasm_bindgen::JsCast;
        use wasm_bindgen_futures::JsFuture;
        let window = web_sys::window()?;
        let response: web_sys::Response = JsFuture::from(window.fetch_with_str("/api/usersig"))
            .await
            .ok()?
            .dyn_into()
            .ok()?;
        if !response.ok() {
            return None;
        }
        let body = JsFuture::from(response.text().ok()?)
            .await
            .ok()?
            .as_string()?;
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        Some((
            v["userID"].as_str()?.to_owned(),
            v["userSig"].as_str()?.to_owned(),
        ))
    }
}

/// On the server nothing calls these: they run from event handlers and effects, which only run
/// in the browser. They exist so that the same components compile for server rendering.
#[cfg(not(feature = "hydrate"))]
mod server_side {
    use super::*;

    #[allow(clippy::unused_self)]
    impl CallSession {
        pub fn start(self) {}
        pub fn reconnect(self) {}
        pub fn call(self, _peers: Vec<String>, _call_type: CallType) {}
        pub fn call_group(self, _group: &GroupInfo, _call_type: CallType) {}
        pub fn create_group(self, _name: String, _members: Vec<String>) {}
        pub fn accept(self) {}
        pub fn decline(self) {}
        pub fn hangup(self) {}
        pub fn toggle_mute(self) {}
        pub fn toggle_camera(self) {}
        pub fn switch_type(self, _to: CallType) {}
        pub fn set_quality(self, _profile: &str) {}
        pub fn start_remote_view(self, _user: &str, _dom_id: &str) {}
        pub fn stop_remote_view(self, _user: &str, _dom_id: &str) {}
        pub fn start_local_view(self, _dom_id: &str) {}
        pub fn use_device(self, _kind: &str, _id: String) {}
        pub fn refresh_devices(self) {}
        pub fn stop_local_view(self, _dom_id: &str) {}
    }
}
