//! The trace log: what really happened on the broker, for the `QueryMqttTrace*` operations.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// One event of the trace log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    /// When it happened, milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// The instance.
    pub instance_id: String,
    /// The client concerned: who connected, disconnected, published, or received. Empty for
    /// messages sent through the API (`SendMessage`).
    pub client_id: String,
    /// The network connection (`ChannelId` of `QueryMqttTraceDevice`), empty for API sends.
    pub channel_id: String,
    /// What happened.
    pub kind: TraceKind,
}

/// What a [`TraceEvent`] records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceKind {
    /// A CONNECT accepted.
    Connect,
    /// A CONNECT refused, with the return code sent and a reason.
    ConnectRefused {
        /// The MQTT 3.1.1 CONNACK return code.
        return_code: u8,
        /// Why (no secret in it).
        reason: String,
    },
    /// A connection ended.
    Disconnect {
        /// Why: the client's DISCONNECT, a network error, `CloseConnection`, a takeover by a new
        /// connection with the same client ID, ...
        reason: String,
    },
    /// A message accepted from a client (`pub_mqtt`) or from the API (`pub_api`).
    Publish {
        /// The message ID.
        msg_id: String,
        /// The topic.
        topic: String,
        /// `true` when it came from `SendMessage` rather than an MQTT client.
        from_api: bool,
    },
    /// A message pushed to a subscriber (`sub`).
    Deliver {
        /// The message ID.
        msg_id: String,
        /// The topic.
        topic: String,
    },
}

impl TraceKind {
    /// The message ID, for publishes and deliveries.
    pub fn msg_id(&self) -> Option<&str> {
        match self {
            TraceKind::Publish { msg_id, .. } | TraceKind::Deliver { msg_id, .. } => Some(msg_id),
            _ => None,
        }
    }
}

/// A bounded, append-only list of [`TraceEvent`]s: the oldest events go first once it holds
/// `capacity` of them.
#[derive(Debug)]
pub struct TraceLog {
    events: Mutex<VecDeque<TraceEvent>>,
    capacity: usize,
}

impl TraceLog {
    /// A log keeping at most `capacity` events.
    pub fn new(capacity: usize) -> Self {
        Self { events: Mutex::new(VecDeque::new()), capacity: capacity.max(1) }
    }

    pub(crate) fn push(&self, event: TraceEvent) {
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if events.len() >= self.capacity {
            events.pop_front();
        }
        events.push_back(event);
    }

    /// The events for which `keep` is true, oldest first.
    pub fn query(&self, mut keep: impl FnMut(&TraceEvent) -> bool) -> Vec<TraceEvent> {
        let events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        events.iter().filter(|e| keep(e)).cloned().collect()
    }

    /// Every event, oldest first.
    pub fn all(&self) -> Vec<TraceEvent> {
        self.query(|_| true)
    }
}

/// Message IDs in ApsaraMQ's shape (32 uppercase hex digits), unique within a process.
#[derive(Debug)]
pub(crate) struct MsgIdGenerator {
    prefix: u64,
    counter: AtomicU64,
}

impl MsgIdGenerator {
    pub(crate) fn new() -> Self {
        let mut seed = [0u8; 8];
        // A random prefix keeps IDs of different brokers apart; time is the fallback.
        let prefix = match getrandom::fill(&mut seed) {
            Ok(()) => u64::from_le_bytes(seed),
            Err(_) => now_ms() as u64,
        };
        Self { prefix, counter: AtomicU64::new(0) }
    }

    pub(crate) fn next(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{:016X}{:016X}", self.prefix, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_is_bounded() {
        let log = TraceLog::new(2);
        for i in 0..3 {
            log.push(TraceEvent {
                time_ms: i,
                instance_id: "i".into(),
                client_id: "c".into(),
                channel_id: String::new(),
                kind: TraceKind::Connect,
            });
        }
        let times: Vec<i64> = log.all().iter().map(|e| e.time_ms).collect();
        assert_eq!(times, vec![1, 2]);
    }

    #[test]
    fn msg_ids_are_unique_and_shaped() {
        let ids = MsgIdGenerator::new();
        let (a, b) = (ids.next(), ids.next());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
    }
}
