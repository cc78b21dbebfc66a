//! The browser half of the engine: carries out the [`Machine`]'s effects with a WebSocket,
//! `getUserMedia`, `RTCPeerConnection` and `<video>` elements, and feeds back what happened
//! with the time it happened. Everything that decides lives in the machine; this module only
//! does what it is told and reports.
//!
//! [`api`] holds the calls behind `TRTCCalling`, [`devices`] the camera, microphone and
//! speaker, [`socket`] the signaling connection, [`peer`] the peer connections, [`media`] the
//! captured tracks, [`views`] the `<video>` elements, and [`monitor`] the statistics behind
//! the speaking and quality indicators.

mod api;
mod devices;
mod media;
mod monitor;
mod peer;
mod socket;
mod stats;
mod views;

use std::{
    cell::RefCell,
    collections::HashMap,
    rc::{Rc, Weak},
    time::Duration,
};

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::WebSocket;

pub use self::media::{Device, Profile};
use self::{media::LocalMedia, peer::Peer, views::Views};
use super::{
    events::Event,
    machine::{Effect, Input, Machine, Phase, Token},
    quality::Meter,
};
use crate::protocol::{CallMsg, ClientMsg, IceServer, Outcome, Refusal, SignalData};

type Listener = Rc<dyn Fn(&Event)>;

pub(crate) struct Inner {
    machine: Machine,
    ws: Option<WebSocket>,
    ws_handlers: Vec<Closure<dyn FnMut(JsValue)>>,
    ice_servers: Vec<IceServer>,
    media: LocalMedia,
    peers: HashMap<String, Peer>,
    views: Views,
    listeners: Vec<Listener>,
    meters: HashMap<String, Meter>,
    sampling: bool,
    waiters: HashMap<Token, (Function, Option<Result<Outcome, Refusal>>)>,
    /// The `setTimeout` waking the machine, and the moment it was set for.
    timer: Option<(i32, Duration)>,
    on_timer: Option<Closure<dyn FnMut()>>,
    next_token: u64,
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

/// Milliseconds since the page started, as the machine's clock.
fn now() -> Duration {
    let ms = web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now());
    Duration::from_secs_f64(ms.max(0.0) / 1000.0)
}

impl Engine {
    pub fn new() -> Self {
        let engine = Self(Rc::new(RefCell::new(Inner {
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
            timer: None,
            on_timer: None,
            next_token: 0,
        })));
        let weak = engine.weak();
        let on_timer = Closure::<dyn FnMut()>::new(move || {
            if let Some(engine) = Engine::from_weak(&weak) {
                engine.0.borrow_mut().timer = None;
                engine.handle(Input::Timeout);
            }
        });
        engine.0.borrow_mut().on_timer = Some(on_timer);
        engine
    }

    pub(crate) fn from_weak(weak: &WeakEngine) -> Option<Self> {
        weak.upgrade().map(Self)
    }

    pub(crate) fn weak(&self) -> WeakEngine {
        Rc::downgrade(&self.0)
    }

    /// Calls `listener` for every event, for as long as the engine lives.
    pub fn subscribe(&self, listener: impl Fn(&Event) + 'static) {
        self.0.borrow_mut().listeners.push(Rc::new(listener));
    }

    pub fn user(&self) -> Option<String> {
        self.0.borrow().machine.user().map(str::to_owned)
    }

    pub fn phase(&self) -> Phase {
        self.0.borrow().machine.phase()
    }

    /// Tells the machine what happened, now, and carries out what it says.
    pub(crate) fn handle(&self, input: Input) {
        self.0.borrow_mut().machine.handle(now(), input);
        self.pump();
    }

    /// Hands `msg` to the machine as an API call and waits for its answer.
    async fn request(&self, msg: ClientMsg) -> Result<Outcome, Refusal> {
        let (token, promise) = {
            let mut inner = self.0.borrow_mut();
            inner.next_token += 1;
            let token = inner.next_token;
            let mut resolve = None;
            let promise = Promise::new(&mut |res, _rej| resolve = Some(res));
            if let Some(res) = resolve {
                inner.waiters.insert(token, (res, None));
            }
            (token, promise)
        };
        self.handle(Input::Request { token, msg });
        let _ = JsFuture::from(promise).await;
        self.0
            .borrow_mut()
            .waiters
            .remove(&token)
            .and_then(|(_, r)| r)
            .unwrap_or_else(|| Err(Refusal::Connection("no answer".into())))
    }

    async fn call_request(&self, msg: CallMsg) -> Result<Outcome, Refusal> {
        self.request(ClientMsg::Call(msg)).await
    }

    fn emit(&self, event: Event) {
        let listeners: Vec<Listener> = self.0.borrow().listeners.clone();
        for listener in listeners {
            listener(&event);
        }
    }

    pub(crate) fn emit_error(&self, refusal: Refusal) {
        self.emit(Event::Error(refusal));
    }

    pub(crate) fn send(&self, msg: &ClientMsg) {
        let ws = self.0.borrow().ws.clone();
        if let (Some(ws), Ok(text)) = (ws, serde_json::to_string(msg)) {
            let _ = ws.send_with_str(&text);
        }
    }

    pub(crate) fn send_signal(&self, to: &str, data: SignalData) {
        self.send(&ClientMsg::Call(CallMsg::Signal {
            to: to.to_owned(),
            data,
        }));
    }

    /// Carries out the machine's effects, one at a time and without holding the borrow, since
    /// listeners may call back into the engine; then sets the timer for its next deadline.
    fn pump(&self) {
        loop {
            let Some(effect) = self.0.borrow_mut().machine.poll() else {
                break;
            };
            self.apply(effect);
        }
        self.schedule_timeout();
    }

    fn apply(&self, effect: Effect) {
        match effect {
            Effect::OpenSocket => {
                let engine = self.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let opened = engine.connect().await;
                    engine.handle(match opened {
                        Ok(()) => Input::SocketOpen,
                        Err(f) => Input::Disconnected(f.to_string()),
                    });
                });
            }
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
            Effect::Disconnect { user } => self.disconnect_peer(&user),
            Effect::Signal { from, data } => {
                let engine = self.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    if let Err(f) = peer::on_signal(&engine, &from, data).await {
                        engine.emit_error(f);
                    }
                });
            }
            Effect::RestartIce { user } => {
                let engine = self.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    if let Err(f) = peer::restart_ice(&engine, &user).await {
                        engine.emit_error(f);
                    }
                });
            }
            Effect::UseCallType(call_type) => self.use_call_type(call_type),
            Effect::EndCall => self.end_call(),
            Effect::IceServers(servers) => self.0.borrow_mut().ice_servers = servers,
            Effect::Closed => self.close_socket(),
        }
    }

    /// Keeps one `setTimeout` pending for the machine's next deadline, if it has one.
    fn schedule_timeout(&self) {
        let mut inner = self.0.borrow_mut();
        let want = inner.machine.poll_timeout();
        if inner.timer.map(|(_, at)| at) == want {
            return;
        }
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some((handle, _)) = inner.timer.take() {
            window.clear_timeout_with_handle(handle);
        }
        let (Some(at), Some(callback)) = (want, inner.on_timer.as_ref()) else {
            return;
        };
        let delay = at.saturating_sub(now()).as_millis().min(i32::MAX as u128) as i32;
        if let Ok(handle) = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            callback.as_ref().unchecked_ref(),
            delay,
        ) {
            inner.timer = Some((handle, at));
        }
    }

    fn connect_peer(&self, user: String, offer: bool) {
        let peer = match Peer::new(self, &user) {
            Ok(peer) => peer,
            Err(f) => return self.emit_error(f),
        };
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
                    engine.emit_error(f);
                }
            });
        }
    }

    fn disconnect_peer(&self, user: &str) {
        self.0.borrow_mut().meters.remove(user);
        let peer = self.0.borrow_mut().peers.remove(user);
        if let Some(peer) = peer {
            peer.close();
        }
        self.0.borrow_mut().views.remove_user(user);
    }

    fn end_call(&self) {
        let peers: Vec<Peer> = self.0.borrow_mut().peers.drain().map(|(_, p)| p).collect();
        for peer in peers {
            peer.close();
        }
        self.release_media();
        self.0.borrow_mut().views.clear_remote();
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
