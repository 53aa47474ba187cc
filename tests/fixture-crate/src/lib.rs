//! The code generated from `tests/fixtures/features`, compiled against the real runtime crate
//! like any generated crate. Building this crate (as `cargo clippy --workspace` and `cargo test`
//! do) proves that every feature of the spec format yields code that compiles without warnings.
#![deny(missing_docs)]
#![allow(unreachable_pub)]

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
