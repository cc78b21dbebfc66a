use super::*;

const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const APP: u64 = 1_400_000_000;
const T0: i64 = 1_700_000_000;
const EXPIRE: i64 = 15_552_000;

fn key() -> SecretKey {
    SecretKey::new(KEY.to_string())
}

/// Re-encodes a JSON document the way a sig is encoded, to build hostile sigs.
fn encode_json(json: &str) -> String {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    std::io::Write::write_all(&mut z, json.as_bytes()).unwrap();
    to_sig_alphabet(&STANDARD.encode(z.finish().unwrap()))
}

fn inflate(sig: &str) -> Map<String, Value> {
    let bytes = STANDARD.decode(from_sig_alphabet(sig)).unwrap();
    let mut json = Vec::new();
    ZlibDecoder::new(bytes.as_slice())
        .read_to_end(&mut json)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

#[test]
fn hmac_matches_tencents_vector() {
    let c = content("xiaojun", APP, T0, EXPIRE, None);
    assert_eq!(
        sign(&key(), &c),
        "LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4="
    );
}

#[test]
fn hmac_with_userbuf_matches_tencents_vector() {
    let buf = STANDARD.encode(b"abc");
    let c = content("xiaojun", APP, T0, EXPIRE, Some(&buf));
    assert_eq!(
        sign(&key(), &c),
        "QjT201xPkXk/aM1e+y0vakZb0K2iPrFue++0s5y6bFM="
    );
}

#[test]
fn minted_sig_has_tencents_fields() {
    let sig = mint(&key(), APP, "xiaojun", T0, EXPIRE, None);
    assert!(!sig.contains(['+', '/', '=']), "{sig}");
    let doc = inflate(&sig);
    assert_eq!(doc["TLS.ver"], "2.0");
    assert_eq!(doc["TLS.identifier"], "xiaojun");
    assert_eq!(doc["TLS.sdkappid"], APP);
    assert_eq!(doc["TLS.time"], T0);
    assert_eq!(doc["TLS.expire"], EXPIRE);
    assert_eq!(
        doc["TLS.sig"],
        "LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4="
    );
    assert!(!doc.contains_key("TLS.userbuf"));
}

#[test]
fn round_trip_with_and_without_userbuf() {
    let sig = mint(&key(), APP, "xiaojun", T0, EXPIRE, None);
    let got = verify(&key(), APP, "xiaojun", &sig, T0 + 10).unwrap();
    assert_eq!(got.identifier, "xiaojun");
    assert_eq!(got.expires_at(), T0 + EXPIRE);
    assert_eq!(got.userbuf, None);

    let sig = mint(&key(), APP, "xiaojun", T0, EXPIRE, Some(b"abc"));
    assert_eq!(inflate(&sig)["TLS.userbuf"], "YWJj");
    let got = verify(&key(), APP, "xiaojun", &sig, T0).unwrap();
    assert_eq!(got.userbuf.as_deref(), Some(&b"abc"[..]));
}

#[test]
fn missing_padding_is_tolerated() {
    // Find a sig that has padding to strip: the compressed length varies with the ID.
    let (id, sig) = ["a", "ab", "abc", "abcd", "abcde", "abcdef"]
        .iter()
        .map(|id| (*id, mint(&key(), APP, id, T0, EXPIRE, None)))
        .find(|(_, sig)| sig.ends_with('_'))
        .expect("some sig is padded");
    let unpadded = sig.trim_end_matches('_');
    assert!(verify(&key(), APP, id, unpadded, T0).is_ok());
}

#[test]
fn expiry_is_time_plus_duration_inclusive() {
    let sig = mint(&key(), APP, "u", T0, 100, None);
    assert!(verify(&key(), APP, "u", &sig, T0 + 100).is_ok());
    assert_eq!(
        verify(&key(), APP, "u", &sig, T0 + 101),
        Err(UserSigError::Expired)
    );
}

#[test]
fn wrong_key_is_a_bad_signature() {
    let sig = mint(
        &SecretKey::new("another key".into()),
        APP,
        "u",
        T0,
        EXPIRE,
        None,
    );
    assert_eq!(
        verify(&key(), APP, "u", &sig, T0),
        Err(UserSigError::BadSignature)
    );
}

#[test]
fn other_identifier_and_sdkappid_are_refused() {
    let sig = mint(&key(), APP, "alice", T0, EXPIRE, None);
    assert_eq!(
        verify(&key(), APP, "bob", &sig, T0),
        Err(UserSigError::IdentifierMismatch)
    );
    assert_eq!(
        verify(&key(), APP + 1, "alice", &sig, T0),
        Err(UserSigError::SdkAppIdMismatch)
    );
}

#[test]
fn tampered_fields_break_the_signature() {
    let sig = mint(&key(), APP, "alice", T0, 100, None);
    let mut doc = inflate(&sig);
    // Stretching the lifetime without the key must not work.
    doc.insert("TLS.expire".into(), 1_000_000_000.into());
    let forged = encode_json(&Value::Object(doc.clone()).to_string());
    assert_eq!(
        verify(&key(), APP, "alice", &forged, T0 + 200),
        Err(UserSigError::BadSignature)
    );
    doc.insert("TLS.expire".into(), 100.into());
    doc.insert("TLS.sig".into(), "AAAA".into());
    let forged = encode_json(&Value::Object(doc).to_string());
    assert_eq!(
        verify(&key(), APP, "alice", &forged, T0),
        Err(UserSigError::BadSignature)
    );
}

#[test]
fn numeric_strings_are_accepted() {
    let c = content("u", APP, T0, EXPIRE, None);
    let json = serde_json::json!({
        "TLS.ver": "2.0", "TLS.identifier": "u", "TLS.sdkappid": APP.to_string(),
        "TLS.expire": EXPIRE.to_string(), "TLS.time": T0.to_string(), "TLS.sig": sign(&key(), &c),
    });
    assert!(verify(&key(), APP, "u", &encode_json(&json.to_string()), T0).is_ok());
}

#[test]
fn malformed_sigs_get_their_own_errors() {
    let v = |s: &str| verify(&key(), APP, "u", s, T0);
    assert_eq!(v("not base64 at all!"), Err(UserSigError::Base64));
    assert_eq!(
        v(&to_sig_alphabet(&STANDARD.encode(b"plain bytes"))),
        Err(UserSigError::Zlib)
    );
    assert_eq!(v(&"A".repeat(MAX_ENCODED + 1)), Err(UserSigError::TooLong));
    assert_eq!(v(&encode_json("[1,2,3]")), Err(UserSigError::Json));
    assert_eq!(
        v(&encode_json("{\"TLS.ver\":\"1.0\"}")),
        Err(UserSigError::Version)
    );
    assert_eq!(
        v(&encode_json("{\"TLS.ver\":\"2.0\",\"TLS.identifier\":\"u\",\"TLS.sdkappid\":1400000000,\"TLS.time\":1}")),
        Err(UserSigError::MissingField("TLS.expire"))
    );
    assert_eq!(
        v(&encode_json(
            "{\"TLS.ver\":\"2.0\",\"TLS.sdkappid\":1400000000,\"TLS.time\":1,\"TLS.expire\":1}"
        )),
        Err(UserSigError::MissingField("TLS.identifier"))
    );
}

#[test]
fn zlib_bomb_is_refused() {
    // A megabyte of spaces compresses to about a kilobyte, well under the encoded limit.
    let bomb = format!("{{{}}}", " ".repeat(1 << 20));
    let sig = encode_json(&bomb);
    assert!(sig.len() < MAX_ENCODED, "{}", sig.len());
    assert_eq!(
        verify(&key(), APP, "u", &sig, T0),
        Err(UserSigError::TooLarge)
    );
}

/// Sigs come from strangers: anything must be refused cleanly, never panic.
#[test]
fn random_and_mutated_sigs_never_panic() {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let good = mint(&key(), APP, "xiaojun", T0, EXPIRE, Some(b"abc"));
    let alphabet = b"ABCDEFabcdef0123456789*-_+/=";
    for i in 0..5_000 {
        let mut sig: Vec<u8> = if i % 2 == 0 {
            good.clone().into_bytes()
        } else {
            (0..(next() % 300))
                .map(|_| alphabet[(next() as usize) % alphabet.len()])
                .collect()
        };
        for _ in 0..=(next() % 3) {
            if sig.is_empty() {
                break;
            }
            let at = (next() as usize) % sig.len();
            sig[at] = alphabet[(next() as usize) % alphabet.len()];
        }
        let sig = String::from_utf8(sig).expect("ascii");
        let _ = verify(&key(), APP, "xiaojun", &sig, T0);
    }
}
