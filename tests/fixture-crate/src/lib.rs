//! The code generated from `tests/fixtures/features`, compiled against the client's real
//! runtime. Building this crate (as `cargo clippy --workspace` and `cargo test` do) proves that
//! every feature of the spec format yields code that compiles without warnings.
#![deny(missing_docs)]
#![allow(unreachable_pub)]

#[path = "../../../generated/src/runtime/mod.rs"]
mod runtime;

#[rustfmt::skip]
pub mod operations;
#[rustfmt::skip]
pub mod service;
#[rustfmt::skip]
pub mod types;

pub use runtime::*;
