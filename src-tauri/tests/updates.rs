//! Console updates against a local release server: a newer release is downloaded and its
//! signature verified; a tampered package, one signed by another key, and one whose
//! announced version is not the version it was signed for are refused; nothing newer, or a
//! server that cannot be reached, installs nothing. Releases are signed here as the release
//! workflow signs them (minisign, the version in the signed comment), and the app's updater
//! is built from the same settings the console ships with (`requireSignedVersion` on).
#![allow(clippy::unwrap_used)]

use axum::routing::get;
use std::sync::{Arc, Mutex};
use switchboard_app::updates::{fetch, UpdateError};
use tauri_plugin_updater::UpdaterExt;

/// What the release server publishes.
#[derive(Clone, Default)]
struct Published {
    /// The manifest's body, or `None` for `204 No Content` (nothing newer).
    manifest: Option<String>,
    package: Vec<u8>,
}

/// A release key: the public half as the app's settings carry it, and the secret half.
struct Key {
    public: String,
    secret: minisign::SecretKey,
    pk: minisign::PublicKey,
}

fn key() -> Key {
    let pair = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
    let public = b64(&pair.pk.to_box().unwrap().into_string());
    Key { public, secret: pair.sk, pk: pair.pk }
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The package's signature as the release workflow writes it: the `.sig` file, in base64,
/// its signed comment naming the version.
fn sign(key: &Key, package: &[u8], version: &str) -> String {
    let trusted = format!("timestamp:1764979200\tfile:Switchboard_{version}_amd64.AppImage\tversion:{version}");
    let sig = minisign::sign(Some(&key.pk), &key.secret, std::io::Cursor::new(package), Some(&trusted), None).unwrap();
    b64(&sig.into_string())
}

/// The updater's name for this platform in a manifest.
fn platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    format!("{os}-{}", std::env::consts::ARCH)
}

fn manifest(version: &str, signature: &str, url: &str) -> String {
    serde_json::json!({
        "version": version,
        "notes": "Faster search; a fix for attachments.",
        "pub_date": "2026-12-01T09:00:00Z",
        "platforms": { platform(): { "signature": signature, "url": url } },
    })
    .to_string()
}

/// Serves `published` at `/latest.json` and `/package` on loopback; returns the base URL.
async fn release_server(published: Arc<Mutex<Published>>) -> String {
    let manifest = published.clone();
    let app = axum::Router::new()
        .route(
            "/latest.json",
            get(move || {
                let p = manifest.lock().unwrap().clone();
                async move {
                    match p.manifest {
                        Some(body) => (axum::http::StatusCode::OK, body),
                        None => (axum::http::StatusCode::NO_CONTENT, String::new()),
                    }
                }
            }),
        )
        .route(
            "/package",
            get(move || {
                let bytes = published.lock().unwrap().package.clone();
                async move { bytes }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// The console's updater, trusting `public`, asking `endpoint`. The shipped settings differ
/// only in the server's address and in requiring `https` of it (this server is loopback).
fn updater(public: &str, endpoint: &str) -> tauri_plugin_updater::Updater {
    let mut ctx = tauri::test::mock_context(tauri::test::noop_assets());
    let shipped: serde_json::Value = serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
    let mut settings = shipped["plugins"]["updater"].clone();
    assert_eq!(settings["requireSignedVersion"], true, "the console ships requiring the signed version");
    settings["pubkey"] = public.into();
    settings["endpoints"] = serde_json::json!([endpoint]);
    settings["dangerousInsecureTransportProtocol"] = true.into();
    ctx.config_mut().plugins.0.insert("updater".into(), settings);
    let app = tauri::test::mock_builder().plugin(tauri_plugin_updater::Builder::new().build()).build(ctx).unwrap();
    let updater = app.handle().updater().unwrap();
    // The app may go; the updater keeps what it needs.
    drop(app);
    updater
}

const PACKAGE: &[u8] = b"\x7fELF Switchboard 0.2.0 \x00\x01\x02 the new console";

async fn publish(key: &Key, version: &str, signed_for: &str, package: &[u8]) -> (String, Arc<Mutex<Published>>) {
    let published = Arc::new(Mutex::new(Published::default()));
    let base = release_server(published.clone()).await;
    let signature = sign(key, PACKAGE, signed_for);
    *published.lock().unwrap() = Published {
        manifest: Some(manifest(version, &signature, &format!("{base}/package"))),
        package: package.to_vec(),
    };
    (format!("{base}/latest.json"), published)
}

#[tokio::test]
async fn a_newer_signed_release_is_downloaded_and_verified() {
    let key = key();
    let (endpoint, _server) = publish(&key, "0.2.0", "0.2.0", PACKAGE).await;
    let ready = fetch(&updater(&key.public, &endpoint)).await.unwrap().expect("0.2.0 is newer than 0.1.0");
    assert_eq!(ready.package(), PACKAGE);
    let told = ready.announce();
    assert_eq!(told.version, "0.2.0");
    assert_eq!(told.current_version, "0.1.0");
    assert_eq!(told.notes.as_deref(), Some("Faster search; a fix for attachments."));
}

#[tokio::test]
async fn a_tampered_package_is_refused() {
    let key = key();
    let mut tampered = PACKAGE.to_vec();
    tampered[10] ^= 0x01;
    let (endpoint, _server) = publish(&key, "0.2.0", "0.2.0", &tampered).await;
    let err = fetch(&updater(&key.public, &endpoint)).await.unwrap_err();
    assert!(matches!(err, UpdateError::Refused(_)), "{err}");

    // Cut short on the way is refused too, not installed in part.
    let (endpoint, _server) = publish(&key, "0.2.0", "0.2.0", &PACKAGE[..PACKAGE.len() - 4]).await;
    let err = fetch(&updater(&key.public, &endpoint)).await.unwrap_err();
    assert!(matches!(err, UpdateError::Refused(_)), "{err}");
}

#[tokio::test]
async fn a_package_signed_by_another_key_is_refused() {
    let ours = key();
    let theirs = key();
    let (endpoint, _server) = publish(&theirs, "0.2.0", "0.2.0", PACKAGE).await;
    let err = fetch(&updater(&ours.public, &endpoint)).await.unwrap_err();
    assert!(matches!(err, UpdateError::Refused(_)), "{err}");
}

#[tokio::test]
async fn an_old_release_announced_as_new_is_refused() {
    // A genuine 0.0.9 package and signature, announced as 0.3.0 to force a downgrade.
    let key = key();
    let (endpoint, _server) = publish(&key, "0.3.0", "0.0.9", PACKAGE).await;
    let err = fetch(&updater(&key.public, &endpoint)).await.unwrap_err();
    assert!(matches!(err, UpdateError::Refused(_)), "{err}");
}

#[tokio::test]
async fn nothing_newer_installs_nothing() {
    let key = key();
    // The same version as the running one.
    let (endpoint, _server) = publish(&key, "0.1.0", "0.1.0", PACKAGE).await;
    assert!(fetch(&updater(&key.public, &endpoint)).await.unwrap().is_none());
    // An older one.
    let (endpoint, _server) = publish(&key, "0.0.9", "0.0.9", PACKAGE).await;
    assert!(fetch(&updater(&key.public, &endpoint)).await.unwrap().is_none());
    // A server answering 204 No Content.
    let (endpoint, server) = publish(&key, "0.2.0", "0.2.0", PACKAGE).await;
    server.lock().unwrap().manifest = None;
    assert!(fetch(&updater(&key.public, &endpoint)).await.unwrap().is_none());
}

#[tokio::test]
async fn a_server_that_cannot_be_reached_is_a_failed_check() {
    let key = key();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let err = fetch(&updater(&key.public, &format!("http://{closed}/latest.json"))).await.unwrap_err();
    assert!(matches!(err, UpdateError::Check(_)), "{err}");
}
