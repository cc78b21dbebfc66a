//! `window.TRTCCalling`: the calling engine behind the TRTCCalling Web API, with its exact
//! method names, argument objects, Promises and events (see `docs/js-api.md`).

use std::{cell::RefCell, rc::Rc};

use app::{
    calling::{
        events::{canonical_event_name, Event, EVENTS},
        web::{Engine, Profile},
    },
    protocol::{CallType, ErrorCode, Outcome, Refusal},
};
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

struct Listener {
    event: &'static str,
    callback: Function,
    context: JsValue,
}

/// Default ringing time when a call does not say, as in TRTCCalling.
const DEFAULT_TIMEOUT: u32 = 30;

#[wasm_bindgen(js_name = TRTCCalling)]
pub struct TrtcCalling {
    engine: Engine,
    listeners: Rc<RefCell<Vec<Listener>>>,
}

/// Sets `window.TRTCCalling` to the class, with `TRTCCalling.EVENT` and `CALL_TYPE`.
pub fn install() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let probe = JsValue::from(TrtcCalling::new(JsValue::UNDEFINED));
    let Ok(class) = Reflect::get(&probe, &"constructor".into()) else {
        return;
    };
    let events = Object::new();
    for (key, value) in EVENTS {
        let _ = Reflect::set(&events, &key.into(), &value.into());
    }
    let _ = Reflect::set(&class, &"EVENT".into(), &events);
    let call_types = Object::new();
    for (key, value) in [("UNKNOWN", 0), ("AUDIO_CALL", 1), ("VIDEO_CALL", 2)] {
        let _ = Reflect::set(&call_types, &key.into(), &value.into());
    }
    let _ = Reflect::set(&class, &"CALL_TYPE".into(), &call_types);
    let _ = Reflect::set(&window, &"TRTCCalling".into(), &class);
}

/// A refusal as JavaScript sees it: an `Error` with the message and a numeric `code`.
fn failure(f: Refusal) -> JsValue {
    error(f.code(), &f.to_string())
}

fn error(code: ErrorCode, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    let _ = Reflect::set(&e, &"code".into(), &code.code().into());
    e.into()
}

fn invalid(message: &str) -> JsValue {
    error(ErrorCode::InvalidArgument, message)
}

fn field(params: &JsValue, name: &str) -> JsValue {
    Reflect::get(params, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

fn string(params: &JsValue, name: &str) -> Result<String, JsValue> {
    field(params, name)
        .as_string()
        .ok_or_else(|| invalid(&format!("{name} must be a string")))
}

fn call_type(params: &JsValue, name: &str) -> Result<CallType, JsValue> {
    match field(params, name).as_f64() {
        Some(1.0) => Ok(CallType::Audio),
        Some(2.0) => Ok(CallType::Video),
        _ => Err(invalid(&format!("{name} must be 1 (audio) or 2 (video)"))),
    }
}

fn timeout(params: &JsValue) -> Result<u32, JsValue> {
    let v = field(params, "timeout");
    if v.is_undefined() || v.is_null() {
        return Ok(DEFAULT_TIMEOUT);
    }
    match v.as_f64() {
        Some(t) if t >= 0.0 && t.fract() == 0.0 && t <= 86_400.0 => Ok(t as u32),
        _ => Err(invalid(
            "timeout must be a whole number of seconds from 0 to 86400",
        )),
    }
}

/// What `call`, `groupCall`, `accept`, `reject` and `hangup` resolve with, as trtc-calling-js
/// 1.0 does: `{code: 0, inviteID, data}`, the outcome's own fields (`roomID`...) kept at the
/// top as well.
fn outcome(o: Outcome) -> JsValue {
    let data = serde_json::to_value(&o).unwrap_or_else(|_| serde_json::json!({}));
    let mut top = data.clone();
    if let Some(fields) = top.as_object_mut() {
        fields.insert("code".into(), 0.into());
        fields.insert("data".into(), data);
        fields.entry("inviteID").or_insert(serde_json::Value::Null);
    }
    js_sys::JSON::parse(&top.to_string()).unwrap_or(JsValue::UNDEFINED)
}

/// The invitation a call without arguments answers: the one given, else the one ringing now.
fn invitation(engine: &Engine, params: &JsValue) -> Result<String, JsValue> {
    if let Some(id) = field(params, "inviteID").as_string() {
        return Ok(id);
    }
    engine
        .ringing_invite()
        .ok_or_else(|| error(ErrorCode::InviteGone, "no invitation is ringing"))
}

/// Runs `work` as a Promise; argument errors reject it too, never throw.
fn promise<F>(work: F) -> Promise
where
    F: std::future::Future<Output = Result<JsValue, JsValue>> + 'static,
{
    future_to_promise(work)
}

fn done<T>(r: Result<T, Refusal>) -> Result<JsValue, JsValue> {
    r.map(|_| JsValue::UNDEFINED).map_err(failure)
}

#[wasm_bindgen(js_class = TRTCCalling)]
impl TrtcCalling {
    /// `new TRTCCalling({SDKAppID})`. The SDKAppID is the server's; it is kept for
    /// compatibility and checked by the server through the UserSig.
    #[wasm_bindgen(constructor)]
    pub fn new(_options: JsValue) -> TrtcCalling {
        let engine = Engine::new();
        let listeners: Rc<RefCell<Vec<Listener>>> = Rc::default();
        let registry = listeners.clone();
        engine.subscribe(move |event: &Event| dispatch(&registry, event));
        TrtcCalling { engine, listeners }
    }

    /// `on(eventName, callback, context)`: `context` becomes `this` in the callback.
    pub fn on(&self, event: &str, callback: Function, context: JsValue) -> Result<(), JsValue> {
        let event = canonical_event_name(event)
            .ok_or_else(|| invalid(&format!("unknown event {event:?}")))?;
        self.listeners.borrow_mut().push(Listener {
            event,
            callback,
            context,
        });
        Ok(())
    }

    /// `off(eventName, callback, context)`: removes exactly that pairing.
    pub fn off(&self, event: &str, callback: Function, context: JsValue) {
        let Some(event) = canonical_event_name(event) else {
            return;
        };
        self.listeners.borrow_mut().retain(|l| {
            !(l.event == event
                && l.callback == callback
                && (l.context == context || (l.context.is_undefined() && context.is_undefined())))
        });
    }

    pub fn login(&self, params: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            let user_id = string(&params, "userID")?;
            let user_sig = string(&params, "userSig")?;
            done(engine.login(user_id, user_sig).await)
        })
    }

    pub fn logout(&self) -> Promise {
        let engine = self.engine.clone();
        promise(async move { done(engine.logout().await) })
    }

    pub fn call(&self, params: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            let user_id = string(&params, "userID")?;
            let call_type = call_type(&params, "type")?;
            let timeout = timeout(&params)?;
            engine
                .call(vec![user_id], call_type, timeout, None)
                .await
                .map(outcome)
                .map_err(failure)
        })
    }

    #[wasm_bindgen(js_name = groupCall)]
    pub fn group_call(&self, params: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            let list = field(&params, "userIDList");
            if !Array::is_array(&list) {
                return Err(invalid("userIDList must be an array of user IDs"));
            }
            let user_ids = Array::from(&list)
                .iter()
                .map(|v| {
                    v.as_string()
                        .ok_or_else(|| invalid("userIDList must hold strings"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let call_type = call_type(&params, "type")?;
            let group_id = field(&params, "groupID")
                .as_string()
                .filter(|g| !g.is_empty());
            let timeout = timeout(&params)?;
            engine
                .call(user_ids, call_type, timeout, group_id)
                .await
                .map(outcome)
                .map_err(failure)
        })
    }

    /// `accept({inviteID, ...})`, or `accept()` for the invitation ringing now.
    pub fn accept(&self, params: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            let invite_id = invitation(&engine, &params)?;
            engine.accept(invite_id).await.map(outcome).map_err(failure)
        })
    }

    /// `reject({inviteID, isBusy})`, or `reject()` for the invitation ringing now.
    pub fn reject(&self, params: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            let invite_id = invitation(&engine, &params)?;
            let is_busy = field(&params, "isBusy").as_bool().unwrap_or(false);
            engine
                .reject(invite_id.clone(), is_busy)
                .await
                .map_err(failure)?;
            Ok(outcome(Outcome {
                invite_id: Some(invite_id),
                ..Outcome::default()
            }))
        })
    }

    pub fn hangup(&self) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            engine.hangup().await.map_err(failure)?;
            Ok(outcome(Outcome::default()))
        })
    }

    #[wasm_bindgen(js_name = startRemoteView)]
    pub fn start_remote_view(&self, params: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            let user_id = string(&params, "userID")?;
            let dom_id = string(&params, "videoViewDomID")?;
            done(engine.start_remote_view(&user_id, &dom_id))
        })
    }

    #[wasm_bindgen(js_name = stopRemoteView)]
    pub fn stop_remote_view(&self, params: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            let user_id = string(&params, "userID")?;
            let dom_id = string(&params, "videoViewDomID")?;
            engine.stop_remote_view(&user_id, &dom_id);
            Ok(JsValue::UNDEFINED)
        })
    }

    #[wasm_bindgen(js_name = startLocalView)]
    pub fn start_local_view(&self, params: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            let dom_id = string(&params, "videoViewDomID")?;
            done(engine.start_local_view(&dom_id))
        })
    }

    #[wasm_bindgen(js_name = stopLocalView)]
    pub fn stop_local_view(&self, params: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            let dom_id = string(&params, "videoViewDomID")?;
            engine.stop_local_view(&dom_id);
            Ok(JsValue::UNDEFINED)
        })
    }

    #[wasm_bindgen(js_name = openCamera)]
    pub fn open_camera(&self) -> Promise {
        let engine = self.engine.clone();
        promise(async move { done(engine.open_camera().await) })
    }

    #[wasm_bindgen(js_name = closeCamera)]
    pub fn close_camera(&self) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            engine.close_camera();
            Ok(JsValue::UNDEFINED)
        })
    }

    #[wasm_bindgen(js_name = setMicMute)]
    pub fn set_mic_mute(&self, is_mute: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            let mute = is_mute
                .as_bool()
                .ok_or_else(|| invalid("isMute must be true or false"))?;
            engine.set_mic_mute(mute);
            Ok(JsValue::UNDEFINED)
        })
    }

    #[wasm_bindgen(js_name = setVideoQuality)]
    pub fn set_video_quality(&self, profile: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            let profile = profile
                .as_string()
                .and_then(|p| Profile::parse(&p))
                .ok_or_else(|| invalid("profile must be '480p', '720p' or '1080p'"))?;
            engine.set_video_quality(profile);
            Ok(JsValue::UNDEFINED)
        })
    }

    #[wasm_bindgen(js_name = switchToAudioCall)]
    pub fn switch_to_audio_call(&self) -> Promise {
        let engine = self.engine.clone();
        promise(async move { done(engine.switch_call_type(CallType::Audio).await) })
    }

    #[wasm_bindgen(js_name = switchToVideoCall)]
    pub fn switch_to_video_call(&self) -> Promise {
        let engine = self.engine.clone();
        promise(async move { done(engine.switch_call_type(CallType::Video).await) })
    }

    /// Not in TRTCCalling: receive statistics of the connection with a member,
    /// `{audioPacketsReceived, audioPacketsLost, audioLevel, videoPacketsReceived,
    /// videoFramesDecoded, videoPacketsLost, roundTripTime}`.
    #[wasm_bindgen(js_name = getStats)]
    pub fn get_stats(&self, user_id: String) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            let stats = engine.stats(&user_id).await.map_err(failure)?;
            let json = serde_json::to_string(&stats).unwrap_or_else(|_| "{}".into());
            js_sys::JSON::parse(&json)
        })
    }
}

/// Calls the listeners of `event`, each with its own `this`. A listener that throws is
/// reported on the console and does not stop the others.
fn dispatch(listeners: &Rc<RefCell<Vec<Listener>>>, event: &Event) {
    let name = event.name();
    let targets: Vec<(Function, JsValue)> = listeners
        .borrow()
        .iter()
        .filter(|l| l.event == name)
        .map(|l| (l.callback.clone(), l.context.clone()))
        .collect();
    if targets.is_empty() {
        return;
    }
    let json = event.payload().to_string();
    for (callback, context) in targets {
        let payload = js_sys::JSON::parse(&json).unwrap_or(JsValue::UNDEFINED);
        if let Err(e) = callback.call1(&context, &payload) {
            web_sys::console::error_2(&format!("TRTCCalling {name} listener threw:").into(), &e);
        }
    }
}
