//! The browser entry point: hydrates the server-rendered page and puts the calling engine on
//! `window.TRTCCalling` for plain JavaScript.

mod trtc;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    trtc::install();
    leptos::mount::hydrate_body(app::App);
    // Lets scripts and tests tell a live page from server-rendered HTML.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "");
    }
}
