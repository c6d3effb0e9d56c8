//! Keeping the app small while it idles: once the core has been quiet for a few seconds
//! (after a sync, a burst of changes or a search), SQLite's page caches and the memory the
//! allocator keeps free go back to the system. A console sits open all day; what a first
//! sync of 50,000 conversations needed should not stay with it.

use std::time::Duration;
use switchboard_core::Console;
use tokio::time::Instant;

/// How long the core must be quiet before memory is handed back.
pub const QUIET: Duration = Duration::from_secs(5);
/// The longest memory waits when the core is never quiet for that long (a busy team).
pub const AT_MOST: Duration = Duration::from_secs(60);

/// When to hand memory back, given that the core was last heard from at `last_event` and
/// has been busy without a release since `busy_since`.
pub fn release_at(last_event: Instant, busy_since: Instant) -> Instant {
    (last_event + QUIET).min(busy_since + AT_MOST)
}

/// Hands back the cache's page memory and the allocator's free memory (blocking: run it off
/// the async workers).
pub fn release(console: &Console) {
    if let Err(e) = console.cache().release_memory() {
        tracing::debug!("the cache kept its memory: {e}");
    }
    trim_allocator();
}

/// glibc keeps freed memory in its arenas; `malloc_trim` returns what is free at their tops
/// and in whole free pages. Other platforms' allocators return memory on their own.
#[allow(unsafe_code)]
fn trim_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it walks glibc's own free lists under the
    // allocator's locks and may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_goes_back_after_a_quiet_spell_or_a_minute_of_activity() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        // (last event, busy since, expected release), in seconds after t0.
        for (last, since, expected) in [(0, 0, 5), (3, 0, 8), (54, 0, 59), (57, 0, 60), (100, 0, 60), (70, 65, 75)] {
            assert_eq!(release_at(t0 + s(last), t0 + s(since)), t0 + s(expected), "last {last}, since {since}");
        }
    }
}
