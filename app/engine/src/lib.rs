//! The calling engine and the signaling protocol: everything about a call that is not a page.
//!
//! - [`protocol`]: the signaling messages between browser and server, their decoder, and the
//!   error codes and refusals both sides use. The server decodes with it.
//! - [`calling`]: TRTCCalling's behaviour: a pure state machine with time passed in, tested
//!   natively, and (feature `web`) the browser glue that carries out its effects.
//!
//! The site (`app`) and the drop-in SDK build on it; neither brings the other along, so the
//! SDK's Wasm holds no pages and the server no web glue.

pub mod calling;
pub mod protocol;
