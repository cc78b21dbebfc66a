//! The calling engine: TRTCCalling's behaviour in Rust.
//!
//! - [`events`]: the events users of the API see.
//! - [`machine`]: the per-session call state and its timers, pure and tested natively on a fake
//!   clock. Every rule goes here.
//! - [`quality`]: speaking and connection-quality indicators from WebRTC statistics.
//! - [`web`] (browser only): WebSocket, `getUserMedia`, `RTCPeerConnection` and `<video>` glue,
//!   which carries out the machine's effects and reports back; a new JavaScript method is an
//!   `Engine` method in `web/api.rs`.

pub mod events;
pub mod machine;
pub mod quality;
#[cfg(feature = "web")]
pub mod web;
