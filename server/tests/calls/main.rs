//! The switchboard, scenario by scenario, on a virtual clock: no sockets, no sleeping.
//! Each file is one family of stories; each test is one story.

mod harness;

mod answer;
mod busy;
mod cancel_and_timeout;
mod group;
mod harassment;
mod history;
mod login;
mod presence;
mod refusals;
