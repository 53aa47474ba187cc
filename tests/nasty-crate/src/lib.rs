//! The code generated from `tests/fixtures/nasty`, compiled against the real runtime crate like
//! any generated crate. Its names are keywords, prelude, std and runtime names and names that
//! collide with the generator's own once converted; its texts try to open code blocks, doc tests
//! and HTML. Building this crate and documenting it with `-D warnings` proves the generator
//! renames or escapes all of them.
#![deny(missing_docs)]
#![allow(unreachable_pub)]
// Method names follow the API's wire names: a parameter `Clone` or `IntoItems` has a setter that
// clippy would rather see implement a trait. The generator renames what would not compile or
// would shadow the builder's own methods, not what only reads oddly.
#![allow(clippy::should_implement_trait, clippy::wrong_self_convention)]

/// The runtime items generated code uses (not API).
use alibabacloud_runtime::__private as runtime;

#[rustfmt::skip]
mod client;
#[rustfmt::skip]
pub mod operations;
#[rustfmt::skip]
pub mod service;
#[rustfmt::skip]
pub mod types;

pub use alibabacloud_runtime::*;
pub use client::Client;
