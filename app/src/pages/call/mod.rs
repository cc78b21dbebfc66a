//! The calling experience over every signed-in page: the session with the signaling server,
//! the incoming-call dialog, the outgoing-call screen and the call screen.

mod actions;
mod layer;
#[cfg(feature = "hydrate")]
mod ring;
mod screen;
mod session;
mod view;

pub use layer::CallLayer;
pub use session::{CallSession, CallView, Member};
