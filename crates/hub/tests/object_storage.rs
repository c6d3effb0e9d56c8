//! Attachments in each file store the hub can be set to: a local directory, and a bucket of
//! a real S3-compatible server (SigV4-signed requests, multipart uploads). Files go in
//! streamed (a file past one part is a multipart upload) and come back whole, on both
//! database engines; the real hub binary killed mid-upload leaves no row an agent can see,
//! no object in the bucket and no file under any key; and a hub that cannot use its bucket
//! refuses to start.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;
use switchboard_hub::config::Config;
use switchboard_testkit::s3;

/// A file of `n` bytes that is plainly a PDF (its type is read from its first bytes).
fn pdf(n: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.7\n".to_vec();
    b.extend((0..n.saturating_sub(b.len())).map(|i| (i * 31 % 251) as u8));
    b
}

fn bucket_config(s3: &s3::S3) -> Config {
    Config {
        s3_bucket: Some(s3.bucket.clone()),
        s3_endpoint: Some(s3.endpoint.clone()),
        s3_access_key_id: Some(s3::ACCESS_KEY.into()),
        s3_secret_access_key: Some(s3::SECRET_KEY.into()),
        ..Config::default()
    }
}

async fn upload(http: &reqwest::Client, base: &str, token: &str, name: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let resp = http
        .post(format!("{base}/api/v1/uploads"))
        .bearer_auth(token)
        .header("x-file-name", name)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Uploads a small file and one of three parts' length, fetches both back whole, and
/// checks where they were kept.
async fn files_go_in_and_come_back_whole(db: TestDb, s3: Option<s3::S3>) {
    let store = open(&db);
    let _w = world(&store).await;
    let config = s3.as_ref().map(bucket_config).unwrap_or_default();
    let hub = serve(store, config).await;
    let token = login(&hub, "agent@x.test").await;
    let http = reqwest::Client::new();
    let big = pdf(switchboard_hub::storage::PART_BYTES * 2 + 12_345);
    let small = pdf(2_000);
    let mut keys = Vec::new();
    for (name, body) in [("small.pdf", small), ("manual.pdf", big)] {
        let (status, file) = upload(&http, &hub.base, &token, name, body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{file}");
        assert_eq!(file["size"], body.len());
        let url = file["url"].as_str().unwrap();
        let resp = http.get(format!("{}{url}", hub.base)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-length"], body.len().to_string().as_str());
        assert!(resp.headers()["content-disposition"].to_str().unwrap().contains(name));
        assert!(resp.bytes().await.unwrap() == body, "{name} comes back whole");
        keys.push(url.rsplit('/').next().unwrap().to_owned());
    }
    let other = login(&hub, "bagent@x.test").await;
    let theirs = http.get(format!("{}/api/v1/blobs/{}", hub.base, keys[0])).bearer_auth(&other).send().await.unwrap();
    assert_eq!(theirs.status(), 404, "an upload is its uploader's alone");
    match &s3 {
        Some(s3) => {
            let want: Vec<String> = {
                let mut k: Vec<String> = keys.iter().map(|k| format!("{}/{k}", &k[..2])).collect();
                k.sort();
                k
            };
            assert_eq!(s3.objects(), want, "both are objects in the bucket, named by key");
            assert!(hub.files.as_ref().is_some_and(|d| std::fs::read_dir(d.path()).map_or(0, |r| r.count()) == 0));
        }
        None => {
            let dir = hub.files.as_ref().unwrap().path();
            for k in &keys {
                assert!(dir.join(&k[..2]).join(k).is_file(), "{k} is in the directory");
            }
        }
    }
}

#[tokio::test]
async fn a_directory_on_sqlite() {
    files_go_in_and_come_back_whole(sqlite_db(), None).await;
}

#[tokio::test]
async fn a_directory_on_postgres() {
    files_go_in_and_come_back_whole(pg_db(), None).await;
}

#[tokio::test]
async fn a_bucket_on_sqlite() {
    files_go_in_and_come_back_whole(sqlite_db(), Some(s3::start("hub-files"))).await;
}

#[tokio::test]
async fn a_bucket_on_postgres() {
    files_go_in_and_come_back_whole(pg_db(), Some(s3::start("hub-files"))).await;
}

/// The body of an upload that sends `before` bytes, then says it was sent (`sent`), then
/// hangs until the connection goes.
fn stalled_body(before: Vec<u8>, sent: tokio::sync::oneshot::Sender<()>) -> reqwest::Body {
    let head = futures_util::stream::iter(
        before
            .chunks(256 * 1024)
            .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    let signal = futures_util::stream::once(async move {
        let _ = sent.send(());
        Ok::<_, std::io::Error>(bytes::Bytes::new())
    });
    let hang = futures_util::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
    use futures_util::StreamExt;
    reqwest::Body::wrap_stream(head.chain(signal).chain(hang))
}

/// The real hub binary, on `db`, with `extra` settings.
struct Binary {
    child: std::process::Child,
    base: String,
    _config: tempfile::TempDir,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn binary(url: &str, extra: &str) -> Binary {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_switchboard-hub"));
    let port = switchboard_testkit::hub_process::free_port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, format!("listen = \"127.0.0.1:{port}\"\n{extra}")).unwrap();
    let mut child = switchboard_testkit::hub_process::spawn(bin, url, &config);
    let base = format!("http://127.0.0.1:{port}");
    switchboard_testkit::hub_process::wait_healthy(&mut child, &base).await;
    Binary { child, base, _config: dir }
}

/// A hub killed with SIGKILL in the middle of an upload (two parts already sent to the
/// bucket, or half the file in the directory) leaves no row, no object and no file; the
/// next hub serves everything else as before.
async fn killed_mid_upload(db: TestDb, s3: Option<s3::S3>) {
    let store = open(&db);
    world(&store).await;
    drop(store);
    let files = tempfile::tempdir().unwrap();
    let extra = match &s3 {
        Some(s3) => format!(
            "s3_bucket = \"{}\"\ns3_endpoint = \"{}\"\ns3_access_key_id = \"{}\"\ns3_secret_access_key = \"{}\"\n",
            s3.bucket,
            s3.endpoint,
            s3::ACCESS_KEY,
            s3::SECRET_KEY
        ),
        None => format!("blob_dir = \"{}\"\n", files.path().display()),
    };
    let mut hub = binary(&db.url, &extra).await;
    let http = reqwest::Client::new();
    let token = login_at(&http, &hub.base, "agent@x.test").await;
    let (kept_status, kept) = upload(&http, &hub.base, &token, "kept.pdf", pdf(40_000)).await;
    assert_eq!(kept_status, StatusCode::CREATED);

    let (sent_tx, sent_rx) = tokio::sync::oneshot::channel();
    let part = switchboard_hub::storage::PART_BYTES;
    let body = stalled_body(pdf(part * 2 + part / 2), sent_tx);
    let req = http
        .post(format!("{}/api/v1/uploads", hub.base))
        .bearer_auth(&token)
        .header("x-file-name", "half.pdf")
        .header("content-length", (part * 4).to_string())
        .body(body)
        .send();
    let pending = tokio::spawn(req);
    sent_rx.await.unwrap();
    // Give the hub time to pass what it received on to the bucket (or the disk).
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    if let Some(s3) = &s3 {
        let uploads = s3.dir.join("hub-files").join("._S3rver_uploads");
        assert!(
            std::fs::read_dir(&uploads).is_ok_and(|mut r| r.next().is_some()),
            "the upload had begun in the bucket when the hub was killed"
        );
    }
    hub.child.kill().unwrap();
    hub.child.wait().unwrap();
    assert!(pending.await.unwrap().is_err(), "the upload never got an answer");

    let blobs = db.text("SELECT COUNT(*) FROM blobs");
    assert_eq!(blobs, "1", "only the finished upload has a row");
    let key = kept["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    match &s3 {
        Some(s3) => assert_eq!(s3.objects(), vec![format!("{}/{key}", &key[..2])], "no object for the cut upload"),
        None => {
            let mut named = Vec::new();
            for d in std::fs::read_dir(files.path()).unwrap().flatten() {
                for f in std::fs::read_dir(d.path()).unwrap().flatten() {
                    let name = f.file_name().to_string_lossy().into_owned();
                    if switchboard_hub::storage::valid_key(&name) {
                        named.push(name);
                    }
                }
            }
            assert_eq!(named, vec![key.clone()], "no file under a key for the cut upload");
        }
    }
    let hub = binary(&db.url, &extra).await;
    let again = http.get(format!("{}/api/v1/blobs/{key}", hub.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(again.status(), 200);
    assert!(again.bytes().await.unwrap() == pdf(40_000));
}

async fn login_at(http: &reqwest::Client, base: &str, email: &str) -> String {
    let resp = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_hub_killed_mid_upload_to_a_bucket_leaves_nothing() {
    killed_mid_upload(pg_db(), Some(s3::start("hub-files"))).await;
}

#[tokio::test]
async fn a_hub_killed_mid_upload_to_a_directory_leaves_nothing() {
    killed_mid_upload(sqlite_db(), None).await;
}

/// Settings naming a bucket the hub cannot use (the wrong secret for a real server, or a
/// server that is not there): `serve` says so and stops instead of losing files later.
#[tokio::test]
async fn a_bucket_that_cannot_be_used_stops_the_hub_at_start() {
    let db = sqlite_db();
    let s3 = s3::start("hub-files");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_switchboard-hub"));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hub.toml");
    let unreachable = format!("http://127.0.0.1:{}", switchboard_testkit::hub_process::free_port());
    for (endpoint, secret, why) in
        [(s3.endpoint.as_str(), "not-the-secret", "403"), (unreachable.as_str(), s3::SECRET_KEY, "cannot be reached")]
    {
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:0\"\ns3_bucket = \"hub-files\"\ns3_endpoint = \"{endpoint}\"\n\
                 s3_access_key_id = \"{}\"\ns3_secret_access_key = \"{secret}\"\n",
                s3::ACCESS_KEY
            ),
        )
        .unwrap();
        let out = std::process::Command::new(bin)
            .args(["serve", "--database", &db.url, "--config"])
            .arg(&config)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{endpoint}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("the bucket hub-files cannot be used") && err.contains(why), "{endpoint}: {err}");
    }
}
