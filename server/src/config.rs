//! Configuration from environment variables (see the README's table).

use std::fmt;

use app::protocol::IceServer;

use crate::{
    http::HttpLimits, signaling::admission::AdmissionLimits, tls::TlsFiles,
    turn::settings::TurnSettings, usersig::SecretKey,
};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/calling.db";
pub const DEFAULT_SDK_APP_ID: u64 = 1_400_000_000;
pub const DEFAULT_USERSIG_TTL: i64 = 86_400;
pub const DEFAULT_MAX_CALL_SIZE: usize = 9;

/// Who may create an account on this site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registration {
    /// Anyone, from the sign-up page.
    Open,
    /// Only the operator, with `server user add`.
    Closed,
}

pub struct Config {
    pub database_url: String,
    pub registration: Registration,
    /// Count clients by the address a reverse proxy appends to `X-Forwarded-For`.
    pub behind_proxy: bool,
    pub http: HttpLimits,
    pub admission: AdmissionLimits,
    pub sdk_app_id: u64,
    /// `None`: use the key stored in the database, generating it on first start.
    pub secret_key: Option<SecretKey>,
    /// Lifetime of the UserSigs this site mints, in seconds.
    pub usersig_ttl: i64,
    /// Mark the session cookie `Secure`; set when the site is served over https.
    pub secure_cookie: bool,
    /// Serve HTTPS and WSS with this certificate; `None`: plain HTTP (behind a proxy, say).
    pub tls: Option<TlsFiles>,
    /// Most people in one call, the caller included.
    pub max_call_size: usize,
    /// The longest an invitation rings, whatever its `timeout`.
    pub max_ring: std::time::Duration,
    /// Origins besides the site's own that may open the signaling WebSocket.
    pub allowed_origins: Vec<String>,
    /// STUN/TURN servers handed to clients at login, after our relay's.
    pub ice_servers: Vec<IceServer>,
    /// The relay: embedded, external or off.
    pub turn: TurnSettings,
}

#[derive(Debug)]
pub struct ConfigError {
    pub(crate) name: &'static str,
    pub(crate) reason: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            get(name).map_or(Ok(default), |v| {
                v.trim().parse().map_err(|_| ConfigError {
                    name,
                    reason: "must be a whole number",
                })
            })
        };
        let sdk_app_id = number("CALLING_SDK_APP_ID", DEFAULT_SDK_APP_ID)?;
        let ttl = number("CALLING_USERSIG_TTL", DEFAULT_USERSIG_TTL as u64)?;
        if ttl == 0 || ttl > i64::MAX as u64 {
            return Err(ConfigError {
                name: "CALLING_USERSIG_TTL",
                reason: "must be a positive number of seconds",
            });
        }
        let tls = match (get("CALLING_TLS_CERT"), get("CALLING_TLS_KEY")) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.into(),
                key: key.into(),
            }),
            (Some(_), None) => {
                return Err(ConfigError {
                    name: "CALLING_TLS_KEY",
                    reason: "must be set with CALLING_TLS_CERT",
                })
            }
            (None, Some(_)) => {
                return Err(ConfigError {
                    name: "CALLING_TLS_CERT",
                    reason: "must be set with CALLING_TLS_KEY",
                })
            }
        };
        let flag = |name: &'static str, default: bool| match get(name).as_deref() {
            None => Ok(default),
            Some("0" | "false" | "no") => Ok(false),
            Some("1" | "true" | "yes") => Ok(true),
            Some(_) => Err(ConfigError {
                name,
                reason: "must be true or false",
            }),
        };
        // Served over https by us, the cookie is for https only unless told otherwise.
        let secure_cookie = flag("CALLING_SECURE_COOKIE", tls.is_some())?;
        let behind_proxy = flag("CALLING_BEHIND_PROXY", false)?;
        let registration = match get("CALLING_REGISTRATION").as_deref() {
            None | Some("open") => Registration::Open,
            Some("closed") => Registration::Closed,
            Some(_) => {
                return Err(ConfigError {
                    name: "CALLING_REGISTRATION",
                    reason: "must be open or closed",
                })
            }
        };
        let count = |name: &'static str, default: usize| -> Result<usize, ConfigError> {
            match number(name, default as u64)? {
                0 => Err(ConfigError {
                    name,
                    reason: "must be at least 1",
                }),
                n => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
            }
        };
        let http = HttpLimits {
            max_connections: count(
                "CALLING_MAX_HTTP_CONNECTIONS",
                HttpLimits::default().max_connections,
            )?,
            ..HttpLimits::default()
        };
        let defaults = AdmissionLimits::default();
        let admission = AdmissionLimits {
            pending_per_ip: count("CALLING_MAX_PENDING_PER_IP", defaults.pending_per_ip)?,
            pending: count("CALLING_MAX_PENDING", defaults.pending)?,
            sockets: count("CALLING_MAX_SOCKETS", defaults.sockets)?,
        };
        let max_call_size = number("CALLING_MAX_CALL_SIZE", DEFAULT_MAX_CALL_SIZE as u64)?;
        if !(2..=64).contains(&max_call_size) {
            return Err(ConfigError {
                name: "CALLING_MAX_CALL_SIZE",
                reason: "must be between 2 and 64",
            });
        }
        let max_ring = number("CALLING_MAX_RING_S", 600)?;
        if !(10..=86_400).contains(&max_ring) {
            return Err(ConfigError {
                name: "CALLING_MAX_RING_S",
                reason: "must be between 10 and 86400 seconds",
            });
        }
        let allowed_origins = get("CALLING_ALLOWED_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let ice_servers = match get("CALLING_ICE_SERVERS") {
            None => Vec::new(),
            Some(json) => serde_json::from_str(&json).map_err(|_| ConfigError {
                name: "CALLING_ICE_SERVERS",
                reason: "must be a JSON array like [{\"urls\":[\"stun:stun.example.org:3478\"]}]",
            })?,
        };
        let turn = TurnSettings::from_lookup(&get)?;
        Ok(Self {
            registration,
            behind_proxy,
            http,
            admission,
            turn,
            max_call_size: max_call_size as usize,
            max_ring: std::time::Duration::from_secs(max_ring),
            allowed_origins,
            ice_servers,
            database_url: get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            sdk_app_id,
            secret_key: get("CALLING_SECRET_KEY").map(SecretKey::new),
            usersig_ttl: ttl as i64,
            secure_cookie,
            tls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults() {
        let c = with(&[]).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.sdk_app_id, 1_400_000_000);
        assert_eq!(c.usersig_ttl, 86_400);
        assert!(c.secret_key.is_none());
        assert!(!c.secure_cookie);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = with(&[("CALLING_SDK_APP_ID", "abc")]).err().unwrap();
        assert!(e.to_string().starts_with("CALLING_SDK_APP_ID"), "{e}");
        assert!(with(&[("CALLING_USERSIG_TTL", "0")]).is_err());
        assert!(with(&[("CALLING_SECURE_COOKIE", "maybe")]).is_err());
        assert!(
            with(&[("CALLING_SECURE_COOKIE", "true")])
                .unwrap()
                .secure_cookie
        );
    }

    #[test]
    fn registration_proxy_and_caps() {
        let c = with(&[]).unwrap();
        assert_eq!(c.registration, Registration::Open);
        assert!(!c.behind_proxy);
        assert_eq!(c.admission.pending_per_ip, 16);
        let c = with(&[
            ("CALLING_REGISTRATION", "closed"),
            ("CALLING_BEHIND_PROXY", "true"),
            ("CALLING_MAX_PENDING_PER_IP", "20000"),
        ])
        .unwrap();
        assert_eq!(c.registration, Registration::Closed);
        assert!(c.behind_proxy);
        assert_eq!(c.admission.pending_per_ip, 20_000);
        let e = with(&[("CALLING_REGISTRATION", "invite-only")])
            .err()
            .unwrap();
        assert!(e.to_string().starts_with("CALLING_REGISTRATION"), "{e}");
        assert!(with(&[("CALLING_MAX_SOCKETS", "0")]).is_err());
    }

    #[test]
    fn tls_takes_both_files_and_makes_the_cookie_secure() {
        assert!(with(&[]).unwrap().tls.is_none());
        let e = with(&[("CALLING_TLS_CERT", "/etc/site.crt")])
            .err()
            .unwrap();
        assert!(e.to_string().starts_with("CALLING_TLS_KEY"), "{e}");
        let e = with(&[("CALLING_TLS_KEY", "/etc/site.key")]).err().unwrap();
        assert!(e.to_string().starts_with("CALLING_TLS_CERT"), "{e}");

        let both = [
            ("CALLING_TLS_CERT", "/etc/site.crt"),
            ("CALLING_TLS_KEY", "/etc/site.key"),
        ];
        let c = with(&both).unwrap();
        assert_eq!(
            c.tls,
            Some(TlsFiles {
                cert: "/etc/site.crt".into(),
                key: "/etc/site.key".into()
            })
        );
        assert!(c.secure_cookie);
        let plain_cookie = [both[0], both[1], ("CALLING_SECURE_COOKIE", "false")];
        assert!(!with(&plain_cookie).unwrap().secure_cookie);
    }
}
