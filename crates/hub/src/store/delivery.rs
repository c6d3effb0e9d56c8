//! Providers' delivery reports for what the hub sent, by the provider's id for it or by
//! the reference the hub gave the send: an agent's message ([`super::outbox`]) or a
//! campaign's ([`super::campaigns`]).

use super::{entities, Result, Store};
use crate::params;
use switchboard_protocol::model::Delivery;

impl Store {
    /// A provider's delivery report for one of our messages (by its id, or by the
    /// reference the hub gave the send). Returns whether it matched.
    pub async fn delivery_report(
        &self,
        inbox_id: i64,
        provider_id: String,
        to: Delivery,
        error: Option<String>,
        reference: Option<String>,
    ) -> Result<bool> {
        let provider_id = switchboard_protocol::text::clean(&provider_id).into_owned();
        let error = error.map(|e| switchboard_protocol::text::clean(&e).into_owned());
        self.pool()
            .write(move |tx| {
                if let Some((campaign, row)) = reference.as_deref().and_then(crate::campaign::of_reference) {
                    super::campaigns::confirm(tx, inbox_id, campaign, row, &provider_id)?;
                }
                let row = tx.conn.query_opt(
                    "SELECT id FROM messages WHERE inbox_id = ? AND provider_id = ? AND direction = 'outbound'",
                    params![inbox_id, &provider_id],
                )?;
                let Some(row) = row else {
                    return super::campaigns::campaign_delivery(tx, inbox_id, &provider_id, to, error.as_deref());
                };
                let msg = entities::load_message(tx.conn, row.int(0)?)?;
                super::outbox::set_delivery(tx, &msg, to, error.as_deref(), None)?;
                Ok(true)
            })
            .await
    }
}
