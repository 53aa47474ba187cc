//! What the management API asks of an MQTT broker: who is online, closing a connection,
//! publishing, traces. The local service works without one ([`NoBroker`]); the embedded broker
//! ([`crate::mqtt`]) plugs in here.

use crate::state::Trace;
use std::future::Future;
use std::pin::Pin;

/// A boxed future the broker calls return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The broker side of the calls that concern live clients.
pub trait Broker: Send + Sync + 'static {
    /// Whether `client_id` is connected to `instance_id`.
    fn is_online(&self, instance_id: &str, client_id: &str) -> bool;
    /// Disconnects the client if it is connected.
    fn close_connection<'a>(&'a self, instance_id: &'a str, client_id: &'a str) -> BoxFuture<'a, ()>;
    /// Publishes `payload` to `topic`: `Ok(Some(message ID))` when the broker assigned the ID
    /// (and traced the publish itself), `Ok(None)` when the service should; `Err` says why it
    /// could not.
    fn publish<'a>(
        &'a self,
        instance_id: &'a str,
        topic: &'a str,
        payload: &'a [u8],
    ) -> BoxFuture<'a, Result<Option<String>, String>>;
    /// The trace steps the broker recorded for `instance_id` (connects, disconnects, publishes,
    /// deliveries), in the service's shape.
    fn traces(&self, _instance_id: &str) -> Vec<Trace> {
        Vec::new()
    }
}

/// No broker: nobody is online, closing does nothing, published messages go nowhere (they still
/// leave a trace).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoBroker;

impl Broker for NoBroker {
    fn is_online(&self, _: &str, _: &str) -> bool {
        false
    }

    fn close_connection<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }

    fn publish<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: &'a [u8],
    ) -> BoxFuture<'a, Result<Option<String>, String>> {
        Box::pin(async { Ok(None) })
    }
}
