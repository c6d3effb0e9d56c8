//! Secrets every hub on the database shares, made once by whichever hub asks first (the
//! key that signs the links providers fetch files by).

use super::{Result, Store};
use crate::params;

impl Store {
    /// The shared secret named `name`: 256 random bits, made on first use.
    pub async fn hub_key(&self, name: &'static str) -> Result<String> {
        let fresh = crate::storage::new_key() + &crate::storage::new_key();
        self.pool()
            .write(move |tx| {
                tx.conn.execute(
                    "INSERT INTO hub_keys (name, secret, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                    params![name, &fresh, tx.now],
                )?;
                Ok(tx.conn.query_one("SELECT secret FROM hub_keys WHERE name = ?", params![name])?.text(0)?.to_owned())
            })
            .await
    }
}
