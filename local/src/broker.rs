//! What the management API asks of an MQTT broker: who is online, closing a connection,
//! publishing. The local service works without one ([`NoBroker`]); a broker crate plugs in here.

/// The broker side of the calls that concern live clients.
pub trait Broker: Send + Sync + 'static {
    /// Whether `client_id` is connected to `instance_id`.
    fn is_online(&self, instance_id: &str, client_id: &str) -> bool;
    /// Disconnects the client if it is connected.
    fn close_connection(&self, instance_id: &str, client_id: &str);
    /// Publishes `payload` to `topic`; `Err` says why it could not.
    fn publish(&self, instance_id: &str, topic: &str, payload: &[u8]) -> Result<(), String>;
}

/// No broker: nobody is online, closing does nothing, published messages go nowhere (they still
/// leave a trace).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoBroker;

impl Broker for NoBroker {
    fn is_online(&self, _: &str, _: &str) -> bool {
        false
    }

    fn close_connection(&self, _: &str, _: &str) {}

    fn publish(&self, _: &str, _: &str, _: &[u8]) -> Result<(), String> {
        Ok(())
    }
}
