//! Support for Switchboard's tests, never shipped with the product: the check that no
//! crate's modules import each other in a circle ([`layering`]).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod layering;
