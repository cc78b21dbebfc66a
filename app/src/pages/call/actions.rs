//! What the calling UI can do: each action drives the engine and updates the session's
//! signals. Declared once: in the browser with their bodies; on the server, where only event
//! handlers (which never run there) would call them, as empty methods for components to compile
//! against.

use super::session::CallSession;
use crate::protocol::{CallType, GroupInfo};
#[cfg(feature = "hydrate")]
use {
    super::session::{fetch_usersig, CallView, DeviceOption, Member},
    crate::calling::web::Engine,
    leptos::prelude::*,
};

/// Declares actions with their bodies in the browser and without them on the server.
macro_rules! actions {
    // `self` comes from the call, as `$this`, so that the bodies may use it.
    ($($(#[$meta:meta])* pub fn $name:ident($this:ident $(, $arg:ident: $ty:ty)* $(,)?) $body:block)*) => {
        impl CallSession {
            $(
                $(#[$meta])*
                #[cfg(feature = "hydrate")]
                pub fn $name($this $(, $arg: $ty)*) $body

                $(#[$meta])*
                #[cfg(not(feature = "hydrate"))]
                #[allow(unused_variables, clippy::unused_self)]
                pub fn $name($this $(, $arg: $ty)*) {}
            )*
        }
    };
}

actions! {
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
                    .set(Some(format!("Calling is unavailable: {f}"))),
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
                Err(f) => self.notice.set(Some(f.to_string())),
            }
        });
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
                    self.notice.set(Some(f.to_string()));
                }
            }),
            _ => leptos::task::spawn_local(async move {
                if let Err(f) = engine.use_microphone(id).await {
                    self.notice.set(Some(f.to_string()));
                }
            }),
        }
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
                self.notice.set(Some(f.to_string()));
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
                    Err(f) => self.notice.set(Some(f.to_string())),
                }
            });
        }
    }

    pub fn switch_type(self, to: CallType) {
        let Some(engine) = self.engine() else { return };
        leptos::task::spawn_local(async move {
            match engine.switch_call_type(to).await {
                Ok(()) => self.set_call_video(to == CallType::Video),
                Err(f) => self.notice.set(Some(f.to_string())),
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
                    self.notice.set(Some(f.to_string()));
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
}
