//! Signaling: the `/ws` WebSocket that carries invitations, call state and WebRTC negotiation.
//!
//! - [`switchboard`]: the pure state machine of users, invitations and rooms.
//! - [`hub`]: the switchboard behind a lock, its outputs routed to each connection's outbox.
//! - [`limits`]: per-connection message rate; [`admission`]: caps on sockets.
//! - [`presence`]: telling contacts who is online, in a call or offline.
//! - [`ws`]: the WebSocket edge: login, framing, limits, and the timer that drives timeouts.
//! - [`groups`]: named sets of users stored in the database, for `groupCall` with a `groupID`.

pub mod admission;
pub mod groups;
pub mod hub;
pub mod limits;
pub mod presence;
pub mod switchboard;
pub mod ws;

/// Random bits for IDs that should not be guessable.
pub fn rand_u64() -> u64 {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    OsRng.next_u64()
}
