//! The page's calling session: the engine, and signals the UI reads.

use std::collections::HashMap;

use leptos::prelude::*;

pub use super::view::{CallView, Member};
use crate::protocol::{GroupInfo, Presence};

/// A camera, microphone or speaker to pick from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceOption {
    /// `videoinput`, `audioinput` or `audiooutput`.
    pub kind: String,
    pub id: String,
    pub label: String,
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
    pub(super) engine: StoredValue<Option<crate::calling::web::Engine>, LocalStorage>,
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
        self.known_presence_of(user).unwrap_or(Presence::Offline)
    }

    /// The presence the server told of `user`, if it told any: it tells only of contacts
    /// who accepted.
    pub fn known_presence_of(&self, user: &str) -> Option<Presence> {
        self.presence.with(|p| p.get(user).copied())
    }
}

impl Default for CallSession {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "hydrate")]
pub(super) use glue::fetch_usersig;

/// The browser-side plumbing behind the actions in [`super::actions`].
#[cfg(feature = "hydrate")]
mod glue {
    use super::*;
    use crate::calling::{events::Event, web::Engine};
    use crate::protocol::CallType;

    impl CallSession {
        pub(in crate::pages::call) fn engine(&self) -> Option<Engine> {
            self.engine.with_value(|e| e.clone())
        }

        /// Keeps the device lists current as devices come and go.
        pub(in crate::pages::call) fn watch_devices(self) {
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

        pub(in crate::pages::call) fn refresh_groups(self) {
            let Some(engine) = self.engine() else { return };
            leptos::task::spawn_local(async move {
                if let Ok(outcome) = engine.list_groups().await {
                    self.groups.set(outcome.groups.unwrap_or_default());
                }
            });
        }

        pub(in crate::pages::call) fn place(
            self,
            peers: Vec<String>,
            call_type: CallType,
            group_id: Option<String>,
        ) {
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
                    self.notice.set(Some(f.to_string()));
                    self.view.set(CallView::Idle);
                }
            });
        }

        pub(in crate::pages::call) fn set_call_video(self, video: bool) {
            self.camera.set(video);
            self.view.update(|v| v.set_video(video));
        }

        /// Follows one engine event: the view through its reducer, the rest here.
        pub(in crate::pages::call) fn on_event(self, event: &Event) {
            let me = self.me.get_untracked().unwrap_or_default();
            let mut view = self.view.get_untracked();
            let applied = view.apply(&me, event);
            if self.view.with_untracked(|v| *v != view) {
                self.view.set(view);
            }
            if applied.missed {
                self.missed.update(|n| *n += 1);
            }
            match event {
                Event::KickedOut => {
                    self.kicked.set(true);
                    self.me.set(None);
                    // Kicked out because this account signed out everywhere (or changed its
                    // password, or is gone) rather than by a login elsewhere: this browser's
                    // session is over too, so go and sign in.
                    // After a pause: when this very tab signed out or deleted the account, it
                    // is already on its way to the next page, which must not be overtaken.
                    leptos::task::spawn_local(async {
                        let Some(window) = web_sys::window() else {
                            return;
                        };
                        let pause = js_sys::Promise::new(&mut |resolve, _| {
                            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                                &resolve, 1500,
                            );
                        });
                        let _ = wasm_bindgen_futures::JsFuture::from(pause).await;
                        if fetch_usersig().await.is_none() {
                            let _ = window.location().assign("/login");
                        }
                    });
                }
                Event::Presence { user_id, status } => self.presence.update(|p| {
                    p.insert(user_id.clone(), *status);
                }),
                Event::Error(refusal) => self.notice.set(Some(refusal.to_string())),
                _ => {}
            }
        }
    }

    /// The signed-in user's UserSig, or `None` when nobody is signed in.
    pub(in crate::pages::call) async fn fetch_usersig() -> Option<(String, String)> {
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
