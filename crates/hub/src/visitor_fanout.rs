//! Web-chat and in-app lines fanned out to visitors' sockets by conversation: one task per
//! hub process reads each batch of the feed once, keeps only web-chat and in-app messages,
//! finds whose thread each belongs to (one lookup per conversation, remembered), and hands
//! it to the sockets of that visitor alone. A socket therefore costs nothing while other
//! visitors chat, and an idle one is only an entry in a map.

use crate::fanout::Fanout;
use crate::store::change_kind::ChangeKind;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use switchboard_protocol::model::{ChannelKind, Delivery, Direction};
use switchboard_protocol::sync::Change;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

/// Whose thread: the inbox and the customer address the conversations are kept under.
pub type Thread = (i64, String);

/// What a visitor's socket is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisitorEvent {
    /// A line of their thread was stored or changed.
    Line { message_id: i64, direction: Direction, delivery: Option<Delivery>, created_at: i64 },
    /// The hub fell behind the feed: the socket should send the latest lines again.
    Resync,
}

/// Events queued per socket before it counts as too slow and is dropped.
const SOCKET_QUEUE: usize = 256;
/// Conversations whose thread is remembered; past it the memory starts again.
const REMEMBERED: usize = 200_000;

#[derive(Debug, Default)]
struct Registry {
    next: u64,
    sockets: HashMap<Thread, Vec<(u64, mpsc::Sender<VisitorEvent>)>>,
}

/// The process-wide index of open visitor sockets.
#[derive(Debug, Clone)]
pub struct VisitorFanout {
    registry: Arc<Mutex<Registry>>,
}

/// A socket's place in the index; leaving it (dropping) takes the socket out.
#[derive(Debug)]
pub struct Subscription {
    registry: Arc<Mutex<Registry>>,
    thread: Thread,
    id: u64,
    pub events: mpsc::Receiver<VisitorEvent>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut r = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(list) = r.sockets.get_mut(&self.thread) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                r.sockets.remove(&self.thread);
            }
        }
    }
}

impl VisitorFanout {
    /// Starts the task that reads `fanout` for visitors, on the current runtime.
    pub fn start(store: Store, fanout: &Fanout) -> VisitorFanout {
        let registry = Arc::new(Mutex::new(Registry::default()));
        let vf = VisitorFanout { registry: registry.clone() };
        let feed = fanout.subscribe();
        tokio::spawn(route(store, feed, registry));
        vf
    }

    /// Registers a socket for `thread`'s lines.
    pub fn subscribe(&self, thread: Thread) -> Subscription {
        let (tx, rx) = mpsc::channel(SOCKET_QUEUE);
        let mut r = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        r.next += 1;
        let id = r.next;
        r.sockets.entry(thread.clone()).or_default().push((id, tx));
        Subscription { registry: self.registry.clone(), thread, id, events: rx }
    }

    /// Open visitor sockets on this hub.
    pub fn sockets(&self) -> usize {
        self.registry.lock().map(|r| r.sockets.values().map(Vec::len).sum()).unwrap_or(0)
    }

    /// Sends `event` to every socket of `thread`; one that is too slow to take it is
    /// dropped from the index (its socket then ends, and the widget reconnects).
    fn deliver(registry: &Mutex<Registry>, thread: &Thread, event: &VisitorEvent) {
        let mut r = registry.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(list) = r.sockets.get_mut(thread) {
            list.retain(|(_, tx)| tx.try_send(event.clone()).is_ok());
        }
    }

    fn deliver_all(registry: &Mutex<Registry>, event: &VisitorEvent) {
        let mut r = registry.lock().unwrap_or_else(PoisonError::into_inner);
        for list in r.sockets.values_mut() {
            list.retain(|(_, tx)| tx.try_send(event.clone()).is_ok());
        }
    }

    fn anyone_listening(registry: &Mutex<Registry>) -> bool {
        registry.lock().map(|r| !r.sockets.is_empty()).unwrap_or(false)
    }
}

/// A web-chat or in-app line from a stored change, or `None` for anything else.
fn visitor_line(kind: ChangeKind, payload: &str) -> Option<(i64, VisitorEvent)> {
    if kind != ChangeKind::Message {
        return None;
    }
    // Cheap test before parsing: most of the feed is other channels.
    if !(payload.contains("\"webchat\"") || payload.contains("\"in_app\"")) {
        return None;
    }
    let Ok(Change::Message(m)) = serde_json::from_str::<Change>(payload) else { return None };
    if !matches!(m.channel, ChannelKind::Webchat | ChannelKind::InApp)
        || !matches!(m.direction, Direction::Inbound | Direction::Outbound)
    {
        return None;
    }
    let event =
        VisitorEvent::Line { message_id: m.id, direction: m.direction, delivery: m.delivery, created_at: m.created_at };
    Some((m.conversation_id, event))
}

async fn route(
    store: Store,
    mut feed: tokio::sync::broadcast::Receiver<Arc<crate::fanout::Batch>>,
    registry: Arc<Mutex<Registry>>,
) {
    let mut threads: HashMap<i64, Option<Thread>> = HashMap::new();
    loop {
        let batch = match feed.recv().await {
            Ok(b) => b,
            Err(RecvError::Lagged(_)) => {
                VisitorFanout::deliver_all(&registry, &VisitorEvent::Resync);
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        if !VisitorFanout::anyone_listening(&registry) {
            continue;
        }
        for c in &batch.changes {
            let Some((conversation_id, event)) = visitor_line(c.kind, &c.payload) else { continue };
            let thread = match threads.get(&conversation_id) {
                Some(t) => t.clone(),
                None => {
                    let t = match store.conversation_address(conversation_id).await {
                        Ok(t) => t,
                        Err(e) => {
                            tracing::warn!("visitor fan-out cannot find a conversation's thread: {e}");
                            VisitorFanout::deliver_all(&registry, &VisitorEvent::Resync);
                            continue;
                        }
                    };
                    if threads.len() >= REMEMBERED {
                        threads.clear();
                    }
                    threads.insert(conversation_id, t.clone());
                    t
                }
            };
            if let Some(thread) = thread {
                VisitorFanout::deliver(&registry, &thread, &event);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_chat_and_in_app_lines_reach_visitors() {
        use switchboard_protocol::model::Message;
        let message = |channel: ChannelKind, direction: Direction| {
            serde_json::to_string(&Change::Message(Message {
                id: 9,
                conversation_id: 4,
                channel,
                direction,
                author_agent_id: None,
                body: "hi".into(),
                subject: None,
                attachments: vec![],
                provider_id: None,
                client_msg_id: None,
                delivery: None,
                delivery_error: None,
                choices: None,
                chosen: None,
                bot: None,
                created_at: 5,
                version: 1,
            }))
            .unwrap()
        };
        let line = |d| VisitorEvent::Line { message_id: 9, direction: d, delivery: None, created_at: 5 };
        for (kind, payload, want) in [
            (
                ChangeKind::Message,
                message(ChannelKind::Webchat, Direction::Inbound),
                Some((4, line(Direction::Inbound))),
            ),
            (
                ChangeKind::Message,
                message(ChannelKind::InApp, Direction::Outbound),
                Some((4, line(Direction::Outbound))),
            ),
            (ChangeKind::Message, message(ChannelKind::Webchat, Direction::Note), None),
            (ChangeKind::Message, message(ChannelKind::Sms, Direction::Inbound), None),
            (ChangeKind::Conversation, message(ChannelKind::Webchat, Direction::Inbound), None),
            (ChangeKind::Message, "not json \"webchat\"".to_owned(), None),
        ] {
            assert_eq!(visitor_line(kind, &payload), want, "{payload}");
        }
    }
}
