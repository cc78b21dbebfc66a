//! `<video>` elements rendered into the page's nodes, as `start*View`/`stop*View` ask.

use std::collections::HashMap;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlVideoElement, MediaStream};

use super::media::LocalMedia;
use crate::protocol::Refusal;

#[derive(Default)]
pub struct Views {
    local: Vec<(String, HtmlVideoElement)>,
    remote: HashMap<String, Vec<(String, HtmlVideoElement)>>,
}

fn video_in(dom_id: &str, muted: bool) -> Result<HtmlVideoElement, Refusal> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| Refusal::BadView("no document".into()))?;
    let host = document
        .get_element_by_id(dom_id)
        .ok_or_else(|| Refusal::BadView(format!("no element with id {dom_id:?}").into()))?;
    let video: HtmlVideoElement = document
        .create_element("video")
        .map_err(|_| Refusal::BadView("cannot create a video element".into()))?
        .unchecked_into();
    video.set_autoplay(true);
    video.set_muted(muted);
    let _ = video.set_attribute("playsinline", "");
    let _ = video.set_attribute("style", "width:100%;height:100%;object-fit:cover;");
    host.append_child(&video)
        .map_err(|_| Refusal::BadView("cannot add a video element there".into()))?;
    Ok(video)
}

fn stop(video: &HtmlVideoElement) {
    video.set_src_object(None);
    video.remove();
}

/// Shows `stream`. Setting the stream a video already shows would restart its loading (and
/// interrupt the pending `play()`), so a stream that only gained a track is left alone: the
/// element picks the track up by itself.
fn play(video: &HtmlVideoElement, stream: Option<&MediaStream>) {
    let showing = video.src_object();
    let same = match (&showing, stream) {
        (Some(now), Some(new)) => AsRef::<JsValue>::as_ref(now) == AsRef::<JsValue>::as_ref(new),
        _ => false,
    };
    if !same {
        video.set_src_object(stream);
    }
    if stream.is_some() && (!same || video.paused()) {
        // Autoplay may be refused before the user has interacted with the page (the call
        // buttons they press are such an interaction), and a newer source interrupts it: either
        // way the promise rejects, which is no error of the call's.
        if let Ok(promise) = video.play() {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            });
        }
    }
}

impl Views {
    pub fn start_local(&mut self, dom_id: &str, media: &LocalMedia) -> Result<(), Refusal> {
        self.stop_local(dom_id);
        let video = video_in(dom_id, true)?;
        play(&video, Some(&media.preview));
        self.local.push((dom_id.to_owned(), video));
        Ok(())
    }

    pub fn stop_local(&mut self, dom_id: &str) {
        self.local.retain(|(id, v)| {
            if id == dom_id {
                stop(v);
            }
            id != dom_id
        });
    }

    /// Local tracks changed: previews pick up the new ones.
    pub fn refresh_local(&self, media: &LocalMedia) {
        for (_, v) in &self.local {
            play(v, Some(&media.preview));
        }
    }

    /// Remote videos are muted: remote audio plays through the peer's own audio element, so it
    /// is heard whether or not a view is shown.
    pub fn start_remote(
        &mut self,
        user: &str,
        dom_id: &str,
        stream: Option<&MediaStream>,
    ) -> Result<(), Refusal> {
        self.stop_remote(user, dom_id);
        let video = video_in(dom_id, true)?;
        play(&video, stream);
        self.remote
            .entry(user.to_owned())
            .or_default()
            .push((dom_id.to_owned(), video));
        Ok(())
    }

    pub fn stop_remote(&mut self, user: &str, dom_id: &str) {
        if let Some(list) = self.remote.get_mut(user) {
            list.retain(|(id, v)| {
                if id == dom_id {
                    stop(v);
                }
                id != dom_id
            });
        }
    }

    /// A peer connection appeared or got a new track: its views show it.
    pub fn attach_remote(&self, user: &str, stream: &MediaStream) {
        for (_, v) in self.remote.get(user).into_iter().flatten() {
            play(v, Some(stream));
        }
    }

    /// The user left: their views go blank but stay, so the page can decide what to show.
    pub fn remove_user(&mut self, user: &str) {
        for (_, v) in self.remote.get(user).into_iter().flatten() {
            v.set_src_object(None);
        }
    }

    pub fn clear_remote(&mut self) {
        for (_, list) in self.remote.drain() {
            for (_, v) in list {
                stop(&v);
            }
        }
    }
}
