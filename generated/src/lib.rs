//! A typed async client for Alibaba Cloud **ApsaraMQ for MQTT** (API `onsmqtt`, version `2020-04-20`).
//!
//! ```no_run
//! use alibabacloud_onsmqtt::{Client, Config};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! // Region and credentials from the environment (ALIBABA_CLOUD_ACCESS_KEY_ID, ...).
//! let client = Client::new(Config::builder().region("cn-hangzhou").build()?);
//! let session = client
//!     .query_session_by_client_id()
//!     .instance_id("post-cn-0pp12gl****")
//!     .client_id("GID_test@@@test")
//!     .send()
//!     .await?;
//! println!("online: {}", session.online_status);
//! # Ok(())
//! # }
//! ```
//!
//! The operation code under [`operations`] is generated from the YAML spec by `cargo xtask codegen`;
//! the runtime beside it (signing, credentials, transport, retries, errors) is written by hand.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod runtime;
pub mod operations;

pub use runtime::*;
