//! Persistence in redb: the whole state, as JSON, in one table row, rewritten by every
//! acknowledged change in a durable (fsync'd) transaction before the answer goes out.
//!
//! Why redb: pure Rust (no C build), ACID with crash-safe copy-on-write commits, a stable file
//! format and active maintenance. Why one row: the state of a local service is small, and a
//! single snapshot per commit makes every write trivially atomic; a service holding many
//! thousands of entries pays a write proportional to its size.

use crate::state::State;
use redb::{Database, TableDefinition};
use std::path::Path;

const TABLE: TableDefinition<&str, &[u8]> = TableDefinition::new("state");
const KEY: &str = "state";

/// The database under a data directory.
pub struct Store {
    db: Database,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) `<dir>/onsmqtt-local.redb`.
    pub fn open(dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join("onsmqtt-local.redb");
        let db = Database::create(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        Ok(Self { db })
    }

    /// The saved state, if any.
    pub fn load(&self) -> Result<Option<State>, String> {
        let tx = self.db.begin_read().map_err(|e| e.to_string())?;
        let table = match tx.open_table(TABLE) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let Some(value) = table.get(KEY).map_err(|e| e.to_string())? else { return Ok(None) };
        serde_json::from_slice(value.value())
            .map(Some)
            .map_err(|e| format!("the saved state does not decode: {e}"))
    }

    /// Saves `state` durably.
    pub fn save(&self, state: &State) -> Result<(), String> {
        let bytes = serde_json::to_vec(state).map_err(|e| e.to_string())?;
        let tx = self.db.begin_write().map_err(|e| e.to_string())?;
        {
            let mut table = tx.open_table(TABLE).map_err(|e| e.to_string())?;
            table.insert(KEY, bytes.as_slice()).map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())
    }
}
