//! The operations guide's backup and restore, run as an operator runs them: `deploy/backup.sh`
//! on a live workspace's PostgreSQL schema and file directory, `deploy/restore.sh` into an
//! empty schema beside it; a hub opened on the copy holds the same conversations, messages
//! and files, and takes new messages.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

fn script(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy").join(name)
}

#[tokio::test]
async fn a_backup_restores_into_an_empty_schema_and_matches() {
    let (from, to) = (pg_db(), pg_db());
    let store = open(&from);
    let w = world(&store).await;
    let now = switchboard_hub::clock::now_ms();
    for i in 0..12 {
        store
            .ingest(inbound(&w.sms, &format!("+1415555{:04}", 2000 + i % 5), "hello", &format!("bk-{i}"), now))
            .await
            .unwrap();
    }
    let files = tempfile::tempdir().unwrap();
    let key = switchboard_hub::storage::new_key();
    switchboard_hub::storage::Storage::new(files.path()).put(&key, b"%PDF-1.7 invoice").await.unwrap();
    let counts =
        |db: &TestDb| (db.text("SELECT COUNT(*) FROM conversations"), db.text("SELECT COUNT(*) FROM messages"));
    let before = counts(&from);

    let out = tempfile::tempdir().unwrap();
    let dump = out.path().join("backup");
    let run = |cmd: &mut Command| {
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    run(Command::new("bash").arg(script("backup.sh")).arg(&from.url).arg(&dump).arg("--files").arg(files.path()));
    assert!(dump.join("switchboard.dump").is_file() && dump.join("manifest.txt").is_file());
    let restored_files = out.path().join("restored-files");
    let said =
        run(Command::new("bash").arg(script("restore.sh")).arg(&dump).arg(&to.url).arg("--files").arg(&restored_files));
    assert!(said.contains("matches the manifest"), "{said}");

    assert_eq!(counts(&to), before);
    let copy = open(&to);
    let lead_view = copy.bootstrap(&w.lead, 5).await.unwrap();
    assert_eq!(lead_view.conversations.len().to_string(), before.0);
    assert_eq!(switchboard_hub::storage::Storage::new(&restored_files).read(&key).await.unwrap(), b"%PDF-1.7 invoice");
    copy.ingest(inbound(&w.sms, "+14155559999", "after the restore", "bk-after", now)).await.unwrap();
    assert_eq!(to.text("SELECT COUNT(*) FROM messages"), (before.1.parse::<i64>().unwrap() + 1).to_string());
    // A restore into a schema that holds a workspace is refused, and changes nothing.
    let again = Command::new("bash").arg(script("restore.sh")).arg(&dump).arg(&to.url).output().unwrap();
    assert!(!again.status.success());
    assert_eq!(to.text("SELECT COUNT(*) FROM messages"), (before.1.parse::<i64>().unwrap() + 1).to_string());
}
