//! The signaling connection: a WebSocket to the site the page came from.

use js_sys::Promise;
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, WebSocket};

use super::{
    super::{
        events::{code as ecode, Event},
        machine::Failure,
    },
    Engine,
};
use crate::protocol::ServerMsg;

impl Engine {
    /// Opens the WebSocket to this page's own site and waits until it is open.
    pub(super) async fn connect(&self) -> Result<(), Failure> {
        if self.0.borrow().ws.is_some() {
            return Ok(());
        }
        let window =
            web_sys::window().ok_or_else(|| Failure::new(ecode::CONNECTION, "no window"))?;
        let location = window.location();
        let scheme = if location.protocol().ok().as_deref() == Some("https:") {
            "wss"
        } else {
            "ws"
        };
        let host = location
            .host()
            .map_err(|_| Failure::new(ecode::CONNECTION, "no host"))?;
        let ws = WebSocket::new(&format!("{scheme}://{host}/ws")).map_err(|_| {
            Failure::new(
                ecode::CONNECTION,
                "the signaling connection could not be opened",
            )
        })?;

        let opened = Promise::new(&mut |resolve, reject| {
            ws.set_onopen(Some(&resolve));
            ws.set_onerror(Some(&reject));
        });
        JsFuture::from(opened).await.map_err(|_| {
            Failure::new(
                ecode::CONNECTION,
                "the signaling server could not be reached",
            )
        })?;

        let weak = self.weak();
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
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
                Ok(msg) => {
                    engine.0.borrow_mut().machine.on_server(msg);
                    engine.pump();
                }
                Err(e) => engine.emit(Event::Error {
                    code: ecode::CONNECTION,
                    message: format!("unreadable frame: {e}"),
                }),
            }
        });
        let weak = self.weak();
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_e: JsValue| {
            let Some(engine) = Engine::from_weak(&weak) else {
                return;
            };
            if engine.0.borrow().ws.is_none() {
                return;
            }
            engine.drop_socket();
            engine
                .0
                .borrow_mut()
                .machine
                .disconnected("the signaling connection was lost");
            engine.pump();
        });
        ws.set_onopen(None);
        ws.set_onerror(None);
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut inner = self.0.borrow_mut();
        inner.ws = Some(ws);
        inner.ws_handlers = vec![on_message, on_close];
        Ok(())
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
