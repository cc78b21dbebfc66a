//! The HTML forms' bodies, parsed as the server parses them: any bytes give the fields or an
//! error, never a panic.
#![no_main]

use app::forms::{BlockForm, ContactForm, Credentials, Deletion, PasswordChange};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_urlencoded::from_bytes::<Credentials>(data);
    let _ = serde_urlencoded::from_bytes::<ContactForm>(data);
    if let Ok(form) = serde_urlencoded::from_bytes::<BlockForm>(data) {
        assert!(matches!(form.back(), "/" | "/history"));
    }
    let _ = serde_urlencoded::from_bytes::<PasswordChange>(data);
    let _ = serde_urlencoded::from_bytes::<Deletion>(data);
});
