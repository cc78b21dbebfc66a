//! coturn's REST credentials ("TURN REST API", draft-uberti-behave-turn-rest): a username of
//! `<expiry unix time>:<userID>` and a password of `base64(HMAC-SHA1(secret, username))`, so a
//! relay holding the same secret checks them without asking us.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The secret shared with the relay. Neither `Debug` nor `Serialize`: it cannot reach a log or
/// a client by accident.
#[derive(Clone)]
pub struct TurnSecret(String);

impl TurnSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The password that goes with `username`.
    pub fn password(&self, username: &str) -> String {
        // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
        let mut mac = Hmac::<Sha1>::new_from_slice(self.0.as_bytes()).expect("any key length");
        mac.update(username.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }
}

/// One user's credential, valid until `expires`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub username: String,
    pub password: String,
    pub expires: i64,
}

/// Mints `user`'s credential at `now`, valid for `ttl` seconds.
pub fn mint(secret: &TurnSecret, user: &str, now: i64, ttl: i64) -> Credential {
    let expires = now.saturating_add(ttl);
    let username = format!("{expires}:{user}");
    Credential {
        password: secret.password(&username),
        username,
        expires,
    }
}

/// Why a relay refuses a username.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialError {
    /// Not `<expiry>:<userID>`.
    Malformed,
    Expired,
    /// Minted before the user was kicked out or revoked.
    Revoked,
}

impl std::fmt::Display for CredentialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Malformed => "the username is not <expiry>:<userID>",
            Self::Expired => "the credential has expired",
            Self::Revoked => "the credential was revoked",
        })
    }
}

impl std::error::Error for CredentialError {}

/// A username's parts: its expiry and its user.
pub fn parse(username: &str) -> Result<(i64, &str), CredentialError> {
    let (expiry, user) = username.split_once(':').ok_or(CredentialError::Malformed)?;
    let expiry = expiry.parse().map_err(|_| CredentialError::Malformed)?;
    if user.is_empty() {
        return Err(CredentialError::Malformed);
    }
    Ok((expiry, user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_matches_coturns_formula() {
        // printf '1700000000:alice' | openssl dgst -sha1 -hmac 'north' -binary | base64
        let secret = TurnSecret::new("north");
        assert_eq!(
            secret.password("1700000000:alice"),
            "Cd/49soE35ICqcJF/bCTn8Z4OyE="
        );
    }

    #[test]
    fn minted_usernames_carry_expiry_and_user() {
        let c = mint(&TurnSecret::new("north"), "alice", 1_700_000_000, 600);
        assert_eq!(c.username, "1700000600:alice");
        assert_eq!(c.expires, 1_700_000_600);
        assert_eq!(c.password, TurnSecret::new("north").password(&c.username));
        assert_eq!(parse(&c.username), Ok((1_700_000_600, "alice")));
    }

    #[test]
    fn user_ids_may_hold_colons() {
        assert_eq!(parse("17:a:b"), Ok((17, "a:b")));
    }

    #[test]
    fn malformed_usernames_are_refused() {
        for bad in ["alice", "x:alice", "17:", ":alice", ""] {
            assert_eq!(parse(bad), Err(CredentialError::Malformed), "{bad}");
        }
    }
}
