//! The expert pool (专家库): for each specialty, the set of experts enrolled for it.
//!
//! A specialty's pool is stored in pages of at most [`POOL_PAGE_EXPERTS`] experts, in the order
//! they joined, with each member's place under a key of its own and the count beside them. A
//! member joins at the end of the last page; a member who leaves is replaced in its place by the
//! last one. So one enrolment writes a page, a place and the count, however large the pool: the
//! ledger keeps every version of a value, and protocol version 2 rewrote the pool's whole sorted
//! list at each change (the 4 096th expert of a specialty wrote 128 KB, the specialty's list ≈ 256
//! MB over its history). Readers get the pool sorted, as before. A pool stored by protocol 2 (one
//! sorted list) reads as it did and moves to the pages at its next change.

use huxin_types::{codec, Hash32};

use crate::{read, KvState, StateError};

/// Most experts a page of a specialty's pool holds (a page of 16 is 514 bytes).
pub const POOL_PAGE_EXPERTS: usize = 16;

/// A specialty's pool as a transaction changes it: its key part and how many it holds.
pub(super) struct Pool {
    id: String,
    size: u32,
}

fn specialty_id(specialty: &str) -> String {
    codec::sha256(specialty.as_bytes()).to_string()
}

/// The sorted list protocol version 2 kept for a specialty.
fn legacy_key(id: &str) -> Vec<u8> {
    format!("expert_pool/{id}").into_bytes()
}
fn size_key(id: &str) -> Vec<u8> {
    format!("expert_pool_size/{id}").into_bytes()
}
fn page_key(id: &str, page: u32) -> Vec<u8> {
    format!("expert_pool_page/{id}/{page}").into_bytes()
}
fn place_key(id: &str, expert: &Hash32) -> Vec<u8> {
    format!("expert_pool_place/{id}/{expert}").into_bytes()
}

fn page_of(place: u32) -> (u32, usize) {
    const PAGE: u32 = POOL_PAGE_EXPERTS as u32;
    (place / PAGE, (place % PAGE) as usize)
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn read_page(state: &dyn KvState, id: &str, page: u32) -> Result<Vec<Hash32>, StateError> {
    read(state, &page_key(id, page), "expert pool page")?.ok_or_else(|| StateError::Corrupt {
        what: "expert pool page",
        detail: format!("the pool of specialty {id} counts page {page}, which is not stored"),
    })
}

/// The experts enrolled for `specialty`, sorted.
pub fn pool(state: &dyn KvState, specialty: &str) -> Result<Vec<Hash32>, StateError> {
    let id = specialty_id(specialty);
    let Some(size) = read::<u32>(state, &size_key(&id), "expert pool size")? else {
        return Ok(read(state, &legacy_key(&id), "expert pool (protocol 2)")?.unwrap_or_default());
    };
    let mut experts = Vec::with_capacity(size as usize);
    for page in 0..size.div_ceil(POOL_PAGE_EXPERTS as u32) {
        experts.extend(read_page(state, &id, page)?);
    }
    if experts.len() != size as usize {
        return Err(StateError::Corrupt {
            what: "expert pool",
            detail: format!("the pool of specialty {id} counts {size} experts and its pages hold {}", experts.len()),
        });
    }
    experts.sort();
    Ok(experts)
}

impl Pool {
    /// The pool of `specialty`, moved to pages first if protocol version 2 stored it.
    pub(super) fn to_change(state: &mut dyn KvState, specialty: &str) -> Result<Pool, StateError> {
        let id = specialty_id(specialty);
        if let Some(size) = read(state, &size_key(&id), "expert pool size")? {
            return Ok(Pool { id, size });
        }
        let old: Vec<Hash32> = read(state, &legacy_key(&id), "expert pool (protocol 2)")?.unwrap_or_default();
        let mut pool = Pool { id, size: 0 };
        if !old.is_empty() {
            for (page, experts) in old.chunks(POOL_PAGE_EXPERTS).enumerate() {
                state.put(page_key(&pool.id, len_u32(page)), codec::encode(&experts));
            }
            for (place, expert) in old.iter().enumerate() {
                state.put(place_key(&pool.id, expert), codec::encode(&len_u32(place)));
            }
            pool.size = len_u32(old.len());
            state.delete(legacy_key(&pool.id));
            pool.put_size(state);
        }
        Ok(pool)
    }

    pub(super) fn size(&self) -> usize {
        self.size as usize
    }

    fn place(&self, state: &dyn KvState, expert: &Hash32) -> Result<Option<u32>, StateError> {
        read(state, &place_key(&self.id, expert), "expert pool place")
    }

    pub(super) fn contains(&self, state: &dyn KvState, expert: &Hash32) -> Result<bool, StateError> {
        Ok(self.place(state, expert)?.is_some())
    }

    fn put_size(&self, state: &mut dyn KvState) {
        state.put(size_key(&self.id), codec::encode(&self.size));
    }

    /// Add `expert` at the end (the caller checked it is not a member and the pool has room).
    pub(super) fn push(&mut self, state: &mut dyn KvState, expert: Hash32) -> Result<(), StateError> {
        let (page, slot) = page_of(self.size);
        let mut experts = if slot == 0 {
            Vec::with_capacity(1)
        } else {
            read_page(state, &self.id, page)?
        };
        experts.push(expert);
        state.put(page_key(&self.id, page), codec::encode(&experts));
        state.put(place_key(&self.id, &expert), codec::encode(&self.size));
        self.size += 1;
        self.put_size(state);
        Ok(())
    }

    /// Take `expert` out, if a member: the last member moves into its place.
    pub(super) fn remove(&mut self, state: &mut dyn KvState, expert: &Hash32) -> Result<(), StateError> {
        let Some(place) = self.place(state, expert)? else { return Ok(()) };
        let corrupt = |detail: String| StateError::Corrupt { what: "expert pool", detail };
        let last =
            self.size.checked_sub(1).filter(|last| place <= *last).ok_or_else(|| {
                corrupt(format!("{expert} has place {place} in a pool of {} ({})", self.size, self.id))
            })?;
        let (last_page, _) = page_of(last);
        let mut tail = read_page(state, &self.id, last_page)?;
        let moved = tail.pop().ok_or_else(|| corrupt(format!("page {last_page} of {} is empty", self.id)))?;
        if place != last {
            let (page, slot) = page_of(place);
            let mut other = if page == last_page { None } else { Some(read_page(state, &self.id, page)?) };
            let experts = other.as_mut().unwrap_or(&mut tail);
            let freed = experts
                .get_mut(slot)
                .filter(|at| **at == *expert)
                .ok_or_else(|| corrupt(format!("{expert}'s place {place} in {} holds another", self.id)))?;
            *freed = moved;
            if let Some(experts) = other {
                state.put(page_key(&self.id, page), codec::encode(&experts));
            }
            state.put(place_key(&self.id, &moved), codec::encode(&place));
        } else if moved != *expert {
            return Err(corrupt(format!("{expert}'s place {place} in {} holds another", self.id)));
        }
        if tail.is_empty() {
            state.delete(page_key(&self.id, last_page));
        } else {
            state.put(page_key(&self.id, last_page), codec::encode(&tail));
        }
        state.delete(place_key(&self.id, expert));
        self.size = last;
        self.put_size(state);
        Ok(())
    }
}
