//! A read view of the state at one version, with two write layers on top: the block's writes so
//! far and the current transaction's. A rejected transaction's layer is dropped whole.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use huxin_contracts::{KvState, StateError};

use crate::{key_hash, StateReader};

pub struct StateView<'a, R> {
    reader: &'a R,
    version: u64,
    block: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    tx: Option<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
    /// The first storage read error, if any: execution results are void once set, even if a
    /// caller dropped the error it was given.
    read_error: RefCell<Option<StateError>>,
    /// Committed keys read so far, when recording (to prove an answer).
    reads: Option<RefCell<BTreeSet<Vec<u8>>>>,
}

impl<'a, R: StateReader> StateView<'a, R> {
    /// A view of the state as of `version` (the parent block's height).
    pub fn new(reader: &'a R, version: u64) -> Self {
        Self { reader, version, block: BTreeMap::new(), tx: None, read_error: RefCell::new(None), reads: None }
    }

    /// A view that remembers every committed key it reads ([`Self::read_keys`]), so an answer
    /// computed from it can be proven.
    pub fn recording(reader: &'a R, version: u64) -> Self {
        Self { reads: Some(RefCell::new(BTreeSet::new())), ..Self::new(reader, version) }
    }

    /// The committed keys read so far, in key order (empty unless recording).
    pub fn read_keys(&self) -> Vec<Vec<u8>> {
        self.reads.as_ref().map(|r| r.borrow().iter().cloned().collect()).unwrap_or_default()
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn begin_tx(&mut self) {
        self.tx = Some(BTreeMap::new());
    }

    /// The first storage read error met so far. Every read returns its error too; this keeps it
    /// for callers that drop one (a reader that maps it away cannot make a void answer valid).
    pub fn read_error(&self) -> Option<StateError> {
        self.read_error.borrow().clone()
    }

    pub fn commit_tx(&mut self) {
        if let Some(tx) = self.tx.take() {
            self.block.extend(tx);
        }
    }

    pub fn discard_tx(&mut self) {
        self.tx = None;
    }

    /// The block's final writes, or the storage read error that voids them.
    pub fn into_writes(self) -> Result<BTreeMap<Vec<u8>, Option<Vec<u8>>>, crate::InvalidBlock> {
        match self.read_error.into_inner() {
            Some(e) => Err(crate::InvalidBlock::State(e.to_string())),
            None => Ok(self.block),
        }
    }

    fn read_committed(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(reads) = &self.reads {
            reads.borrow_mut().insert(key.to_vec());
        }
        self.reader.get_value_option(self.version, key_hash(self.reader.suite(), key)).map_err(|e| {
            let error = StateError::Read(e.to_string());
            self.read_error.borrow_mut().get_or_insert(error.clone());
            error
        })
    }
}

impl<R: StateReader> KvState for StateView<'_, R> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(value) = self.tx.as_ref().and_then(|tx| tx.get(key)) {
            return Ok(value.clone());
        }
        if let Some(value) = self.block.get(key) {
            return Ok(value.clone());
        }
        self.read_committed(key)
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        match self.tx.as_mut() {
            Some(tx) => tx.insert(key, Some(value)),
            None => self.block.insert(key, Some(value)),
        };
    }

    fn delete(&mut self, key: Vec<u8>) {
        match self.tx.as_mut() {
            Some(tx) => tx.insert(key, None),
            None => self.block.insert(key, None),
        };
    }
}
