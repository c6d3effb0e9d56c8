//! The demo's sent campaign: a delivery update to WhatsApp customers, some of whom had
//! opted out, sent through the same claims, marks and results the campaign sender uses
//! (the simulated provider taking each message), with delivery and read reports and a few
//! customers answering, so the Campaigns screen opens on a finished campaign with results.

use super::customers::{address, channels_of, customer};
use crate::policy::Viewer;
use crate::store::campaigns::BulkOutcome;
use crate::store::ingest::Inbound;
use crate::store::Result;
use crate::store::Store;
use switchboard_protocol::campaign::{Audience, CampaignSpec};
use switchboard_protocol::consent::ConsentPurpose;
use switchboard_protocol::model::{ChannelKind, Delivery, Inbox};

/// Customers the campaign is for, and how many of them opted out first.
const AUDIENCE: usize = 40;
const OPTED_OUT: usize = 4;

/// Sends the demo's campaign as `lead` from the WhatsApp inbox among `inboxes`, to
/// customers (of the `contacts` seeded) who gave a phone number.
pub(super) async fn send(store: &Store, lead: &Viewer, inboxes: &[Inbox], contacts: usize) -> Result<()> {
    let Some(whatsapp) = inboxes.iter().find(|i| i.kind == ChannelKind::Whatsapp) else { return Ok(()) };
    let by_phone =
        |i: &usize| channels_of(*i, inboxes).iter().any(|x| matches!(x.kind, ChannelKind::Sms | ChannelKind::Whatsapp));
    let picked: Vec<usize> = (0..contacts).filter(by_phone).take(AUDIENCE).collect();
    let now = crate::clock::now_ms();
    for (n, &i) in picked.iter().take(OPTED_OUT).enumerate() {
        let from = address(&customer(i), ChannelKind::Whatsapp);
        store.ingest(Inbound::text(whatsapp.id, &from, "STOP", Some(&format!("wamid.demo-stop-{n}")), now)).await?;
    }
    let mut csv = String::from("phone,name,1,2\n");
    for &i in &picked {
        let c = customer(i);
        csv.push_str(&format!("{},{},{},#{}\n", address(&c, ChannelKind::Whatsapp), c.name, c.first, 48_200 + i));
    }
    let spec = CampaignSpec {
        name: "December delivery update".into(),
        inbox_id: whatsapp.id,
        template: "order_update".into(),
        subject: None,
        purpose: ConsentPurpose::Service,
        audience: Audience::Csv { csv },
        scheduled_at: Some(now),
        allowed_hours: None,
        time_zone: Some(super::TIME_ZONE.into()),
        frequency_cap: None,
    };
    let campaign = store.create_campaign(lead, spec, super::TIME_ZONE.into()).await?;
    let now = crate::clock::now_ms();
    store.start_due_campaigns(now).await?;
    let holder = "demo-seed".to_owned();
    let claimed = store.claim_recipients(whatsapp.id, holder.clone(), now, AUDIENCE).await?;
    let keys: Vec<(i64, i64)> = claimed.iter().map(|s| (s.campaign_id, s.row)).collect();
    store.mark_sending(holder, keys.clone(), now).await?;
    let outcomes = keys
        .iter()
        .map(|&(c, row)| (c, row, BulkOutcome::Sent { provider_id: format!("wamid.demo-campaign-{row}") }))
        .collect();
    store.record_bulk(outcomes).await?;
    // Most were delivered, half of those read; three customers answered.
    for (n, &(_, row)) in keys.iter().enumerate() {
        let id = format!("wamid.demo-campaign-{row}");
        if n % 9 != 8 {
            store.delivery_report(whatsapp.id, id.clone(), Delivery::Delivered, None, None).await?;
        }
        if n % 2 == 0 && n % 9 != 8 {
            store.delivery_report(whatsapp.id, id, Delivery::Read, None, None).await?;
        }
    }
    let answers = ["Great, thanks! Can it come on Friday instead?", "Thank you 🙏", "Which address will it go to?"];
    for (n, text) in answers.iter().enumerate() {
        let Some(&i) = picked.get(OPTED_OUT + 2 + n * 5) else { break };
        let from = address(&customer(i), ChannelKind::Whatsapp);
        store.ingest(Inbound::text(whatsapp.id, &from, text, Some(&format!("wamid.demo-answer-{n}")), now)).await?;
    }
    store.settle_campaigns(crate::clock::now_ms(), 0).await?;
    tracing::debug!("demo campaign {} sent", campaign.id);
    Ok(())
}
