//! The webhook parsers take whatever arrives without panicking: random bytes, random
//! JSON, and real fixtures with random damage all end in a value or an error.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::Value;
use switchboard_hub::channels::{email, meta, twilio};
use switchboard_protocol::model::ChannelKind;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{path}")).unwrap()
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z_ 0-9+@.]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("whatsapp_business_account"),
            Just("page"),
            Just("instagram"),
            Just("text"),
            Just("image"),
            Just("messages")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("object".to_owned()),
                    Just("entry".to_owned()),
                    Just("changes".to_owned()),
                    Just("value".to_owned()),
                    Just("messages".to_owned()),
                    Just("statuses".to_owned()),
                    Just("messaging".to_owned()),
                    Just("type".to_owned()),
                    Just("from".to_owned()),
                    Just("id".to_owned()),
                    Just("sender".to_owned()),
                    Just("message".to_owned()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A fixture with `n` bytes overwritten at random places.
fn damaged(text: &str, hits: &[(usize, u8)]) -> Vec<u8> {
    let mut b = text.as_bytes().to_vec();
    for &(at, byte) in hits {
        if !b.is_empty() {
            let i = at % b.len();
            b[i] = byte;
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn twilio_forms(raw in prop::collection::vec(any::<u8>(), 0..600), hits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..8)) {
        for bytes in [raw, damaged(&fixture("twilio/inbound_mms.form"), &hits)] {
            let form: Vec<(String, String)> = form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            let _ = twilio::parse_inbound(&form, 0);
            let _ = twilio::parse_status(&form, None);
        }
    }

    #[test]
    fn meta_json(v in json_value()) {
        let _ = meta::parse_whatsapp(&v, "http://graph", 0);
        let _ = meta::parse_messaging(&v, ChannelKind::Messenger, 0);
        let _ = meta::parse_messaging(&v, ChannelKind::Instagram, 0);
    }

    #[test]
    fn meta_damaged_fixtures(hits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        for f in ["whatsapp/kinds.json", "whatsapp/status_failed.json", "messenger/attachment_and_echo.json", "instagram/message.json"] {
            if let Ok(v) = serde_json::from_slice::<Value>(&damaged(&fixture(f), &hits)) {
                let _ = meta::parse_whatsapp(&v, "http://graph", 0);
                let _ = meta::parse_messaging(&v, ChannelKind::Messenger, 0);
            }
        }
    }

    #[test]
    fn emails(raw in prop::collection::vec(any::<u8>(), 0..2000), hits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..12)) {
        let _ = email::parse(&raw, 0, Some("mx.test"));
        let _ = email::parse(&damaged(&fixture("email/new.eml"), &hits), 0, None);
        let _ = email::parse(&damaged(&fixture("email/reply.eml"), &hits), 0, None);
        let _ = email::trim_quoted(&String::from_utf8_lossy(&raw));
    }
}

/// Finding: `meta::seconds` multiplied a webhook's timestamp into milliseconds unchecked, so
/// a huge one overflowed (a panic in a debug build, a wrapped time in a release one). Such
/// a timestamp is now not trusted and the arrival time is used.
#[test]
fn meta_timestamps_that_would_overflow_are_not_trusted() {
    for ts in ["9223372036854775807", "-9223372036854775808", "9223372036854776"] {
        let v: Value = serde_json::from_str(&fixture("whatsapp/text.json").replace("1749416383", ts)).unwrap();
        let events = meta::parse_whatsapp(&v, "http://graph", 42).unwrap();
        let at = events.iter().find_map(|e| match e {
            switchboard_hub::channels::Event::Message(m) => Some(m.at),
            _ => None,
        });
        assert_eq!(at, Some(42), "{ts}");
    }
}
