//! The UserSig decoder: base64, zlib and JSON from strangers, checked against a key. Any input
//! must be refused or accepted without a panic, and only a sig made with the key is accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use usersig::{verify, SecretKey};

const APP: u64 = 1_400_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(sig) = std::str::from_utf8(data) else {
        return;
    };
    let key = SecretKey::new("fuzzing key".into());
    if let Ok(parsed) = verify(&key, APP, "alice", sig, 1_700_000_000) {
        // Accepting means the fuzzer forged an HMAC-SHA256: impossible, so a bug.
        panic!("accepted a sig it did not make: {parsed:?}");
    }
});
