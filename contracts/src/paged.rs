//! A list kept in pages, so that adding to it writes about as much however long it is.
//!
//! The ledger keeps every version of a value, so a list stored as one value and rewritten at
//! each addition stores ≈ n²/2 entries over its history, and its n-th addition encodes and
//! hashes n of them. A paged list keeps its newest entries in its head, at most
//! [`PAGE_ENTRIES`]; when the head has taken that many, they are written once as a page of their
//! own. Entries are numbered in the order added (their ordinal, never reused); one can be taken
//! out by its ordinal, from its page or the head, and the others keep their order.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use huxin_types::codec;

use crate::{read, KvState, StateError};

/// Most entries a page (and the head) holds.
pub const PAGE_ENTRIES: usize = 16;

/// A list's head, stored at the list's key: how many entries were ever added and how many are
/// left, and the newest ones (those added since the last full page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head<T> {
    pub added: u32,
    pub len: u32,
    pub tail: Vec<T>,
}

impl<T> Default for Head<T> {
    fn default() -> Self {
        Head { added: 0, len: 0, tail: Vec::new() }
    }
}

const PAGE: u32 = PAGE_ENTRIES as u32;

fn page_key(key: &[u8], page: u32) -> Vec<u8> {
    let mut k = key.to_vec();
    k.extend_from_slice(format!("/page/{page}").as_bytes());
    k
}

/// The pages written so far: every one before the page the head is filling.
fn full_pages<T>(head: &Head<T>) -> u32 {
    head.added / PAGE
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub fn head<T: DeserializeOwned>(
    state: &dyn KvState,
    key: &[u8],
    what: &'static str,
) -> Result<Option<Head<T>>, StateError> {
    read(state, key, what)
}

/// Every entry, in the order added.
pub fn entries<T: DeserializeOwned>(
    state: &dyn KvState,
    key: &[u8],
    head: Head<T>,
    what: &'static str,
) -> Result<Vec<T>, StateError> {
    let mut all = Vec::new();
    for page in 0..full_pages(&head) {
        // A page whose entries were all taken out is deleted.
        all.extend(read::<Vec<T>>(state, &page_key(key, page), what)?.unwrap_or_default());
    }
    all.extend(head.tail);
    if all.len() != head.len as usize {
        return Err(StateError::Corrupt {
            what,
            detail: format!("the list counts {} entries and its pages and head hold {}", head.len, all.len()),
        });
    }
    Ok(all)
}

/// Write a list stored before pages (one value holding every entry) as a head and pages, its
/// entries numbered in their order; returns the head.
pub fn from_whole<T: Serialize>(state: &mut dyn KvState, key: &[u8], mut whole: Vec<T>) -> Head<T> {
    let full = whole.len() / PAGE_ENTRIES * PAGE_ENTRIES;
    let tail = whole.split_off(full);
    for (page, entries) in whole.chunks(PAGE_ENTRIES).enumerate() {
        state.put(page_key(key, len_u32(page)), codec::encode(&entries));
    }
    let n = len_u32(full + tail.len());
    let head = Head { added: n, len: n, tail };
    state.put(key.to_vec(), codec::encode(&head));
    head
}

/// Add `entry` at the end and write the head (and the page it fills); returns its ordinal.
pub fn push<T: Serialize>(state: &mut dyn KvState, key: &[u8], head: &mut Head<T>, entry: T) -> u32 {
    let ordinal = head.added;
    head.tail.push(entry);
    head.added = head.added.saturating_add(1);
    head.len = head.len.saturating_add(1);
    if head.added.is_multiple_of(PAGE) {
        let page = std::mem::take(&mut head.tail);
        put_page(state, key, full_pages(head) - 1, &page);
    }
    state.put(key.to_vec(), codec::encode(&*head));
    ordinal
}

/// Take out the entry of `ordinal`, the first that `is_it` recognises in its page or the head,
/// and write what changed. `Ok(false)` if it is not there (taken out already).
pub fn remove<T: Serialize + DeserializeOwned>(
    state: &mut dyn KvState,
    key: &[u8],
    head: &mut Head<T>,
    ordinal: u32,
    is_it: impl Fn(&T) -> bool,
    what: &'static str,
) -> Result<bool, StateError> {
    let page = ordinal / PAGE;
    let found = if page < full_pages(head) {
        let mut entries: Vec<T> = read(state, &page_key(key, page), what)?.unwrap_or_default();
        let found = take_first(&mut entries, is_it);
        if found {
            put_page(state, key, page, &entries);
        }
        found
    } else {
        take_first(&mut head.tail, is_it)
    };
    if found {
        head.len = head.len.saturating_sub(1);
        state.put(key.to_vec(), codec::encode(&*head));
    }
    Ok(found)
}

fn take_first<T>(entries: &mut Vec<T>, is_it: impl Fn(&T) -> bool) -> bool {
    match entries.iter().position(is_it) {
        Some(at) => {
            entries.remove(at);
            true
        }
        None => false,
    }
}

fn put_page<T: Serialize>(state: &mut dyn KvState, key: &[u8], page: u32, entries: &[T]) {
    if entries.is_empty() {
        state.delete(page_key(key, page));
    } else {
        state.put(page_key(key, page), codec::encode(&entries));
    }
}
