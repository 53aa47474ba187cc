//! The code generated from `tests/fixtures/nasty`, compiled against the client's real runtime.
//! Its names are keywords, prelude, std and runtime names and names that collide with the
//! generator's own once converted; its texts try to open code blocks, doc tests and HTML.
//! Building this crate and documenting it with `-D warnings` proves the generator renames or
//! escapes all of them.
#![deny(missing_docs)]
#![allow(unreachable_pub)]
// Method names follow the API's wire names: a parameter `Clone` or `IntoItems` has a setter that
// clippy would rather see implement a trait. The generator renames what would not compile or
// would shadow the builder's own methods, not what only reads oddly.
#![allow(clippy::should_implement_trait, clippy::wrong_self_convention)]

#[path = "../../../generated/src/runtime/mod.rs"]
mod runtime;

#[rustfmt::skip]
pub mod operations;
#[rustfmt::skip]
pub mod service;
#[rustfmt::skip]
pub mod types;

pub use runtime::*;
