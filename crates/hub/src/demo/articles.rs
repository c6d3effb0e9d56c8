//! The demo shop's knowledge base: about forty articles (a few in French and Spanish, two
//! drafts) kept as Markdown files beside this module, in the format
//! `switchboard-hub articles import` reads, imported when the workspace is seeded. The bot
//! on web chat and WhatsApp answers from them.

use crate::policy::Viewer;
use crate::store::{Result, Store, StoreError};

/// Each article's key (its file name) and file.
pub const ARTICLES: &[(&str, &str)] = &[
    ("add-team-members", include_str!("articles/add-team-members.md")),
    ("cancel-an-order", include_str!("articles/cancel-an-order.md")),
    ("cancel-membership", include_str!("articles/cancel-membership.md")),
    ("cant-log-in", include_str!("articles/cant-log-in.md")),
    ("change-delivery-address", include_str!("articles/change-delivery-address.md")),
    ("charged-twice", include_str!("articles/charged-twice.md")),
    ("compare-plans", include_str!("articles/compare-plans.md")),
    ("contact-support", include_str!("articles/contact-support.md")),
    ("damaged-or-broken-item", include_str!("articles/damaged-or-broken-item.md")),
    ("delivered-but-not-received", include_str!("articles/delivered-but-not-received.md")),
    ("devolver-un-articulo", include_str!("articles/devolver-un-articulo.md")),
    ("discount-codes", include_str!("articles/discount-codes.md")),
    ("downgrade-your-plan", include_str!("articles/downgrade-your-plan.md")),
    ("envios-plazos-y-costes", include_str!("articles/envios-plazos-y-costes.md")),
    ("exchange-an-item", include_str!("articles/exchange-an-item.md")),
    ("gift-cards", include_str!("articles/gift-cards.md")),
    ("international-shipping", include_str!("articles/international-shipping.md")),
    ("invoices-and-receipts", include_str!("articles/invoices-and-receipts.md")),
    ("livraison-delais-et-frais", include_str!("articles/livraison-delais-et-frais.md")),
    ("missing-or-wrong-item", include_str!("articles/missing-or-wrong-item.md")),
    ("monthly-or-annual-billing", include_str!("articles/monthly-or-annual-billing.md")),
    ("northwind-rewards", include_str!("articles/northwind-rewards.md")),
    ("order-processing-times", include_str!("articles/order-processing-times.md")),
    ("pause-membership", include_str!("articles/pause-membership.md")),
    ("payment-declined", include_str!("articles/payment-declined.md")),
    ("payment-methods", include_str!("articles/payment-methods.md")),
    ("privacy-and-your-data", include_str!("articles/privacy-and-your-data.md")),
    ("product-warranty", include_str!("articles/product-warranty.md")),
    ("reset-password", include_str!("articles/reset-password.md")),
    ("retourner-un-article", include_str!("articles/retourner-un-article.md")),
    ("return-an-item", include_str!("articles/return-an-item.md")),
    ("shipping-costs-and-delivery-times", include_str!("articles/shipping-costs-and-delivery-times.md")),
    ("store-pickup", include_str!("articles/store-pickup.md")),
    ("support-hours", include_str!("articles/support-hours.md")),
    ("track-my-order", include_str!("articles/track-my-order.md")),
    ("two-factor-authentication", include_str!("articles/two-factor-authentication.md")),
    ("update-account-details", include_str!("articles/update-account-details.md")),
    ("upgrade-your-plan", include_str!("articles/upgrade-your-plan.md")),
    ("when-will-i-get-my-refund", include_str!("articles/when-will-i-get-my-refund.md")),
    ("where-is-my-order", include_str!("articles/where-is-my-order.md")),
];

/// Imports the articles; returns how many there are.
pub async fn seed(store: &Store) -> Result<usize> {
    let mut saves = Vec::with_capacity(ARTICLES.len());
    for (key, text) in ARTICLES {
        saves.push(
            switchboard_protocol::articles::parse_file(key, text)
                .map_err(|e| StoreError::BadRequest(format!("demo article {key}: {e}")))?,
        );
    }
    let n = saves.len();
    store.import_articles(Viewer::command_line(), saves).await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_article_reads() {
        for (key, text) in ARTICLES {
            let a = switchboard_protocol::articles::parse_file(key, text).unwrap_or_else(|e| panic!("{key}: {e}"));
            assert!(!switchboard_protocol::articles::summary(&a.body).is_empty(), "{key} opens with a short answer");
        }
        assert!(ARTICLES.len() >= 40);
    }
}
