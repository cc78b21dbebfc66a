//! UserSig in Tencent's TLSSigAPIv2 format, minted and verified exactly as Tencent's official
//! libraries do, so that a sig made by a customer's backend with those libraries works here.
//!
//! A sig is `base64url'(zlib(json))`, where base64url' is standard base64 with `+`→`*`,
//! `/`→`-`, `=`→`_`, and the JSON holds the fields below plus `TLS.sig`, the standard base64 of
//! HMAC-SHA256 over a fixed text rendering of those fields, keyed by the secret key's UTF-8 bytes.

use std::{fmt, io::Read};

use base64::{
    alphabet,
    engine::{general_purpose::STANDARD, DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
    Engine,
};
use flate2::{read::ZlibDecoder, write::ZlibEncoder, Compression};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

/// Refuse encoded sigs longer than this before doing any work on them.
const MAX_ENCODED: usize = 8 * 1024;
/// Refuse sigs whose JSON inflates past this: a zlib bomb stops here.
const MAX_INFLATED: u64 = 4 * 1024;

/// Decodes standard base64 with or without padding, as Tencent's Node.js library does.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The key UserSigs are signed with. Deliberately neither `Debug` nor `Serialize`, so it cannot
/// end up in a log line or a response.
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    pub fn new(key: String) -> Self {
        Self(key)
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length, so this cannot fail.
        Hmac::<Sha256>::new_from_slice(self.0.as_bytes()).expect("HMAC accepts any key length")
    }
}

/// What a valid sig says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSig {
    pub identifier: String,
    pub sdk_app_id: u64,
    /// Unix seconds when the sig was made.
    pub time: i64,
    /// Lifetime in seconds from `time`.
    pub expire: i64,
    pub userbuf: Option<Vec<u8>>,
}

impl UserSig {
    /// Unix seconds after which the sig is refused.
    pub fn expires_at(&self) -> i64 {
        self.time.saturating_add(self.expire)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserSigError {
    TooLong,
    Base64,
    Zlib,
    TooLarge,
    Json,
    MissingField(&'static str),
    Version,
    SdkAppIdMismatch,
    IdentifierMismatch,
    Expired,
    BadSignature,
}

impl fmt::Display for UserSigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong => write!(f, "the UserSig is too long"),
            Self::Base64 => write!(f, "the UserSig is not valid base64"),
            Self::Zlib => write!(f, "the UserSig does not decompress"),
            Self::TooLarge => write!(
                f,
                "the UserSig decompresses to more than {MAX_INFLATED} bytes"
            ),
            Self::Json => write!(f, "the UserSig does not hold a JSON object"),
            Self::MissingField(name) => write!(f, "the UserSig has no valid {name}"),
            Self::Version => write!(f, "the UserSig is not version 2.0"),
            Self::SdkAppIdMismatch => write!(f, "the UserSig was made for another SDKAppID"),
            Self::IdentifierMismatch => write!(f, "the UserSig was made for another user"),
            Self::Expired => write!(f, "the UserSig has expired"),
            Self::BadSignature => write!(f, "the UserSig's signature does not match"),
        }
    }
}

impl std::error::Error for UserSigError {}

/// The text that `TLS.sig` is the HMAC of.
fn content(id: &str, sdk_app_id: u64, time: i64, expire: i64, userbuf_b64: Option<&str>) -> String {
    let mut s = format!(
        "TLS.identifier:{id}\nTLS.sdkappid:{sdk_app_id}\nTLS.time:{time}\nTLS.expire:{expire}\n"
    );
    if let Some(buf) = userbuf_b64 {
        s.push_str("TLS.userbuf:");
        s.push_str(buf);
        s.push('\n');
    }
    s
}

fn sign(key: &SecretKey, content: &str) -> String {
    let mut mac = key.mac();
    mac.update(content.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

fn to_sig_alphabet(b64: &str) -> String {
    b64.chars()
        .map(|c| match c {
            '+' => '*',
            '/' => '-',
            '=' => '_',
            c => c,
        })
        .collect()
}

fn from_sig_alphabet(sig: &str) -> String {
    sig.chars()
        .map(|c| match c {
            '*' => '+',
            '-' => '/',
            '_' => '=',
            c => c,
        })
        .collect()
}

/// Makes a UserSig for `identifier`, valid for `expire` seconds from `now` (Unix seconds).
pub fn mint(
    key: &SecretKey,
    sdk_app_id: u64,
    identifier: &str,
    now: i64,
    expire: i64,
    userbuf: Option<&[u8]>,
) -> String {
    let userbuf_b64 = userbuf.map(|b| STANDARD.encode(b));
    let sig = sign(
        key,
        &content(identifier, sdk_app_id, now, expire, userbuf_b64.as_deref()),
    );
    // Readers look fields up by name, so their order in the JSON does not matter.
    let mut doc = Map::new();
    doc.insert("TLS.ver".into(), "2.0".into());
    doc.insert("TLS.identifier".into(), identifier.into());
    doc.insert("TLS.sdkappid".into(), sdk_app_id.into());
    doc.insert("TLS.expire".into(), expire.into());
    doc.insert("TLS.time".into(), now.into());
    if let Some(buf) = userbuf_b64 {
        doc.insert("TLS.userbuf".into(), buf.into());
    }
    doc.insert("TLS.sig".into(), sig.into());
    let json = Value::Object(doc).to_string();

    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    std::io::Write::write_all(&mut z, json.as_bytes()).expect("writing to a Vec cannot fail");
    let compressed = z.finish().expect("writing to a Vec cannot fail");
    to_sig_alphabet(&STANDARD.encode(compressed))
}

/// Decodes and checks a UserSig presented by `identifier` for `sdk_app_id` at `now`.
pub fn verify(
    key: &SecretKey,
    sdk_app_id: u64,
    identifier: &str,
    sig: &str,
    now: i64,
) -> Result<UserSig, UserSigError> {
    let parsed = decode(sig)?;
    if parsed.sig.sdk_app_id != sdk_app_id {
        return Err(UserSigError::SdkAppIdMismatch);
    }
    if parsed.sig.identifier != identifier {
        return Err(UserSigError::IdentifierMismatch);
    }
    if now > parsed.sig.expires_at() {
        return Err(UserSigError::Expired);
    }
    let mut mac = key.mac();
    mac.update(
        content(
            &parsed.sig.identifier,
            parsed.sig.sdk_app_id,
            parsed.sig.time,
            parsed.sig.expire,
            parsed.userbuf_b64.as_deref(),
        )
        .as_bytes(),
    );
    let claimed = LENIENT
        .decode(parsed.mac_b64.as_bytes())
        .map_err(|_| UserSigError::BadSignature)?;
    // `verify_slice` compares in constant time.
    mac.verify_slice(&claimed)
        .map_err(|_| UserSigError::BadSignature)?;
    Ok(parsed.sig)
}

struct Parsed {
    sig: UserSig,
    userbuf_b64: Option<String>,
    mac_b64: String,
}

fn decode(sig: &str) -> Result<Parsed, UserSigError> {
    if sig.len() > MAX_ENCODED {
        return Err(UserSigError::TooLong);
    }
    let compressed = LENIENT
        .decode(from_sig_alphabet(sig.trim()))
        .map_err(|_| UserSigError::Base64)?;
    let mut json = Vec::new();
    ZlibDecoder::new(compressed.as_slice())
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut json)
        .map_err(|_| UserSigError::Zlib)?;
    if json.len() as u64 > MAX_INFLATED {
        return Err(UserSigError::TooLarge);
    }
    let doc: Map<String, Value> = serde_json::from_slice(&json).map_err(|_| UserSigError::Json)?;

    if doc.get("TLS.ver").and_then(Value::as_str) != Some("2.0") {
        return Err(UserSigError::Version);
    }
    let string = |name: &'static str| {
        doc.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(UserSigError::MissingField(name))
    };
    let userbuf_b64 = match doc.get("TLS.userbuf") {
        None => None,
        Some(_) => Some(string("TLS.userbuf")?),
    };
    let userbuf = match &userbuf_b64 {
        None => None,
        Some(b) => Some(
            LENIENT
                .decode(b)
                .map_err(|_| UserSigError::MissingField("TLS.userbuf"))?,
        ),
    };
    let sdk_app_id = integer(&doc, "TLS.sdkappid")?;
    Ok(Parsed {
        sig: UserSig {
            identifier: string("TLS.identifier")?,
            sdk_app_id: u64::try_from(sdk_app_id)
                .map_err(|_| UserSigError::MissingField("TLS.sdkappid"))?,
            time: integer(&doc, "TLS.time")?,
            expire: integer(&doc, "TLS.expire")?,
            userbuf,
        },
        userbuf_b64,
        mac_b64: string("TLS.sig")?,
    })
}

/// Tencent's libraries write numbers; some ports write them as decimal strings. Take both.
fn integer(doc: &Map<String, Value>, name: &'static str) -> Result<i64, UserSigError> {
    match doc.get(name) {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or(UserSigError::MissingField(name))
}

#[cfg(test)]
mod tests;
