//! The browser half of the engine: carries out the [`Machine`]'s effects with a WebSocket,
//! `getUserMedia`, `RTCPeerConnection` and `<video>` elements. Everything that decides lives
//! in the machine; this module only does what it is told and reports what happened.
//!
//! [`socket`] holds the signaling connection, [`peer`] the peer connections, [`media`] the
//! devices, [`views`] the `<video>` elements, and [`monitor`] watches connections for drops
//! and for the speaking and quality indicators.

mod media;
mod monitor;
mod peer;
mod socket;
mod views;

use std::{
    cell::RefCell,
    collections::HashMap,
    rc::{Rc, Weak},
};

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::WebSocket;

pub use self::media::{Device, Profile};
use self::{media::LocalMedia, peer::Peer, views::Views};
use super::{
    events::{code as ecode, Event},
    machine::{Effect, Failure, Machine, Phase, Request, Token},
    quality::Meter,
};
use crate::protocol::{CallType, ClientMsg, IceServer, Outcome, SignalData};

type Listener = Rc<dyn Fn(&Event)>;

/// How long a dropped connection may try to come back before a one-to-one call ends.
const GIVE_UP_AFTER_MS: i32 = 20_000;

pub(crate) struct Inner {
    machine: Machine,
    ws: Option<WebSocket>,
    ws_handlers: Vec<Closure<dyn FnMut(JsValue)>>,
    ice_servers: Vec<IceServer>,
    media: LocalMedia,
    peers: HashMap<String, Peer>,
    views: Views,
    listeners: Vec<(u64, Listener)>,
    meters: HashMap<String, Meter>,
    sampling: bool,
    waiters: HashMap<Token, (Function, Option<Result<Outcome, Failure>>)>,
    next_id: u64,
}

/// One calling session. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct Engine(Rc<RefCell<Inner>>);

pub(crate) type WeakEngine = Weak<RefCell<Inner>>;

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    pub fn new() -> Self {
        Self(Rc::new(RefCell::new(Inner {
            machine: Machine::new(),
            ws: None,
            ws_handlers: Vec::new(),
            ice_servers: Vec::new(),
            media: LocalMedia::new(),
            peers: HashMap::new(),
            views: Views::default(),
            listeners: Vec::new(),
            meters: HashMap::new(),
            sampling: false,
            waiters: HashMap::new(),
            next_id: 0,
        })))
    }

    pub(crate) fn from_weak(weak: &WeakEngine) -> Option<Self> {
        weak.upgrade().map(Self)
    }

    pub(crate) fn weak(&self) -> WeakEngine {
        Rc::downgrade(&self.0)
    }

    /// Calls `listener` for every event until [`Engine::unsubscribe`] with the returned id.
    pub fn subscribe(&self, listener: impl Fn(&Event) + 'static) -> u64 {
        let mut inner = self.0.borrow_mut();
        inner.next_id += 1;
        let id = inner.next_id;
        inner.listeners.push((id, Rc::new(listener)));
        id
    }

    pub fn unsubscribe(&self, id: u64) {
        self.0.borrow_mut().listeners.retain(|(i, _)| *i != id);
    }

    pub fn user(&self) -> Option<String> {
        self.0.borrow().machine.user().map(str::to_owned)
    }

    pub fn phase(&self) -> Phase {
        self.0.borrow().machine.phase()
    }

    // ---- the API ----

    /// Opens the signaling connection to this site and logs in.
    pub async fn login(&self, user_id: String, user_sig: String) -> Result<(), Failure> {
        if self.0.borrow().machine.user().is_some() {
            return Err(Failure::new(
                crate::protocol::code::ALREADY_LOGGED_IN,
                "already logged in; call logout() first",
            ));
        }
        self.connect().await?;
        let result = self.request(Request::Login { user_id, user_sig }).await;
        if result.is_err() {
            self.close_socket();
        }
        result.map(|_| ())
    }

    pub async fn logout(&self) -> Result<(), Failure> {
        if self.0.borrow().machine.in_call() {
            let _ = self.request(Request::Hangup).await;
        }
        self.0.borrow_mut().machine.logout();
        self.pump();
        self.close_socket();
        Ok(())
    }

    pub async fn call(
        &self,
        user_ids: Vec<String>,
        call_type: CallType,
        timeout: u32,
        group_id: Option<String>,
    ) -> Result<Outcome, Failure> {
        self.require_user()?;
        let fresh = !self.0.borrow().machine.in_call();
        if fresh {
            self.capture(call_type).await?;
        }
        let result = self
            .request(Request::Call {
                user_ids,
                call_type,
                timeout,
                group_id,
            })
            .await;
        if result.is_err() && !self.0.borrow().machine.in_call() {
            self.release_media();
        }
        result
    }

    pub async fn accept(&self, invite_id: String) -> Result<Outcome, Failure> {
        self.require_user()?;
        let call_type = self
            .0
            .borrow()
            .machine
            .invitation(&invite_id)
            .map(|d| d.call_type);
        let Some(call_type) = call_type else {
            return Err(Failure::new(
                crate::protocol::code::INVITE_GONE,
                "that invitation is not ringing",
            ));
        };
        self.capture(call_type).await?;
        let result = self.request(Request::Accept { invite_id }).await;
        if result.is_err() && !self.0.borrow().machine.in_call() {
            self.release_media();
        }
        result
    }

    pub async fn reject(&self, invite_id: String, is_busy: bool) -> Result<(), Failure> {
        self.request(Request::Reject { invite_id, is_busy })
            .await
            .map(|_| ())
    }

    pub async fn hangup(&self) -> Result<(), Failure> {
        self.request(Request::Hangup).await.map(|_| ())
    }

    pub async fn create_group(
        &self,
        name: String,
        user_ids: Vec<String>,
    ) -> Result<Outcome, Failure> {
        self.request(Request::CreateGroup { name, user_ids }).await
    }

    pub async fn list_groups(&self) -> Result<Outcome, Failure> {
        self.request(Request::ListGroups).await
    }

    pub async fn switch_call_type(&self, to: CallType) -> Result<(), Failure> {
        let failed = match to {
            CallType::Audio => ecode::SWITCH_TO_AUDIO_FAILED,
            CallType::Video => ecode::SWITCH_TO_VIDEO_FAILED,
        };
        if to == CallType::Video {
            let one_to_one = matches!(self.phase(), Phase::InCall { .. })
                && self.0.borrow().machine.members().count() == 1;
            // Check before touching the camera; the machine reports the refusal itself.
            if one_to_one {
                if let Err(f) = self.open_camera().await {
                    let f = Failure::new(
                        failed,
                        format!("the camera could not be opened: {}", f.message),
                    );
                    self.emit(Event::Error {
                        code: f.code,
                        message: f.message.clone(),
                    });
                    return Err(f);
                }
            }
        }
        self.request(Request::SwitchType(to)).await.map(|_| ())
    }

    pub fn set_mic_mute(&self, mute: bool) {
        self.0.borrow_mut().media.set_mic_muted(mute);
        self.report_media();
    }

    pub fn set_video_quality(&self, profile: Profile) {
        self.0.borrow_mut().media.profile = profile;
    }

    pub async fn open_camera(&self) -> Result<(), Failure> {
        let (profile, device) = {
            let inner = self.0.borrow();
            (inner.media.profile, inner.media.choice.camera.clone())
        };
        let track = media::open_camera(profile, device.as_deref()).await?;
        {
            let mut inner = self.0.borrow_mut();
            inner.media.set_camera(Some(Clone::clone(&track)));
            for peer in inner.peers.values() {
                peer.send_track("video", Some(&track));
            }
        }
        self.0.borrow().views.refresh_local(&self.0.borrow().media);
        self.report_media();
        Ok(())
    }

    /// Cameras, microphones and speakers the browser knows of.
    pub async fn devices(&self) -> Vec<Device> {
        media::list_devices().await
    }

    /// Captures from this camera from now on; in a call, switches to it without renegotiating.
    pub async fn use_camera(&self, device_id: String) -> Result<(), Failure> {
        self.0.borrow_mut().media.choice.camera = Some(device_id);
        if self.0.borrow().media.has_camera() {
            self.open_camera().await?;
        }
        Ok(())
    }

    /// Captures from this microphone from now on; in a call, switches to it at once.
    pub async fn use_microphone(&self, device_id: String) -> Result<(), Failure> {
        self.0.borrow_mut().media.choice.microphone = Some(device_id.clone());
        if !self.0.borrow().media.has_mic() {
            return Ok(());
        }
        let track = media::open_microphone(Some(&device_id)).await?;
        let mut inner = self.0.borrow_mut();
        inner.media.set_mic(Some(Clone::clone(&track)));
        for peer in inner.peers.values() {
            peer.send_track("audio", Some(&track));
        }
        Ok(())
    }

    /// Plays members' audio on this output, where the browser can choose (`setSinkId`).
    pub fn use_speaker(&self, device_id: String) {
        let mut inner = self.0.borrow_mut();
        for peer in inner.peers.values() {
            peer.set_sink(&device_id);
        }
        inner.media.choice.speaker = Some(device_id);
    }

    /// Whether this browser can choose the audio output.
    pub fn can_choose_speaker() -> bool {
        peer::can_set_sink()
    }

    pub fn close_camera(&self) {
        {
            let mut inner = self.0.borrow_mut();
            inner.media.set_camera(None);
            for peer in inner.peers.values() {
                peer.send_track("video", None);
            }
        }
        self.report_media();
    }

    pub fn start_local_view(&self, dom_id: &str) -> Result<(), Failure> {
        let inner = &mut *self.0.borrow_mut();
        inner.views.start_local(dom_id, &inner.media)
    }

    pub fn stop_local_view(&self, dom_id: &str) {
        self.0.borrow_mut().views.stop_local(dom_id);
    }

    pub fn start_remote_view(&self, user_id: &str, dom_id: &str) -> Result<(), Failure> {
        let inner = &mut *self.0.borrow_mut();
        let stream = inner.peers.get(user_id).map(|p| Clone::clone(&p.remote));
        inner.views.start_remote(user_id, dom_id, stream.as_ref())
    }

    pub fn stop_remote_view(&self, user_id: &str, dom_id: &str) {
        self.0.borrow_mut().views.stop_remote(user_id, dom_id);
    }

    /// Receive statistics of the connection with `user_id` (packets, frames, round trip).
    pub async fn stats(&self, user_id: &str) -> Result<peer::Stats, Failure> {
        let pc = self.0.borrow().peers.get(user_id).map(|p| p.pc.clone());
        let Some(pc) = pc else {
            return Err(Failure::new(
                crate::protocol::code::NOT_IN_ROOM,
                "no connection with that user",
            ));
        };
        peer::stats(&pc).await
    }

    // ---- plumbing ----

    fn require_user(&self) -> Result<(), Failure> {
        match self.0.borrow().machine.user() {
            Some(_) => Ok(()),
            None => Err(Failure::new(
                crate::protocol::code::NOT_LOGGED_IN,
                "log in first",
            )),
        }
    }

    /// Hands `request` to the machine and waits for its answer.
    async fn request(&self, request: Request) -> Result<Outcome, Failure> {
        let (token, promise) = {
            let mut inner = self.0.borrow_mut();
            inner.next_id += 1;
            let token = inner.next_id;
            let mut resolve = None;
            let promise = Promise::new(&mut |res, _rej| resolve = Some(res));
            if let Some(res) = resolve {
                inner.waiters.insert(token, (res, None));
            }
            inner.machine.request(token, request);
            (token, promise)
        };
        self.pump();
        let _ = JsFuture::from(promise).await;
        self.0
            .borrow_mut()
            .waiters
            .remove(&token)
            .and_then(|(_, r)| r)
            .unwrap_or_else(|| Err(Failure::new(ecode::CONNECTION, "no answer")))
    }

    async fn capture(&self, call_type: CallType) -> Result<(), Failure> {
        let (profile, have_mic, have_cam) = {
            let inner = self.0.borrow();
            (
                inner.media.profile,
                inner.media.has_mic(),
                inner.media.has_camera(),
            )
        };
        let want_video = call_type == CallType::Video;
        if have_mic && (have_cam || !want_video) {
            return Ok(());
        }
        let choice = self.0.borrow().media.choice.clone();
        let (mic, cam) = media::capture(want_video, profile, &choice).await?;
        {
            let mut inner = self.0.borrow_mut();
            inner.media.set_mic(mic);
            if want_video {
                inner.media.set_camera(cam);
            }
        }
        self.0.borrow().views.refresh_local(&self.0.borrow().media);
        self.report_media();
        Ok(())
    }

    fn release_media(&self) {
        let inner = &mut *self.0.borrow_mut();
        inner.media.release();
        inner.views.refresh_local(&inner.media);
    }

    fn report_media(&self) {
        {
            let mut inner = self.0.borrow_mut();
            let (audio, video) = (inner.media.audio_on(), inner.media.video_on());
            inner.machine.set_local_media(audio, video);
        }
        self.pump();
    }

    fn emit(&self, event: Event) {
        let listeners: Vec<Listener> = self
            .0
            .borrow()
            .listeners
            .iter()
            .map(|(_, l)| l.clone())
            .collect();
        for listener in listeners {
            listener(&event);
        }
    }

    pub(crate) fn send(&self, msg: &ClientMsg) {
        let ws = self.0.borrow().ws.clone();
        if let (Some(ws), Ok(text)) = (ws, serde_json::to_string(msg)) {
            let _ = ws.send_with_str(&text);
        }
    }

    pub(crate) fn send_signal(&self, to: &str, data: serde_json::Value) {
        self.send(&ClientMsg::Signal {
            to: to.to_owned(),
            data: SignalData(data),
        });
    }

    /// Carries out the machine's effects, one at a time and without holding the borrow, since
    /// listeners may call back into the engine.
    pub(crate) fn pump(&self) {
        loop {
            let Some(effect) = self.0.borrow_mut().machine.poll() else {
                return;
            };
            match effect {
                Effect::Send(msg) => self.send(&msg),
                Effect::Emit(event) => self.emit(event),
                Effect::Complete { token, result } => {
                    let mut inner = self.0.borrow_mut();
                    if let Some((resolve, slot)) = inner.waiters.get_mut(&token) {
                        *slot = Some(result);
                        let _ = resolve.call0(&JsValue::NULL);
                    }
                }
                Effect::Connect { user, offer } => self.connect_peer(user, offer),
                Effect::Disconnect { user } => {
                    self.0.borrow_mut().meters.remove(&user);
                    let peer = self.0.borrow_mut().peers.remove(&user);
                    if let Some(peer) = peer {
                        peer.close();
                    }
                    self.0.borrow_mut().views.remove_user(&user);
                }
                Effect::Signal { from, data } => {
                    let engine = self.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Err(f) = peer::on_signal(&engine, &from, data.0).await {
                            engine.emit(Event::Error {
                                code: f.code,
                                message: f.message,
                            });
                        }
                    });
                }
                Effect::UseCallType(call_type) => {
                    let engine = self.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        match call_type {
                            CallType::Audio => engine.close_camera(),
                            CallType::Video => {
                                if !engine.0.borrow().media.has_camera() {
                                    if let Err(f) = engine.open_camera().await {
                                        engine.emit(Event::Error {
                                            code: f.code,
                                            message: f.message,
                                        });
                                    }
                                }
                            }
                        }
                    });
                }
                Effect::EndCall => {
                    let peers: Vec<Peer> =
                        self.0.borrow_mut().peers.drain().map(|(_, p)| p).collect();
                    for peer in peers {
                        peer.close();
                    }
                    self.release_media();
                    self.0.borrow_mut().views.clear_remote();
                }
                Effect::IceServers(servers) => self.0.borrow_mut().ice_servers = servers,
                Effect::Closed => self.close_socket(),
            }
        }
    }

    fn connect_peer(&self, user: String, offer: bool) {
        let created = Peer::new(self, &user, offer);
        match created {
            Ok(peer) => {
                let stream = Clone::clone(&peer.remote);
                if let Some(sink) = self.0.borrow().media.choice.speaker.clone() {
                    peer.set_sink(&sink);
                }
                self.0.borrow_mut().peers.insert(user.clone(), peer);
                self.0.borrow().views.attach_remote(&user, &stream);
                self.start_sampling();
                if offer {
                    let engine = self.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Err(f) = peer::make_offer(&engine, &user).await {
                            engine.emit(Event::Error {
                                code: f.code,
                                message: f.message,
                            });
                        }
                    });
                }
            }
            Err(f) => self.emit(Event::Error {
                code: f.code,
                message: f.message,
            }),
        }
    }

    pub(crate) fn ice_servers(&self) -> Vec<IceServer> {
        self.0.borrow().ice_servers.clone()
    }

    pub(crate) fn with_peer<R>(
        &self,
        user: &str,
        f: impl FnOnce(&mut Peer, &LocalMedia) -> R,
    ) -> Option<R> {
        let inner = &mut *self.0.borrow_mut();
        inner.peers.get_mut(user).map(|p| f(p, &inner.media))
    }

    pub(crate) fn refresh_remote_views(&self, user: &str) {
        let inner = &*self.0.borrow();
        if let Some(peer) = inner.peers.get(user) {
            inner.views.attach_remote(user, &peer.remote);
        }
    }
}
