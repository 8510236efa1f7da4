//! The expert pool (专家库): for each specialty, the set of experts enrolled for it.
//!
//! A specialty's pool is a [`paged`] list of its experts in the order they joined, with each
//! member's ordinal under a key of its own so that it can leave. So one enrolment writes the
//! list's head (and the page it fills) and a place, however large the pool: the ledger keeps
//! every version of a value, and protocol version 2 rewrote the pool's whole sorted list at each
//! change (the 4 096th expert of a specialty wrote 128 KB, the specialty's list ≈ 256 MB over its
//! history). Readers get the pool sorted, as before. A pool stored by protocol 2 (one sorted
//! list) reads as it did and moves to the paged list at its next change.

use huxin_types::{codec, Hash32};

use crate::paged::{self, Head};
use crate::{read, KvState, StateError};

const WHAT: &str = "expert pool";

/// A specialty's pool as a transaction changes it.
pub(super) struct Pool {
    id: String,
    head: Head<Hash32>,
}

fn specialty_id(specialty: &str) -> String {
    codec::sha256(specialty.as_bytes()).to_string()
}

/// The sorted list protocol version 2 kept for a specialty.
fn legacy_key(id: &str) -> Vec<u8> {
    format!("expert_pool/{id}").into_bytes()
}
fn list_key(id: &str) -> Vec<u8> {
    format!("expert_pool_list/{id}").into_bytes()
}
fn place_key(id: &str, expert: &Hash32) -> Vec<u8> {
    format!("expert_pool_place/{id}/{expert}").into_bytes()
}

/// The experts enrolled for `specialty`, sorted.
pub fn pool(state: &dyn KvState, specialty: &str) -> Result<Vec<Hash32>, StateError> {
    let id = specialty_id(specialty);
    let mut experts = match paged::head(state, &list_key(&id), WHAT)? {
        Some(head) => paged::entries(state, &list_key(&id), head, WHAT)?,
        None => read(state, &legacy_key(&id), "expert pool (protocol 2)")?.unwrap_or_default(),
    };
    experts.sort();
    Ok(experts)
}

impl Pool {
    /// The pool of `specialty`, moved to a paged list first if protocol version 2 stored it.
    pub(super) fn to_change(state: &mut dyn KvState, specialty: &str) -> Result<Pool, StateError> {
        let id = specialty_id(specialty);
        if let Some(head) = paged::head(state, &list_key(&id), WHAT)? {
            return Ok(Pool { id, head });
        }
        let old: Vec<Hash32> = read(state, &legacy_key(&id), "expert pool (protocol 2)")?.unwrap_or_default();
        if old.is_empty() {
            return Ok(Pool { id, head: Head::default() });
        }
        for (ordinal, expert) in old.iter().enumerate() {
            state.put(place_key(&id, expert), codec::encode(&u32::try_from(ordinal).unwrap_or(u32::MAX)));
        }
        state.delete(legacy_key(&id));
        let head = paged::from_whole(state, &list_key(&id), old);
        Ok(Pool { id, head })
    }

    pub(super) fn size(&self) -> usize {
        self.head.len as usize
    }

    pub(super) fn contains(&self, state: &dyn KvState, expert: &Hash32) -> Result<bool, StateError> {
        Ok(state.get(&place_key(&self.id, expert))?.is_some())
    }

    /// Add `expert` (the caller checked it is not a member and the pool has room).
    pub(super) fn push(&mut self, state: &mut dyn KvState, expert: Hash32) {
        let ordinal = paged::push(state, &list_key(&self.id), &mut self.head, expert);
        state.put(place_key(&self.id, &expert), codec::encode(&ordinal));
    }

    /// Take `expert` out, if a member.
    pub(super) fn remove(&mut self, state: &mut dyn KvState, expert: &Hash32) -> Result<(), StateError> {
        let Some(ordinal) = read::<u32>(state, &place_key(&self.id, expert), "expert pool place")? else {
            return Ok(());
        };
        if !paged::remove(state, &list_key(&self.id), &mut self.head, ordinal, |e| e == expert, WHAT)? {
            return Err(StateError::Corrupt {
                what: WHAT,
                detail: format!("{expert} has place {ordinal} in the pool of {}, which does not hold it", self.id),
            });
        }
        state.delete(place_key(&self.id, expert));
        Ok(())
    }
}
