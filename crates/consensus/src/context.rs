//! Huxin's Malachite `Context`: heights, validator addresses, the consensus value (a block hash),
//! proposals, proposal parts, votes, validators, and the ed25519 signing scheme.
//!
//! Every signature here is domain-separated and bound to the chain id: the signed bytes are
//! `tag ‖ 0 ‖ chain_id ‖ borsh(message fields)`.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use malachitebft_core_types::{
    self as core, NilOrVal, Round, SignedExtension, SignedMessage, SigningProvider, SigningScheme, VoteType,
    VotingPower,
};

use huxin_types::crypto::{Domain, PublicKey as HuxinPublicKey, SecretKey, Signature as HuxinSignature};
use huxin_types::ChainId;

/// A consensus height (block height). Block 1 is the first decided height.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl core::Height for Height {
    const ZERO: Self = Height(0);
    const INITIAL: Self = Height(1);
    fn increment_by(&self, n: u64) -> Self {
        Height(self.0.saturating_add(n))
    }
    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }
    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator's address: the first 20 bytes of SHA-256("huxin/v1/validator" ‖ consensus key).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Address(pub [u8; 20]);

impl Address {
    pub fn from_public_key(key: &PublicKey) -> Self {
        Address(huxin_types::block::validator_address(&key.to_huxin()))
    }
}
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}
impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}
impl core::Address for Address {}

/// The id of a consensus value: the block hash.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct ValueId(pub [u8; 32]);
impl fmt::Display for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0[..8]))
    }
}
impl fmt::Debug for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ValueId({})", hex::encode(self.0))
    }
}

/// The value consensus decides on: the hash of a block whose bytes travel in proposal parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct BlockValue(pub ValueId);

impl core::Value for BlockValue {
    type Id = ValueId;
    fn id(&self) -> ValueId {
        self.0
    }
}

/// An ed25519 consensus public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    pub fn to_huxin(self) -> HuxinPublicKey {
        HuxinPublicKey(self.0)
    }
}

/// An ed25519 signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; 64]);

/// The signing scheme: ed25519 via ed25519-dalek (through `huxin_types::crypto`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ed25519;

#[derive(Debug)]
pub struct SignatureLength(usize);
impl fmt::Display for SignatureLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an ed25519 signature is 64 bytes, got {}", self.0)
    }
}

impl SigningScheme for Ed25519 {
    type DecodingError = SignatureLength;
    type Signature = Signature;
    type PublicKey = PublicKey;
    type PrivateKey = SecretKey;

    fn decode_signature(bytes: &[u8]) -> Result<Signature, SignatureLength> {
        <[u8; 64]>::try_from(bytes).map(Signature).map_err(|_| SignatureLength(bytes.len()))
    }
    fn encode_signature(signature: &Signature) -> Vec<u8> {
        signature.0.to_vec()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub struct Proposal {
    pub height: Height,
    pub round: Round,
    pub value: BlockValue,
    pub pol_round: Round,
    pub validator: Address,
}

impl core::Proposal<HuxinContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &BlockValue {
        &self.value
    }
    fn take_value(self) -> BlockValue {
        self.value
    }
    fn pol_round(&self) -> Round {
        self.pol_round
    }
    fn validator_address(&self) -> &Address {
        &self.validator
    }
}

/// A piece of a streamed proposal: `Init`, then the block bytes in `Data` chunks, then `Fin`
/// with the proposer's signature over all of it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ProposalPart {
    Init { height: Height, round: Round, pol_round: Round, proposer: Address },
    Data(Vec<u8>),
    Fin { signature: Signature },
}

impl core::ProposalPart<HuxinContext> for ProposalPart {
    fn is_first(&self) -> bool {
        matches!(self, ProposalPart::Init { .. })
    }
    fn is_last(&self) -> bool {
        matches!(self, ProposalPart::Fin { .. })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub struct Vote {
    pub vote_type: VoteType,
    pub height: Height,
    pub round: Round,
    pub value: NilOrVal<ValueId>,
    pub validator: Address,
    pub extension: Option<SignedExtension<HuxinContext>>,
}

impl core::Vote<HuxinContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &NilOrVal<ValueId> {
        &self.value
    }
    fn take_value(self) -> NilOrVal<ValueId> {
        self.value
    }
    fn vote_type(&self) -> VoteType {
        self.vote_type
    }
    fn validator_address(&self) -> &Address {
        &self.validator
    }
    fn extension(&self) -> Option<&SignedExtension<HuxinContext>> {
        self.extension.as_ref()
    }
    fn take_extension(&mut self) -> Option<SignedExtension<HuxinContext>> {
        self.extension.take()
    }
    fn extend(self, extension: SignedExtension<HuxinContext>) -> Self {
        Self { extension: Some(extension), ..self }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Validator {
    pub address: Address,
    pub public_key: PublicKey,
    pub voting_power: VotingPower,
}

impl Validator {
    pub fn new(public_key: PublicKey, voting_power: VotingPower) -> Self {
        Self { address: Address::from_public_key(&public_key), public_key, voting_power }
    }
}

impl core::Validator<HuxinContext> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }
    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }
    fn voting_power(&self) -> VotingPower {
        self.voting_power
    }
}

/// Validators sorted by address; proposers rotate round-robin by height and round.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ValidatorSet {
    pub validators: Vec<Validator>,
}

impl ValidatorSet {
    pub fn new(mut validators: Vec<Validator>) -> Self {
        validators.sort_by_key(|v| v.address);
        validators.dedup_by_key(|v| v.address);
        Self { validators }
    }
}

impl core::ValidatorSet<HuxinContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }
    fn total_voting_power(&self) -> VotingPower {
        self.validators.iter().map(|v| v.voting_power).sum()
    }
    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.validators.iter().find(|v| &v.address == address)
    }
    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

#[derive(Clone, Debug)]
pub struct HuxinContext;

impl core::Context for HuxinContext {
    type Address = Address;
    type Height = Height;
    type ProposalPart = ProposalPart;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Value = BlockValue;
    type Vote = Vote;
    type Extension = Vec<u8>;
    type SigningScheme = Ed25519;

    fn select_proposer<'a>(&self, validator_set: &'a ValidatorSet, height: Height, round: Round) -> &'a Validator {
        assert!(!validator_set.validators.is_empty(), "a validator set is never empty");
        let round = round.as_i64().max(0) as u64;
        let index = (height.0.wrapping_add(round) % validator_set.validators.len() as u64) as usize;
        &validator_set.validators[index]
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: BlockValue,
        pol_round: Round,
        address: Address,
    ) -> Proposal {
        Proposal { height, round, value, pol_round, validator: address }
    }

    fn new_prevote(&self, height: Height, round: Round, value_id: NilOrVal<ValueId>, address: Address) -> Vote {
        Vote { vote_type: VoteType::Prevote, height, round, value: value_id, validator: address, extension: None }
    }

    fn new_precommit(&self, height: Height, round: Round, value_id: NilOrVal<ValueId>, address: Address) -> Vote {
        Vote { vote_type: VoteType::Precommit, height, round, value: value_id, validator: address, extension: None }
    }
}

/// Signs and verifies consensus messages with the node's consensus key, bound to the chain id.
pub struct Signer {
    key: SecretKey,
    chain_id: ChainId,
}

impl Signer {
    pub fn new(key: SecretKey, chain_id: ChainId) -> Self {
        Self { key, chain_id }
    }

    fn message(&self, fields: &impl BorshSerialize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(128);
        bytes.push(self.chain_id.as_str().len() as u8);
        bytes.extend_from_slice(self.chain_id.as_str().as_bytes());
        // Borsh-encoding an in-memory value into a Vec cannot fail.
        fields.serialize(&mut bytes).expect("borsh into a Vec");
        bytes
    }

    fn sign(&self, domain: Domain, fields: &impl BorshSerialize) -> Signature {
        Signature(self.key.sign(domain, &self.message(fields)).0)
    }

    fn verify(&self, domain: Domain, fields: &impl BorshSerialize, signature: &Signature, key: &PublicKey) -> bool {
        key.to_huxin().verify(domain, &self.message(fields), &HuxinSignature(signature.0)).is_ok()
    }

    /// The signed fields of a vote (its extension is signed separately).
    fn vote_fields(vote: &Vote) -> impl BorshSerialize + '_ {
        (vote.vote_type, vote.height, vote.round, &vote.value, vote.validator)
    }

    /// Sign the digest of a streamed proposal (for the `Fin` part).
    pub fn sign_stream(&self, digest: &[u8; 32]) -> Signature {
        self.sign(Domain::ProposalPart, digest)
    }

    pub fn verify_stream(&self, digest: &[u8; 32], signature: &Signature, key: &PublicKey) -> bool {
        self.verify(Domain::ProposalPart, digest, signature, key)
    }
}

impl SigningProvider<HuxinContext> for Signer {
    fn sign_vote(&self, vote: Vote) -> SignedMessage<HuxinContext, Vote> {
        let signature = self.sign(Domain::Vote, &Self::vote_fields(&vote));
        SignedMessage::new(vote, signature)
    }
    fn verify_signed_vote(&self, vote: &Vote, signature: &Signature, public_key: &PublicKey) -> bool {
        self.verify(Domain::Vote, &Self::vote_fields(vote), signature, public_key)
    }
    fn sign_proposal(&self, proposal: Proposal) -> SignedMessage<HuxinContext, Proposal> {
        let signature = self.sign(Domain::Proposal, &proposal);
        SignedMessage::new(proposal, signature)
    }
    fn verify_signed_proposal(&self, proposal: &Proposal, signature: &Signature, public_key: &PublicKey) -> bool {
        self.verify(Domain::Proposal, proposal, signature, public_key)
    }
    fn sign_proposal_part(&self, part: ProposalPart) -> SignedMessage<HuxinContext, ProposalPart> {
        let signature = self.sign(Domain::ProposalPart, &part);
        SignedMessage::new(part, signature)
    }
    fn verify_signed_proposal_part(&self, part: &ProposalPart, signature: &Signature, public_key: &PublicKey) -> bool {
        self.verify(Domain::ProposalPart, part, signature, public_key)
    }
    fn sign_vote_extension(&self, extension: Vec<u8>) -> SignedMessage<HuxinContext, Vec<u8>> {
        let signature = self.sign(Domain::Vote, &extension);
        SignedMessage::new(extension, signature)
    }
    fn verify_signed_vote_extension(&self, extension: &Vec<u8>, signature: &Signature, public_key: &PublicKey) -> bool {
        self.verify(Domain::Vote, extension, signature, public_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huxin_state::proof::StoredCertificate;
    use huxin_types::BlockHash;

    fn precommit(height: u64, round: u32, block: [u8; 32], address: Address) -> Vote {
        Vote {
            vote_type: VoteType::Precommit,
            height: Height(height),
            round: Round::Some(round),
            value: NilOrVal::Val(ValueId(block)),
            validator: address,
            extension: None,
        }
    }

    /// Light clients check commit certificates with `huxin_types::block::precommit_message`;
    /// it must be byte for byte what validators sign.
    #[test]
    fn precommit_bytes_match_what_validators_sign() {
        let chain = ChainId::new("huxin-test").expect("chain id");
        let key = SecretKey::from_bytes([7u8; 32]);
        let public = PublicKey(key.public_key().0);
        let address = Address::from_public_key(&public);
        let signer = Signer::new(key, chain.clone());
        let vote = precommit(42, 3, [9u8; 32], address);
        let expected = huxin_types::block::precommit_message(
            &chain,
            huxin_types::Height(42),
            3,
            &BlockHash([9u8; 32]),
            &address.0,
        );
        assert_eq!(signer.message(&Signer::vote_fields(&vote)), expected);
        let signed = signer.sign_vote(vote);
        public.to_huxin().verify(Domain::Vote, &expected, &HuxinSignature(signed.signature.0)).expect("verifies");
    }

    /// The API reads stored certificates without Malachite, through a mirror of their borsh form.
    #[test]
    fn stored_certificates_decode_through_the_mirror() {
        let chain = ChainId::new("huxin-test").expect("chain id");
        let key = SecretKey::from_bytes([5u8; 32]);
        let address = Address::from_public_key(&PublicKey(key.public_key().0));
        let signer = Signer::new(key, chain);
        let vote = signer.sign_vote(precommit(7, 1, [3u8; 32], address));
        let certificate = core::CommitCertificate::<HuxinContext>::new(
            Height(7),
            Round::Some(1),
            ValueId([3u8; 32]),
            vec![vote.clone()],
        );
        let bytes = borsh::to_vec(&certificate).expect("encodes");
        let mirror = StoredCertificate::decode(&bytes).expect("decodes");
        assert_eq!(mirror.height, 7);
        assert_eq!(mirror.round, 1);
        assert_eq!(mirror.block_hash, [3u8; 32]);
        assert_eq!(mirror.signatures, vec![(address.0, vote.signature.0)]);
    }
}
