//! The signaling connection: a WebSocket to the site the page came from.

use js_sys::Promise;
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, WebSocket};

use super::{Engine, Input};
use crate::protocol::{Refusal, ServerMsg};

/// The close code a stopping server sends (RFC 6455's "Service Restart").
const SERVER_RESTARTING: u16 = 1012;

impl Engine {
    /// Opens the WebSocket to this page's own site and waits until it is open.
    pub(super) async fn connect(&self) -> Result<(), Refusal> {
        if self.0.borrow().ws.is_some() {
            return Ok(());
        }
        let ws = WebSocket::new(&signaling_url()?).map_err(|_| {
            Refusal::Connection("the signaling connection could not be opened".into())
        })?;
        let opened = Promise::new(&mut |resolve, reject| {
            ws.set_onopen(Some(&resolve));
            ws.set_onerror(Some(&reject));
        });
        JsFuture::from(opened)
            .await
            .map_err(|_| Refusal::Connection("the signaling server could not be reached".into()))?;
        let (on_message, on_close) = (self.on_message(), self.on_close());
        ws.set_onopen(None);
        ws.set_onerror(None);
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut inner = self.0.borrow_mut();
        inner.ws = Some(ws);
        inner.ws_handlers = vec![on_message, on_close];
        Ok(())
    }

    /// Server frames go to the machine.
    fn on_message(&self) -> Closure<dyn FnMut(JsValue)> {
        let weak = self.weak();
        Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let Some(engine) = Engine::from_weak(&weak) else {
                return;
            };
            let Some(text) = e
                .dyn_ref::<MessageEvent>()
                .and_then(|m| m.data().as_string())
            else {
                return;
            };
            match serde_json::from_str::<ServerMsg>(&text) {
                Ok(msg) => engine.handle(Input::Server(msg)),
                Err(e) => {
                    engine.emit_error(Refusal::Connection(format!("unreadable frame: {e}").into()))
                }
            }
        })
    }

    /// A socket the server or the network closed ends the session, unless the server said it
    /// is restarting (1012): then the machine comes back by itself.
    fn on_close(&self) -> Closure<dyn FnMut(JsValue)> {
        let weak = self.weak();
        Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let Some(engine) = Engine::from_weak(&weak) else {
                return;
            };
            if engine.0.borrow().ws.is_none() {
                return;
            }
            engine.drop_socket();
            let code = e.dyn_ref::<web_sys::CloseEvent>().map(|c| c.code());
            engine.handle(if code == Some(SERVER_RESTARTING) {
                // Between half a second and three: a restarted server is not met by everyone
                // at once.
                let spread = 0.5 + 2.5 * js_sys::Math::random();
                Input::ServerRestarting {
                    spread: std::time::Duration::from_secs_f64(spread),
                }
            } else {
                Input::Disconnected("the signaling connection was lost".into())
            });
        })
    }

    pub(super) fn drop_socket(&self) -> Option<WebSocket> {
        let mut inner = self.0.borrow_mut();
        let ws = inner.ws.take();
        if let Some(ws) = &ws {
            ws.set_onmessage(None);
            ws.set_onclose(None);
        }
        inner.ws_handlers.clear();
        ws
    }

    pub(super) fn close_socket(&self) {
        if let Some(ws) = self.drop_socket() {
            let _ = ws.close();
        }
    }
}

/// `ws(s)://<this page's host>/ws`.
fn signaling_url() -> Result<String, Refusal> {
    let window = web_sys::window().ok_or(Refusal::Connection("no window".into()))?;
    let location = window.location();
    let scheme = if location.protocol().ok().as_deref() == Some("https:") {
        "wss"
    } else {
        "ws"
    };
    let host = location
        .host()
        .map_err(|_| Refusal::Connection("no host".into()))?;
    Ok(format!("{scheme}://{host}/ws"))
}
