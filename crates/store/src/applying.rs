//! Applying a decided block in the background. A node makes the block itself durable first
//! ([`crate::Store::record_decided`]); the rest of its write (Merkle nodes and values, receipts,
//! indexes, the new latest height) then lands on its own thread while the node goes on to the
//! next height ([`crate::Store::apply_decided`]). Until it lands, point reads see its entries
//! through an [`Overlay`]; scans wait for it.

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use rocksdb::WriteBatch;

use crate::Store;

/// The entries of a write being applied, by column family: what point reads see until it lands.
/// `None` is a deletion.
#[derive(Default)]
pub(crate) struct Overlay {
    by_cf: HashMap<&'static str, BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
}

impl Overlay {
    /// `Some` if the write sets `key` in `cf` (`Some(None)`: it deletes it).
    pub(crate) fn get(&self, cf: &str, key: &[u8]) -> Option<Option<&[u8]>> {
        self.by_cf.get(cf)?.get(key).map(Option::as_deref)
    }

    /// The greatest key the write sets in `cf` within `range`, with its value.
    pub(crate) fn last_in(&self, cf: &str, range: RangeInclusive<&[u8]>) -> Option<(&[u8], Option<&[u8]>)> {
        let entries = self.by_cf.get(cf)?;
        let (start, end) = range.into_inner();
        entries
            .range::<[u8], _>((std::ops::Bound::Included(start), std::ops::Bound::Included(end)))
            .next_back()
            .map(|(k, v)| (k.as_slice(), v.as_deref()))
    }
}

/// A RocksDB write batch that can also keep its entries as an [`Overlay`].
pub(crate) struct Batch {
    pub(crate) inner: WriteBatch,
    overlay: Option<Overlay>,
}

impl Batch {
    /// A batch written in place (nothing kept).
    pub(crate) fn plain() -> Self {
        Self { inner: WriteBatch::default(), overlay: None }
    }

    /// A batch that keeps an overlay of what it writes, to be applied in the background.
    pub(crate) fn keeping() -> Self {
        Self { inner: WriteBatch::default(), overlay: Some(Overlay::default()) }
    }

    pub(crate) fn put(&mut self, store: &Store, cf: &'static str, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.inner.put_cf(store.cf(cf), key.as_ref(), value.as_ref());
        if let Some(overlay) = &mut self.overlay {
            overlay.by_cf.entry(cf).or_default().insert(key.as_ref().to_vec(), Some(value.as_ref().to_vec()));
        }
    }

    pub(crate) fn delete(&mut self, store: &Store, cf: &'static str, key: impl AsRef<[u8]>) {
        self.inner.delete_cf(store.cf(cf), key.as_ref());
        if let Some(overlay) = &mut self.overlay {
            overlay.by_cf.entry(cf).or_default().insert(key.as_ref().to_vec(), None);
        }
    }

    pub(crate) fn into_parts(self) -> (WriteBatch, Option<Overlay>) {
        (self.inner, self.overlay)
    }
}

/// The write in flight, if any, and the first failure of one (sticky: a node whose write failed
/// must stop).
#[derive(Default)]
pub(crate) struct Applying {
    state: Mutex<InFlight>,
    landed: Condvar,
    /// Tests hold writes back to read through the overlay.
    #[cfg(test)]
    pub(crate) held: Mutex<bool>,
    #[cfg(test)]
    pub(crate) released: Condvar,
}

#[derive(Default)]
struct InFlight {
    overlay: Option<Arc<Overlay>>,
    failed: Option<String>,
}

impl Applying {
    fn lock(&self) -> MutexGuard<'_, InFlight> {
        // Nothing panics while holding the lock; a poisoned one still holds consistent data.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The entries of the write in flight, if one is.
    pub(crate) fn overlay(&self) -> Option<Arc<Overlay>> {
        self.lock().overlay.clone()
    }

    /// A write starts: readers see `overlay` until [`Self::finish`].
    pub(crate) fn begin(&self, overlay: Arc<Overlay>) {
        self.lock().overlay = Some(overlay);
    }

    /// Where a write waits while a test holds it back.
    pub(crate) fn hold_point(&self) {
        #[cfg(test)]
        {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            while *held {
                held = self.released.wait(held).unwrap_or_else(|p| p.into_inner());
            }
        }
    }

    /// The write landed (or failed): readers go to the store again, waiters wake.
    pub(crate) fn finish(&self, result: Result<(), String>) {
        let mut state = self.lock();
        state.overlay = None;
        if let Err(reason) = result {
            state.failed.get_or_insert(reason);
        }
        self.landed.notify_all();
    }

    /// Wait until no write is in flight; the failure of any write so far.
    pub(crate) fn wait(&self) -> Result<(), String> {
        let mut state = self.lock();
        while state.overlay.is_some() {
            state = self.landed.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        match &state.failed {
            Some(reason) => Err(reason.clone()),
            None => Ok(()),
        }
    }
}
