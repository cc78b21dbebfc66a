//! The signaling frame decoder: any text a client sends must give a message or a refusal,
//! never a panic, and a refusal's `req` must be one the frame carried.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let req = app::protocol::req_of(text);
    if let Err(refused) = app::protocol::decode(text) {
        assert!(refused.req.is_none() || refused.req == req, "{text:?}");
    }
});
