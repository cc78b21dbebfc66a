//! The local microphone and camera.

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DomException, MediaStream, MediaStreamConstraints, MediaStreamTrack};

use crate::protocol::Refusal;

/// Capture size, as `setVideoQuality` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    P480,
    P720,
    P1080,
}

impl Profile {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "480p" => Some(Self::P480),
            "720p" => Some(Self::P720),
            "1080p" => Some(Self::P1080),
            _ => None,
        }
    }

    pub fn size(self) -> (u32, u32) {
        match self {
            Self::P480 => (640, 480),
            Self::P720 => (1280, 720),
            Self::P1080 => (1920, 1080),
        }
    }
}

/// Devices the user picked; `None` is the browser's default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceChoice {
    pub camera: Option<String>,
    pub microphone: Option<String>,
    pub speaker: Option<String>,
}

/// A camera, microphone or speaker, as `enumerateDevices` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// `videoinput`, `audioinput` or `audiooutput`.
    pub kind: String,
    pub id: String,
    pub label: String,
}

/// What is being captured, and the stream local previews show.
pub struct LocalMedia {
    pub profile: Profile,
    pub choice: DeviceChoice,
    mic: Option<MediaStreamTrack>,
    camera: Option<MediaStreamTrack>,
    mic_muted: bool,
    /// Holds the current tracks; previews keep pointing at it as tracks come and go.
    pub preview: MediaStream,
}

impl LocalMedia {
    pub fn new() -> Self {
        Self {
            profile: Profile::P480,
            choice: DeviceChoice::default(),
            mic: None,
            camera: None,
            mic_muted: false,
            preview: MediaStream::new().expect("MediaStream is available"),
        }
    }

    pub fn has_mic(&self) -> bool {
        self.mic.is_some()
    }

    pub fn has_camera(&self) -> bool {
        self.camera.is_some()
    }

    pub fn audio_on(&self) -> bool {
        self.mic.is_some() && !self.mic_muted
    }

    pub fn video_on(&self) -> bool {
        self.camera.is_some()
    }

    pub fn track(&self, kind: &str) -> Option<&MediaStreamTrack> {
        match kind {
            "audio" => self.mic.as_ref(),
            "video" => self.camera.as_ref(),
            _ => None,
        }
    }

    pub fn set_mic(&mut self, track: Option<MediaStreamTrack>) {
        if let Some(t) = &track {
            t.set_enabled(!self.mic_muted);
        }
        let old = std::mem::replace(&mut self.mic, track);
        self.swap_preview(old, self.mic.clone());
    }

    /// Replaces the camera track; the old one is stopped so the device light goes off.
    pub fn set_camera(&mut self, track: Option<MediaStreamTrack>) {
        let old = std::mem::replace(&mut self.camera, track);
        self.swap_preview(old, self.camera.clone());
    }

    pub fn set_mic_muted(&mut self, muted: bool) {
        self.mic_muted = muted;
        if let Some(t) = &self.mic {
            t.set_enabled(!muted);
        }
    }

    /// Stops every device; mute and quality settings stay for the next call.
    pub fn release(&mut self) {
        self.set_mic(None);
        self.set_camera(None);
    }

    fn swap_preview(&self, old: Option<MediaStreamTrack>, new: Option<MediaStreamTrack>) {
        if let Some(old) = old {
            old.stop();
            self.preview.remove_track(&old);
        }
        if let Some(new) = new {
            self.preview.add_track(&new);
        }
    }
}

fn exact(id: &str) -> Object {
    let o = Object::new();
    let _ = Reflect::set(&o, &"exact".into(), &id.into());
    o
}

fn audio_constraints(device: Option<&str>) -> JsValue {
    match device {
        None => true.into(),
        Some(id) => {
            let c = Object::new();
            let _ = Reflect::set(&c, &"deviceId".into(), &exact(id));
            c.into()
        }
    }
}

fn video_constraints(profile: Profile, device: Option<&str>) -> JsValue {
    let (w, h) = profile.size();
    let ideal = |v: u32| {
        let o = Object::new();
        let _ = Reflect::set(&o, &"ideal".into(), &v.into());
        o
    };
    let c = Object::new();
    let _ = Reflect::set(&c, &"width".into(), &ideal(w));
    let _ = Reflect::set(&c, &"height".into(), &ideal(h));
    if let Some(id) = device {
        let _ = Reflect::set(&c, &"deviceId".into(), &exact(id));
    }
    c.into()
}

fn media_devices() -> Result<web_sys::MediaDevices, Refusal> {
    web_sys::window()
        .and_then(|w| w.navigator().media_devices().ok())
        .ok_or_else(|| {
            Refusal::PermissionDenied(
                "this page cannot use media devices (is it served over https?)".into(),
            )
        })
}

async fn get_user_media(audio: JsValue, video: JsValue) -> Result<MediaStream, Refusal> {
    let wanted_video = video.is_object();
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&audio);
    constraints.set_video(&video);
    let promise = media_devices()?
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| device_error(e, wanted_video))?;
    let stream = JsFuture::from(promise)
        .await
        .map_err(|e| device_error(e, wanted_video))?;
    Ok(stream.unchecked_into())
}

/// Cameras, microphones and speakers. Labels are empty until the page may use the devices.
pub async fn list_devices() -> Vec<Device> {
    let Ok(promise) = media_devices().and_then(|m| {
        m.enumerate_devices()
            .map_err(|_| Refusal::PermissionDenied("cannot list devices".into()))
    }) else {
        return Vec::new();
    };
    let Ok(list) = JsFuture::from(promise).await else {
        return Vec::new();
    };
    let text = |o: &JsValue, k: &str| {
        Reflect::get(o, &k.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    js_sys::Array::from(&list)
        .iter()
        .map(|d| Device {
            kind: text(&d, "kind"),
            id: text(&d, "deviceId"),
            label: text(&d, "label"),
        })
        .filter(|d| !d.id.is_empty())
        .collect()
}

/// TRTCCalling 1.0's codes: 60003 no microphone, 60004 no camera, 60005 permission denied.
fn device_error(e: JsValue, wanted_video: bool) -> Refusal {
    let (name, message) = match e.dyn_ref::<DomException>() {
        Some(d) => (d.name(), d.message()),
        None => (String::new(), format!("{e:?}")),
    };
    let why = format!("{name}: {message}").into();
    match name.as_str() {
        "NotAllowedError" | "SecurityError" => Refusal::PermissionDenied(why),
        _ if wanted_video => Refusal::NoCamera(why),
        _ => Refusal::NoMicrophone(why),
    }
}

fn first(tracks: js_sys::Array) -> Option<MediaStreamTrack> {
    tracks.get(0).dyn_into::<MediaStreamTrack>().ok()
}

/// The microphone, and the camera when `video`.
pub async fn capture(
    video: bool,
    profile: Profile,
    choice: &DeviceChoice,
) -> Result<(Option<MediaStreamTrack>, Option<MediaStreamTrack>), Refusal> {
    let camera = if video {
        video_constraints(profile, choice.camera.as_deref())
    } else {
        false.into()
    };
    let stream = get_user_media(audio_constraints(choice.microphone.as_deref()), camera).await?;
    let mic = first(stream.get_audio_tracks());
    if mic.is_none() {
        return Err(Refusal::NoMicrophone("no microphone was found".into()));
    }
    let cam = first(stream.get_video_tracks());
    if video && cam.is_none() {
        return Err(Refusal::NoCamera("no camera was found".into()));
    }
    Ok((mic, cam))
}

pub async fn open_microphone(device: Option<&str>) -> Result<MediaStreamTrack, Refusal> {
    let stream = get_user_media(audio_constraints(device), false.into()).await?;
    first(stream.get_audio_tracks())
        .ok_or_else(|| Refusal::NoMicrophone("no microphone was found".into()))
}

pub async fn open_camera(
    profile: Profile,
    device: Option<&str>,
) -> Result<MediaStreamTrack, Refusal> {
    let stream = get_user_media(false.into(), video_constraints(profile, device)).await?;
    first(stream.get_video_tracks()).ok_or_else(|| Refusal::NoCamera("no camera was found".into()))
}
