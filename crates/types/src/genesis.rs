//! The genesis document: the chain id, the first members with their roles, regions and keys,
//! and the first validator set. Its hash is the parent hash of block 1.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::crypto::PublicKey;
use crate::id::{BlockHash, ChainId, MemberId, RegionCode, TimestampMs, Uscc};
use crate::limits::{GENESIS_BYTES_MAX, MEMBER_KEYS_MAX};

/// A member's role on the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 公共资源交易中心: may run a validator; attests, recognises, anchors, evaluates.
    TradingCentre,
    /// Bank, insurer or guarantee company issuing e-guarantees.
    GuaranteeProvider,
    /// 行政监督部门 / credit authority.
    Supervisor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::TradingCentre => "trading_centre",
            Role::GuaranteeProvider => "guarantee_provider",
            Role::Supervisor => "supervisor",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GenesisMember {
    pub name: String,
    pub role: Role,
    pub region: RegionCode,
    pub uscc: Uscc,
    /// Transaction-signing keys; the first one fixes the member id.
    pub keys: Vec<PublicKey>,
}

impl GenesisMember {
    pub fn id(&self) -> Option<MemberId> {
        self.keys.first().map(MemberId::from_key)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GenesisValidator {
    /// Name of the trading-centre member that runs this validator.
    pub member: String,
    /// Consensus key (also the node's libp2p identity).
    pub public_key: PublicKey,
    pub power: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Genesis {
    pub chain_id: ChainId,
    pub genesis_time: TimestampMs,
    pub members: Vec<GenesisMember>,
    pub validators: Vec<GenesisValidator>,
}

/// Why a genesis document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    #[error("genesis file is {got} bytes; at most {max} are accepted")]
    TooLarge { got: usize, max: usize },
    #[error("genesis JSON is invalid: {0}")]
    Json(String),
    #[error("genesis is invalid: {0}")]
    Invalid(String),
}

impl Genesis {
    pub fn from_json(text: &str) -> Result<Self, GenesisError> {
        if text.len() > GENESIS_BYTES_MAX {
            return Err(GenesisError::TooLarge { got: text.len(), max: GENESIS_BYTES_MAX });
        }
        let genesis: Genesis = serde_json::from_str(text).map_err(|e| GenesisError::Json(e.to_string()))?;
        genesis.validate()?;
        Ok(genesis)
    }

    /// The hash that block 1 names as its parent.
    pub fn hash(&self) -> BlockHash {
        BlockHash(codec::hash_tagged(b"huxin/v1/genesis", &codec::encode(self)).0)
    }

    pub fn validate(&self) -> Result<(), GenesisError> {
        let invalid = |m: String| Err(GenesisError::Invalid(m));
        let mut names = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for member in &self.members {
            if !names.insert(member.name.as_str()) {
                return invalid(format!("member name {:?} appears twice", member.name));
            }
            if member.keys.is_empty() || member.keys.len() > MEMBER_KEYS_MAX {
                return invalid(format!(
                    "member {:?} has {} keys; 1..={MEMBER_KEYS_MAX} expected",
                    member.name,
                    member.keys.len()
                ));
            }
            for key in &member.keys {
                if !keys.insert(*key) {
                    return invalid(format!("key {key} is listed twice"));
                }
            }
        }
        if self.validators.is_empty() {
            return invalid("at least one validator is required".into());
        }
        let mut validator_keys = BTreeSet::new();
        for v in &self.validators {
            let Some(member) = self.members.iter().find(|m| m.name == v.member) else {
                return invalid(format!("validator names unknown member {:?}", v.member));
            };
            if member.role != Role::TradingCentre {
                return invalid(format!(
                    "validator member {:?} is a {}; only trading centres run validators",
                    v.member,
                    member.role.as_str()
                ));
            }
            if v.power == 0 {
                return invalid(format!("validator {} has zero power", v.public_key));
            }
            if !validator_keys.insert(v.public_key) {
                return invalid(format!("validator key {} is listed twice", v.public_key));
            }
        }
        Ok(())
    }
}
