//! Finding 15: the hub spoke to PostgreSQL (its database and a CRM's SQL source) without
//! TLS whatever the URL's `sslmode` said. Against the real test server, which has TLS on:
//! `require` encrypts, `disable` does not, `verify-full` checks the certificate's chain
//! and name, `verify-ca` its chain only.
#![allow(clippy::unwrap_used)]

mod common;

use switchboard_hub::store::postgres::PgConnection;
use switchboard_hub::store::{Store, StoreOptions};

/// Whether the connection made from `url` is encrypted, or why it failed.
fn encrypted(url: &str) -> Result<bool, String> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let mut c = PgConnection::connect(&url).map_err(|e| e.to_string())?;
        let row = switchboard_hub::store::db::Connection::query_one(
            &mut c,
            "SELECT CASE WHEN ssl THEN 1 ELSE 0 END FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .map_err(|e| e.to_string())?;
        Ok(row.int(0).map_err(|e| e.to_string())? == 1)
    })
    .join()
    .unwrap()
}

fn with(url: &str, extra: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{extra}")
}

/// What vouches for the server's certificate, which names `localhost`: the authority in
/// its `ssl_ca_file`, or the certificate itself when it is self-signed (Debian's own).
fn server_cert(url: &str) -> String {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let on: String = c.query_one("SHOW ssl", &[]).unwrap().get(0);
        assert_eq!(on, "on", "the test server must have TLS on (scripts/test.sh starts one that has)");
        let ca: String = c.query_one("SHOW ssl_ca_file", &[]).unwrap().get(0);
        if ca.is_empty() {
            c.query_one("SHOW ssl_cert_file", &[]).unwrap().get(0)
        } else {
            ca
        }
    })
    .join()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_is_reached_over_tls_as_the_url_asks() {
    let db = common::pg_db();
    assert_eq!(encrypted(&with(&db.url, "sslmode=require")), Ok(true));
    assert_eq!(encrypted(&with(&db.url, "sslmode=disable")), Ok(false));
    assert_eq!(encrypted(&db.url), Ok(true), "prefer, the default, uses TLS when the server offers it");
    // The whole store, writers, readers and the feed listener, over TLS.
    let store = Store::open(&with(&db.url, "sslmode=require"), &StoreOptions::default()).unwrap();
    common::world(&store).await;
    assert!(!store.agents().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_checks_the_certificate_and_its_name() {
    let db = common::pg_db();
    let cert = server_cert(&db.url);
    let root = format!("sslrootcert={cert}");
    let by_name = db.url.replacen("@127.0.0.1:", "@localhost:", 1);
    assert_ne!(by_name, db.url, "the test server is reached at 127.0.0.1");
    assert_eq!(encrypted(&with(&by_name, &format!("sslmode=verify-full&{root}"))), Ok(true));
    // The certificate names localhost, not 127.0.0.1: verify-full refuses, verify-ca does not.
    let wrong_name = encrypted(&with(&db.url, &format!("sslmode=verify-full&{root}")));
    assert!(wrong_name.as_ref().is_err_and(|e| e.contains("certificate")), "{wrong_name:?}");
    assert_eq!(encrypted(&with(&db.url, &format!("sslmode=verify-ca&{root}"))), Ok(true));
    // A server no trusted authority vouches for is refused.
    let untrusted = encrypted(&with(&by_name, "sslmode=verify-full"));
    assert!(untrusted.as_ref().is_err_and(|e| e.contains("certificate")), "{untrusted:?}");
    let bad_mode = encrypted(&with(&db.url, "sslmode=sometimes"));
    assert!(bad_mode.as_ref().is_err_and(|e| e.contains("sslmode")), "{bad_mode:?}");
}
