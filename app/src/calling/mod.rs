//! The calling engine: TRTCCalling's behaviour in Rust.
//!
//! - [`events`]: the events and error codes users of the API see.
//! - [`machine`]: the per-session call state, pure and tested natively.
//! - [`quality`]: speaking and connection-quality indicators from WebRTC statistics.
//! - [`web`] (browser only): WebSocket, `getUserMedia`, `RTCPeerConnection` and `<video>` glue.

pub mod events;
pub mod machine;
pub mod quality;
#[cfg(feature = "hydrate")]
pub mod web;
