//! `switchboard-sync`: syncs a console cache from a hub without a window, for scripts,
//! diagnosis and the crash tests. It prints progress and the connection state. With
//! `--until-online` it exits once the cache has caught up with the hub; with
//! `--until-drained`, once the outbox is empty too. `--queue-replies CONVERSATION:N`
//! first queues N replies, `reply 1` to `reply N`.
//!
//! Usage: `switchboard-sync --dir DIR --hub URL [--token TOKEN] [--queue-replies C:N]
//! [--until-online | --until-drained]` (the token may also come from `SWITCHBOARD_TOKEN`).

use std::path::PathBuf;
use switchboard_core::Console;
use switchboard_protocol::console::{Connection, ConsoleEvent};

fn usage() -> ! {
    eprintln!(
        "usage: switchboard-sync --dir DIR --hub URL [--token TOKEN] [--queue-replies C:N] [--until-online | --until-drained]"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let mut dir = None;
    let mut hub = None;
    let mut token = std::env::var("SWITCHBOARD_TOKEN").ok();
    let mut until_online = false;
    let mut until_drained = false;
    let mut queue: Option<(i64, u32)> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--dir" => dir = args.next().map(PathBuf::from),
            "--hub" => hub = args.next(),
            "--token" => token = args.next(),
            "--until-online" => until_online = true,
            "--until-drained" => until_drained = true,
            "--queue-replies" => {
                let spec = args.next().unwrap_or_default();
                let parsed = spec.split_once(':').and_then(|(c, n)| Some((c.parse().ok()?, n.parse().ok()?)));
                queue = Some(parsed.unwrap_or_else(|| usage()));
            }
            _ => usage(),
        }
    }
    let (Some(dir), Some(hub), Some(token)) = (dir, hub, token) else { usage() };
    let console = match Console::open(&dir, &hub, &token) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot open the cache in {}: {e}", dir.display());
            std::process::exit(1);
        }
    };
    if let Some((conversation, n)) = queue {
        for i in 1..=n {
            if let Err(e) = console.send_reply(conversation, &format!("reply {i}")) {
                eprintln!("cannot queue reply {i}: {e}");
                std::process::exit(1);
            }
        }
        println!("queued {n}");
    }
    let mut events = console.subscribe();
    console.start();
    if until_drained {
        loop {
            let drained = console.outbox().items().map(|o| o.is_empty()).unwrap_or(false);
            if drained && console.connection() == Connection::Online {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    loop {
        match events.recv().await {
            Ok(ConsoleEvent::Progress { progress }) => println!("progress {}/{}", progress.done, progress.total),
            Ok(ConsoleEvent::Connection { connection }) => {
                println!("connection {}", serde_json::to_string(&connection).unwrap_or_default());
                match connection {
                    Connection::Online if until_online => return,
                    Connection::SignedOut { reason } => {
                        eprintln!("signed out: {reason}");
                        std::process::exit(1);
                    }
                    _ => {}
                }
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}
