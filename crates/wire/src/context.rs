//! Huxin's Malachite `Context`: heights, validator addresses, the consensus value (a block hash),
//! proposals, proposal parts, votes, validators, and the ed25519 signing scheme.
//!
//! Every signature here is domain-separated and bound to the chain id: the signed bytes are
//! `tag ‖ 0 ‖ chain_id ‖ borsh(message fields)`.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use std::sync::Arc;

use async_trait::async_trait;
use malachitebft_core_types::{
    self as core, LinearTimeouts, NilOrVal, Round, SignedExtension, SignedMessage, SigningScheme, ValidatorProof,
    VoteExtensionScope, VoteType, VotingPower,
};
use malachitebft_signing::{Error as SigningError, Signer as SignerApi, VerificationResult, Verifier as VerifierApi};

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

/// A consensus public key, of the chain's suite: ed25519 or SM2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey(pub HuxinPublicKey);

impl PublicKey {
    pub fn to_huxin(self) -> HuxinPublicKey {
        self.0
    }

    pub fn from_huxin(key: &HuxinPublicKey) -> Self {
        PublicKey(*key)
    }
}

/// In borsh: the key's bytes, length-prefixed (32 for ed25519, 33 for SM2).
impl BorshSerialize for PublicKey {
    fn serialize<W: std::io::Write>(&self, writer: &mut W) -> std::io::Result<()> {
        BorshSerialize::serialize(&self.0.as_bytes().to_vec(), writer)
    }
}

impl BorshDeserialize for PublicKey {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        let bytes = Vec::<u8>::deserialize_reader(reader)?;
        HuxinPublicKey::from_slice(&bytes).map(PublicKey).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, SignatureLength(bytes.len()).to_string())
        })
    }
}

/// A signature, 64 bytes in either suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; 64]);

/// The signing scheme: the chain's suite, ed25519 (ed25519-dalek) or SM2 (RustCrypto `sm2`),
/// through `huxin_types::crypto`; a key's length says which.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scheme;

/// A signature or public key of the wrong length (a signature is 64 bytes, a key 32 or 33).
#[derive(Debug)]
pub struct SignatureLength(usize);
impl fmt::Display for SignatureLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a signature is 64 bytes and a public key 32 (ed25519) or 33 (SM2), got {}", self.0)
    }
}

impl SigningScheme for Scheme {
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
    fn decode_public_key(bytes: &[u8]) -> Result<PublicKey, SignatureLength> {
        HuxinPublicKey::from_slice(bytes).map(PublicKey).ok_or(SignatureLength(bytes.len()))
    }
    fn encode_public_key(public_key: &PublicKey) -> Vec<u8> {
        public_key.0.as_bytes().to_vec()
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
    type SigningScheme = Scheme;
    type Timeouts = LinearTimeouts;

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

/// The bytes under every consensus signature: `len(chain_id) ‖ chain_id ‖ borsh(fields)`, signed
/// with a domain tag (see [`Domain`]).
fn signed_message(chain_id: &ChainId, fields: &impl BorshSerialize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(128);
    bytes.push(chain_id.as_str().len() as u8);
    bytes.extend_from_slice(chain_id.as_str().as_bytes());
    // Borsh-encoding an in-memory value into a Vec cannot fail.
    fields.serialize(&mut bytes).expect("borsh into a Vec");
    bytes
}

fn verify_signed(
    chain_id: &ChainId,
    domain: Domain,
    fields: &impl BorshSerialize,
    signature: &Signature,
    key: &PublicKey,
) -> bool {
    key.to_huxin().verify(domain, &signed_message(chain_id, fields), &HuxinSignature(signature.0)).is_ok()
}

/// The signed fields of a vote (its extension is signed separately).
fn vote_fields(vote: &Vote) -> impl BorshSerialize + '_ {
    (vote.vote_type, vote.height, vote.round, &vote.value, vote.validator)
}

/// The signed fields of a vote extension: its scope, then the extension.
fn extension_fields<'a>(scope: &'a VoteExtensionScope<HuxinContext>, extension: &'a [u8]) -> impl BorshSerialize + 'a {
    (scope.height, scope.round, scope.value_id, scope.validator_address, extension)
}

/// Signs consensus messages with the node's consensus key, bound to the chain id.
pub struct Signer {
    key: SecretKey,
    chain_id: ChainId,
}

impl Signer {
    pub fn new(key: SecretKey, chain_id: ChainId) -> Self {
        Self { key, chain_id }
    }

    fn sign(&self, domain: Domain, fields: &impl BorshSerialize) -> Signature {
        Signature(self.key.sign(domain, &signed_message(&self.chain_id, fields)).0)
    }

    /// Sign the digest of a streamed proposal (for the `Fin` part).
    pub fn sign_stream(&self, digest: &[u8; 32]) -> Signature {
        self.sign(Domain::ProposalPart, digest)
    }

    pub fn verify_stream(&self, digest: &[u8; 32], signature: &Signature, key: &PublicKey) -> bool {
        verify_signed(&self.chain_id, Domain::ProposalPart, digest, signature, key)
    }

    /// Sign a vote synchronously (tests and the host use this; the engine goes through the trait).
    pub fn sign_vote_now(&self, vote: Vote) -> SignedMessage<HuxinContext, Vote> {
        let signature = self.sign(Domain::Vote, &vote_fields(&vote));
        SignedMessage::new(vote, signature)
    }
}

/// The commit certificate `keys` (validators' consensus keys) sign for `block_hash` at `height`
/// in round 0, in its stored (borsh) form: what a node persists with a decided block. Tools that
/// write a chain without running consensus (the catch-up benchmark) certify blocks with it.
pub fn commit_certificate_bytes(chain_id: &ChainId, height: u64, block_hash: [u8; 32], keys: &[SecretKey]) -> Vec<u8> {
    let votes = keys
        .iter()
        .map(|key| {
            let address = Address::from_public_key(&PublicKey(key.public_key()));
            let vote = Vote {
                vote_type: VoteType::Precommit,
                height: Height(height),
                round: Round::new(0),
                value: NilOrVal::Val(ValueId(block_hash)),
                validator: address,
                extension: None,
            };
            Signer::new(key.clone(), chain_id.clone()).sign_vote_now(vote)
        })
        .collect();
    let certificate =
        core::CommitCertificate::<HuxinContext>::new(Height(height), Round::new(0), ValueId(block_hash), votes);
    borsh::to_vec(&certificate).expect("a commit certificate always encodes")
}

#[async_trait]
impl SignerApi<HuxinContext> for Signer {
    async fn sign_vote(&self, vote: Vote) -> Result<SignedMessage<HuxinContext, Vote>, SigningError> {
        Ok(self.sign_vote_now(vote))
    }

    async fn sign_proposal(&self, proposal: Proposal) -> Result<SignedMessage<HuxinContext, Proposal>, SigningError> {
        let signature = self.sign(Domain::Proposal, &proposal);
        Ok(SignedMessage::new(proposal, signature))
    }

    async fn sign_vote_extension(
        &self,
        scope: VoteExtensionScope<HuxinContext>,
        extension: Vec<u8>,
    ) -> Result<SignedMessage<HuxinContext, Vec<u8>>, SigningError> {
        let signature = self.sign(Domain::Vote, &extension_fields(&scope, &extension));
        Ok(SignedMessage::new(extension, signature))
    }

    async fn sign_validator_proof(
        &self,
        public_key: Vec<u8>,
        peer_id: Vec<u8>,
    ) -> Result<ValidatorProof<HuxinContext>, SigningError> {
        let preimage = ValidatorProof::<HuxinContext>::signing_bytes(&public_key, &peer_id);
        let signature = self.sign(Domain::ValidatorProof, &preimage);
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }
}

/// Whether a proof's consensus key belongs to a validator the ledger knows (current or
/// scheduled), or the proof's peer id (its second argument, as libp2p encodes one) to a follower
/// this node lets in.
pub type ValidatorCheck = Arc<dyn Fn(&PublicKey, &[u8]) -> bool + Send + Sync>;

/// Verifies consensus signatures, bound to the chain id. A validator proof (the consensus
/// network's handshake) is valid only if its signature verifies *and* its key is a validator's on
/// the ledger: the engine disconnects peers whose proof is invalid.
pub struct Verifier {
    chain_id: ChainId,
    is_validator: ValidatorCheck,
}

impl Verifier {
    pub fn new(chain_id: ChainId, is_validator: ValidatorCheck) -> Self {
        Self { chain_id, is_validator }
    }

    /// Check a validator proof: the ledger's validator set, then its signature (a stranger's
    /// proof costs no verification, which for SM2 is dear).
    pub fn check_validator_proof(&self, proof: &ValidatorProof<HuxinContext>) -> bool {
        let Ok(key) = Scheme::decode_public_key(&proof.public_key) else {
            return false;
        };
        (self.is_validator)(&key, &proof.peer_id)
            && verify_signed(&self.chain_id, Domain::ValidatorProof, &proof.preimage(), &proof.signature, &key)
    }
}

#[async_trait]
impl VerifierApi<HuxinContext> for Verifier {
    async fn verify_signed_vote(
        &self,
        vote: &Vote,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        Ok(VerificationResult::from_bool(verify_signed(
            &self.chain_id,
            Domain::Vote,
            &vote_fields(vote),
            signature,
            public_key,
        )))
    }

    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        Ok(VerificationResult::from_bool(verify_signed(
            &self.chain_id,
            Domain::Proposal,
            proposal,
            signature,
            public_key,
        )))
    }

    async fn verify_signed_vote_extension(
        &self,
        scope: &VoteExtensionScope<HuxinContext>,
        extension: &Vec<u8>,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        Ok(VerificationResult::from_bool(verify_signed(
            &self.chain_id,
            Domain::Vote,
            &extension_fields(scope, extension),
            signature,
            public_key,
        )))
    }

    async fn verify_validator_proof(
        &self,
        proof: &ValidatorProof<HuxinContext>,
    ) -> Result<VerificationResult, SigningError> {
        Ok(VerificationResult::from_bool(self.check_validator_proof(proof)))
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
        let public = PublicKey(key.public_key());
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
        assert_eq!(signed_message(&chain, &vote_fields(&vote)), expected);
        let signed = signer.sign_vote_now(vote);
        public.to_huxin().verify(Domain::Vote, &expected, &HuxinSignature(signed.signature.0)).expect("verifies");
    }

    /// The API reads stored certificates without Malachite, through a mirror of their borsh form.
    #[test]
    fn stored_certificates_decode_through_the_mirror() {
        let chain = ChainId::new("huxin-test").expect("chain id");
        let key = SecretKey::from_bytes([5u8; 32]);
        let address = Address::from_public_key(&PublicKey(key.public_key()));
        let signer = Signer::new(key, chain);
        let vote = signer.sign_vote_now(precommit(7, 1, [3u8; 32], address));
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

    fn verifier_admitting(chain: &ChainId, admitted: PublicKey) -> Verifier {
        Verifier::new(chain.clone(), Arc::new(move |key: &PublicKey, _: &[u8]| *key == admitted))
    }

    /// The check sees the proof's peer id: a follower let in by its node key proves a consensus
    /// key that is no validator's yet (an SM2 validator-to-be), and is admitted by that peer id.
    #[test]
    fn a_validator_check_sees_the_proofs_peer_id() {
        let chain = ChainId::new("huxin-test").expect("chain id");
        let key = SecretKey::derive_in(huxin_types::crypto::Suite::Sm2Sm3, [3u8; 32]);
        let public = PublicKey(key.public_key());
        let verifier = Verifier::new(chain.clone(), Arc::new(|_: &PublicKey, peer: &[u8]| peer == b"follower"));
        let signer = Signer::new(key, chain);
        assert!(verifier.check_validator_proof(&proof_of(&signer, &public, b"follower")));
        assert!(!verifier.check_validator_proof(&proof_of(&signer, &public, b"stranger")));
    }

    fn proof_of(signer: &Signer, key: &PublicKey, peer_id: &[u8]) -> ValidatorProof<HuxinContext> {
        let preimage = ValidatorProof::<HuxinContext>::signing_bytes(key.0.as_bytes(), peer_id);
        ValidatorProof::new(key.0.as_bytes().to_vec(), peer_id.to_vec(), signer.sign(Domain::ValidatorProof, &preimage))
    }

    /// The consensus network's handshake admits a peer only if its proof is signed by the key it
    /// names and that key is a validator's on the ledger.
    #[test]
    fn validator_proofs_need_a_valid_signature_and_a_validator_key() {
        let chain = ChainId::new("huxin-test").expect("chain id");
        let validator_key = SecretKey::from_bytes([1u8; 32]);
        let validator = PublicKey(validator_key.public_key());
        let stranger_key = SecretKey::from_bytes([2u8; 32]);
        let stranger = PublicKey(stranger_key.public_key());
        let verifier = verifier_admitting(&chain, validator);
        let peer = b"peer-id-bytes";

        let honest = proof_of(&Signer::new(validator_key.clone(), chain.clone()), &validator, peer);
        assert!(verifier.check_validator_proof(&honest));

        // A stranger's own, correctly signed proof: refused, it is not a validator.
        let outsider = proof_of(&Signer::new(stranger_key.clone(), chain.clone()), &stranger, peer);
        assert!(!verifier.check_validator_proof(&outsider));

        // A stranger claiming the validator's key: the signature does not verify.
        let forged = proof_of(&Signer::new(stranger_key, chain.clone()), &validator, peer);
        assert!(!verifier.check_validator_proof(&forged));

        // The validator's proof moved to another peer id, or signed for another chain.
        let mut moved = honest.clone();
        moved.peer_id = b"another-peer".to_vec();
        assert!(!verifier.check_validator_proof(&moved));
        let other_chain = ChainId::new("huxin-other").expect("chain id");
        let replayed = proof_of(&Signer::new(validator_key, other_chain), &validator, peer);
        assert!(!verifier.check_validator_proof(&replayed));

        // A key of the wrong length is refused, not sliced.
        let mut short = honest;
        short.public_key = vec![1, 2, 3];
        assert!(!verifier.check_validator_proof(&short));
    }
}
