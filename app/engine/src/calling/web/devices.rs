//! The camera, microphone and speaker: capturing what a call needs, switching devices in a
//! running call, and telling the machine what we send.

use super::{media, peer, Engine, Input};
use crate::protocol::{CallType, Refusal};

impl Engine {
    pub async fn open_camera(&self) -> Result<(), Refusal> {
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

    /// Cameras, microphones and speakers the browser knows of.
    pub async fn devices(&self) -> Vec<media::Device> {
        media::list_devices().await
    }

    /// Captures from this camera from now on; in a call, switches to it without renegotiating.
    pub async fn use_camera(&self, device_id: String) -> Result<(), Refusal> {
        self.0.borrow_mut().media.choice.camera = Some(device_id);
        if self.0.borrow().media.has_camera() {
            self.open_camera().await?;
        }
        Ok(())
    }

    /// Captures from this microphone from now on; in a call, switches to it at once.
    pub async fn use_microphone(&self, device_id: String) -> Result<(), Refusal> {
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

    /// Makes sure we capture what `call_type` needs: the microphone, and the camera for video.
    pub(super) async fn capture(&self, call_type: CallType) -> Result<(), Refusal> {
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

    /// The call switched type: start or stop the camera to match.
    pub(super) fn use_call_type(&self, call_type: CallType) {
        let engine = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match call_type {
                CallType::Audio => engine.close_camera(),
                CallType::Video => {
                    if !engine.0.borrow().media.has_camera() {
                        if let Err(f) = engine.open_camera().await {
                            engine.emit_error(f);
                        }
                    }
                }
            }
        });
    }

    pub(super) fn release_media(&self) {
        let inner = &mut *self.0.borrow_mut();
        inner.media.release();
        inner.views.refresh_local(&inner.media);
    }

    pub(super) fn report_media(&self) {
        let (audio, video) = {
            let inner = self.0.borrow();
            (inner.media.audio_on(), inner.media.video_on())
        };
        self.handle(Input::LocalMedia { audio, video });
    }
}
