//! What the console's parts tell the front end and each other: the events the desktop
//! shows, the connection state, and the wake-ups of the sync and outbox tasks. The sync
//! engine, the outbox's sender and the console's API share one [`Bus`].

use crate::cache::apply::Applied;
use crate::notify;
use switchboard_protocol::console::{Connection, ConsoleEvent, OutboxItem, SyncProgress};
use switchboard_protocol::Id;
use tokio::sync::{broadcast, watch, Notify};

#[derive(Debug)]
pub struct Bus {
    pub events: broadcast::Sender<ConsoleEvent>,
    connection: watch::Sender<Connection>,
    /// Something was queued, retried, or the hub came back: send the outbox now.
    pub outbox_wake: Notify,
    /// Skip the current reconnect pause.
    pub reconnect: Notify,
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new()
    }
}

impl Bus {
    pub fn new() -> Bus {
        let (events, _) = broadcast::channel(1024);
        let (connection, _) = watch::channel(Connection::Connecting { attempt: 0 });
        Bus { events, connection, outbox_wake: Notify::new(), reconnect: Notify::new() }
    }

    pub fn connection(&self) -> Connection {
        self.connection.borrow().clone()
    }

    pub fn watch_connection(&self) -> watch::Receiver<Connection> {
        self.connection.subscribe()
    }

    /// Records the connection's state, telling the front end when it changed.
    pub fn set_connection(&self, c: Connection) {
        let changed = *self.connection.borrow() != c;
        if changed {
            self.connection.send_replace(c.clone());
            let _ = self.events.send(ConsoleEvent::Connection { connection: c });
        }
    }

    /// Tells the front end what a write changed, and raises its notifications.
    pub fn emit_applied(&self, applied: &Applied, everything: bool) {
        if everything
            || !applied.conversations.is_empty()
            || !applied.read.is_empty()
            || !applied.contacts.is_empty()
            || applied.directory
            || applied.canned
            || applied.articles
        {
            self.changed(applied, everything);
        }
        for notification in notify::notifications(&applied.announced) {
            let (notification, sound) = notify::shown(notification, &applied.shown_with);
            let _ = self.events.send(ConsoleEvent::Notify { notification, sound });
        }
    }

    /// Sends the `changed` event naming what `applied` changed.
    fn changed(&self, applied: &Applied, everything: bool) {
        let _ = self.events.send(ConsoleEvent::Changed {
            conversations: applied.conversations.iter().copied().collect(),
            // A conversation changed in full is not named as only read as well.
            read: applied.read.difference(&applied.conversations).copied().collect(),
            contacts: applied.contacts.iter().copied().collect(),
            directory: applied.directory,
            canned: applied.canned,
            articles: applied.articles,
            everything,
        });
    }

    /// Tells the front end that the canned responses changed (the agent's own edit).
    pub fn canned_touched(&self) {
        self.changed(&Applied { canned: true, ..Applied::default() }, false);
    }

    /// Tells the front end that the knowledge base changed (a lead's own edit).
    pub fn articles_touched(&self) {
        self.changed(&Applied { articles: true, ..Applied::default() }, false);
    }

    /// Tells the front end that these conversations' views changed (the agent's own work);
    /// with none named, that something the agent queued did (the queued count, say).
    pub fn touched(&self, conversations: impl IntoIterator<Item = Id>) {
        self.changed(&Applied { conversations: conversations.into_iter().collect(), ..Applied::default() }, false);
    }

    /// Tells the front end that the agent read this conversation here: its row and the
    /// unread counts change, its thread does not.
    pub fn read(&self, conversation: Id) {
        self.changed(&Applied { read: [conversation].into(), ..Applied::default() }, false);
    }

    /// Tells the front end that an outbox item is stuck or in conflict.
    pub fn outbox_item(&self, item: OutboxItem) {
        let _ = self.events.send(ConsoleEvent::Outbox { item });
    }

    /// A bootstrap's progress.
    pub fn progress(&self, done: u64, total: u64, finished: bool) {
        let _ = self.events.send(ConsoleEvent::Progress { progress: SyncProgress { done, total, finished } });
    }
}
