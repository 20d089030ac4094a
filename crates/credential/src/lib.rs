//! Verifiable credentials with a Data Integrity proof, cryptosuite `eddsa-rdfc-2022`
//! (<https://www.w3.org/TR/vc-di-eddsa/#eddsa-rdfc-2022>): what HQ signs a certificate with,
//! and what anyone checks it with, offline.
//!
//! - **Canonical form.** The document is read as JSON-LD 1.1 into RDF (`oxjsonld`) with every
//!   context loaded from the copies in `contexts/` (nothing is fetched, ever: an unknown
//!   context is refused), then put in RDF Dataset Canonicalization form, RDFC-1.0 with SHA-256
//!   (`oxrdf`), as sorted N-Quads.
//! - **Proof.** The proof's configuration (the proof without its value, under the document's
//!   `@context`) and the document without its proof are each canonicalized and hashed with
//!   SHA-256; Ed25519 signs the two hashes, configuration first. The value is multibase
//!   base58btc (`z…`).
//! - **Keys.** A public key is named as a `did:key` (multicodec `ed25519-pub`, base58btc), its
//!   verification method `did:key:z6Mk…#z6Mk…`.
//!
//! The W3C test vectors of the specification pass (`tests/vectors.rs`).

use std::collections::HashSet;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use oxjsonld::{JsonLdParser, JsonLdProcessingMode, JsonLdRemoteDocument};
use oxrdf::dataset::{CanonicalizationAlgorithm, CanonicalizationHashAlgorithm};
use oxrdf::{Dataset, NamedOrBlankNode, Term};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use ed25519_dalek;

/// The cryptosuite this crate signs and verifies.
pub const CRYPTOSUITE: &str = "eddsa-rdfc-2022";

/// The W3C Verifiable Credentials 2.0 context.
pub const VC_V2: &str = "https://www.w3.org/ns/credentials/v2";
/// The Open Badges 3.0 context (1EdTech), version 3.0.3.
pub const OB_V3: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// The W3C Data Integrity context (its terms are also in VC 2.0's; for credentials and proofs
/// that name it).
pub const DATA_INTEGRITY_V2: &str = "https://w3id.org/security/data-integrity/v2";
/// The W3C examples context (used by the specification's test vectors).
pub const VC_EXAMPLES_V2: &str = "https://www.w3.org/ns/credentials/examples/v2";

/// Most quads a document may have: a certificate has about forty. Bounds the work a hostile
/// document can ask of the verifier.
pub const MAX_QUADS: usize = 2_000;
/// Most blank nodes a document may have (RDFC-1.0's cost grows fast with them): a
/// certificate has a handful.
pub const MAX_BLANK_NODES: usize = 64;

/// The contexts a credential may use, as kept in the repository (with their licences in
/// `contexts/`), by URL.
pub fn context(url: &str) -> Option<&'static str> {
    match url {
        VC_V2 => Some(include_str!("../contexts/credentials-v2.jsonld")),
        OB_V3 => Some(include_str!("../contexts/ob-context-3.0.3.json")),
        DATA_INTEGRITY_V2 => Some(include_str!("../contexts/data-integrity-v2.jsonld")),
        VC_EXAMPLES_V2 => Some(include_str!("../contexts/credentials-examples-v2.jsonld")),
        _ => None,
    }
}

/// Why a document could not be signed or verified.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// Not a JSON object, or not valid JSON-LD under the known contexts.
    #[error("not a credential: {0}")]
    Malformed(String),
    /// The proof is missing, of another type or cryptosuite, or its value is not multibase.
    #[error("the proof cannot be checked: {0}")]
    Proof(String),
    /// The verification method is not a key this verifier knows.
    #[error("the credential is signed with a key that is not known here: {0}")]
    UnknownKey(String),
    /// The signature does not match the document: it was changed after signing, or signed
    /// by another key.
    #[error("the signature does not match the credential: it was changed after it was signed")]
    Altered,
}

fn malformed(e: impl std::fmt::Display) -> Error {
    Error::Malformed(e.to_string())
}

/// Where contexts come from: a URL's JSON-LD document, or none (refused). [`context`] is the
/// one every function here uses unless given another.
pub type Loader = fn(&str) -> Option<&'static str>;

/// The document's canonical form: RDFC-1.0 N-Quads, one per line, sorted.
pub fn canonical_nquads(doc: &Value) -> Result<String, Error> {
    canonical_nquads_with(doc, context)
}

/// [`canonical_nquads`] with the contexts `load` knows.
pub fn canonical_nquads_with(doc: &Value, load: Loader) -> Result<String, Error> {
    if !doc.is_object() {
        return Err(malformed("a credential is a JSON object"));
    }
    let bytes = serde_json::to_vec(doc).map_err(malformed)?;
    let parser = JsonLdParser::new()
        .with_processing_mode(JsonLdProcessingMode::JsonLd1_1)
        .for_slice(&bytes)
        .with_load_document_callback(move |url, _| match load(url) {
            Some(text) => Ok(JsonLdRemoteDocument {
                document: text.as_bytes().to_vec(),
                document_url: url.into(),
            }),
            None => Err(format!("the context {url} is not one this verifier holds").into()),
        });
    let mut dataset = Dataset::new();
    let mut blank = HashSet::new();
    for quad in parser {
        let quad = quad.map_err(malformed)?;
        if let NamedOrBlankNode::BlankNode(b) = &quad.subject {
            blank.insert(b.as_str().to_owned());
        }
        if let Term::BlankNode(b) = &quad.object {
            blank.insert(b.as_str().to_owned());
        }
        if let oxrdf::GraphName::BlankNode(b) = &quad.graph_name {
            blank.insert(b.as_str().to_owned());
        }
        dataset.insert(&quad);
        if dataset.len() > MAX_QUADS || blank.len() > MAX_BLANK_NODES {
            return Err(malformed(format!(
                "the document is larger than any credential (over {MAX_QUADS} statements or {MAX_BLANK_NODES} blank nodes)"
            )));
        }
    }
    dataset.canonicalize(CanonicalizationAlgorithm::Rdfc10 {
        hash_algorithm: CanonicalizationHashAlgorithm::Sha256,
    });
    let mut lines: Vec<String> = dataset.iter().map(|q| format!("{q} .\n")).collect();
    lines.sort();
    Ok(lines.concat())
}

/// The proof's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofOptions {
    /// When signed, `YYYY-MM-DDTHH:MM:SSZ`.
    pub created: String,
    /// The key's verification method (`did:key:…#…`, or a `did:web` key id).
    pub verification_method: String,
}

fn proof_config(options: &ProofOptions, context: &Value) -> Value {
    serde_json::json!({
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": options.created,
        "verificationMethod": options.verification_method,
        "proofPurpose": "assertionMethod",
        "@context": context,
    })
}

/// What Ed25519 signs: SHA-256 of the canonical proof configuration, then of the canonical
/// document.
pub fn hash_data(config: &Value, unsecured: &Value, load: Loader) -> Result<Vec<u8>, Error> {
    let mut out = Sha256::digest(canonical_nquads_with(config, load)?.as_bytes()).to_vec();
    out.extend_from_slice(&Sha256::digest(
        canonical_nquads_with(unsecured, load)?.as_bytes(),
    ));
    Ok(out)
}

/// Signs `doc` (a credential without a proof): the same document with its `proof`.
pub fn sign(doc: &Value, key: &SigningKey, options: &ProofOptions) -> Result<Value, Error> {
    sign_with(doc, key, options, context)
}

/// [`sign`] with the contexts `load` knows.
pub fn sign_with(
    doc: &Value,
    key: &SigningKey,
    options: &ProofOptions,
    load: Loader,
) -> Result<Value, Error> {
    let Some(object) = doc.as_object() else {
        return Err(malformed("a credential is a JSON object"));
    };
    if object.contains_key("proof") {
        return Err(Error::Proof("the document is already signed".into()));
    }
    let context = object
        .get("@context")
        .ok_or_else(|| malformed("the document has no @context"))?;
    let config = proof_config(options, context);
    let signature = key.sign(&hash_data(&config, doc, load)?);
    let mut proof = config;
    if let Some(p) = proof.as_object_mut() {
        p.remove("@context");
        p.insert(
            "proofValue".into(),
            Value::String(format!(
                "z{}",
                bs58::encode(signature.to_bytes()).into_string()
            )),
        );
    }
    let mut signed = object.clone();
    signed.insert("proof".into(), proof);
    Ok(Value::Object(signed))
}

/// Checks a signed credential's proof with the key its verification method names, found by
/// `key_for` (which may also read a `did:key` with [`key_of_did`]). The verification method
/// and the document without the proof when it holds.
pub fn verify(
    doc: &Value,
    key_for: impl Fn(&str) -> Option<VerifyingKey>,
) -> Result<Verified, Error> {
    verify_with(doc, key_for, context)
}

/// [`verify`] with the contexts `load` knows.
pub fn verify_with(
    doc: &Value,
    key_for: impl Fn(&str) -> Option<VerifyingKey>,
    load: Loader,
) -> Result<Verified, Error> {
    let Some(object) = doc.as_object() else {
        return Err(malformed("a credential is a JSON object"));
    };
    let proof = match object.get("proof") {
        Some(Value::Object(p)) => p,
        Some(_) => {
            return Err(Error::Proof(
                "there is more than one proof, or it is not an object".into(),
            ));
        }
        None => return Err(Error::Proof("the credential carries no proof".into())),
    };
    let text = |name: &str| proof.get(name).and_then(Value::as_str);
    if text("type") != Some("DataIntegrityProof") || text("cryptosuite") != Some(CRYPTOSUITE) {
        return Err(Error::Proof(format!(
            "the proof is not a DataIntegrityProof of cryptosuite {CRYPTOSUITE}"
        )));
    }
    if text("proofPurpose") != Some("assertionMethod") {
        return Err(Error::Proof(
            "the proof's purpose is not assertionMethod".into(),
        ));
    }
    let value = text("proofValue")
        .and_then(|v| v.strip_prefix('z'))
        .ok_or_else(|| Error::Proof("the proof value is not multibase base58btc".into()))?;
    let bytes = bs58::decode(value)
        .into_vec()
        .map_err(|_| Error::Proof("the proof value is not base58btc".into()))?;
    let signature = Signature::from_slice(&bytes)
        .map_err(|_| Error::Proof("the proof value is not an Ed25519 signature".into()))?;
    let method = text("verificationMethod")
        .ok_or_else(|| Error::Proof("the proof names no verification method".into()))?
        .to_owned();
    let key = key_for(&method).ok_or_else(|| Error::UnknownKey(method.clone()))?;
    let context = object
        .get("@context")
        .ok_or_else(|| malformed("the document has no @context"))?;
    let mut config: Map<String, Value> = proof.clone();
    config.remove("proofValue");
    config.insert("@context".into(), context.clone());
    let mut unsecured = object.clone();
    unsecured.remove("proof");
    let unsecured = Value::Object(unsecured);
    let data = hash_data(&Value::Object(config), &unsecured, load)?;
    key.verify_strict(&data, &signature)
        .map_err(|_| Error::Altered)?;
    Ok(Verified {
        verification_method: method,
        credential: unsecured,
    })
}

/// A credential whose proof holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The key that signed it.
    pub verification_method: String,
    /// The credential without its proof.
    pub credential: Value,
}

/// Multicodec prefix of an Ed25519 public key (`ed25519-pub`, 0xed).
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
/// Multicodec prefix of an Ed25519 private key (`ed25519-priv`, 0x1300).
const ED25519_PRIV: [u8; 2] = [0x80, 0x26];

/// The public key as multibase (`z6Mk…`).
pub fn public_key_multibase(key: &VerifyingKey) -> String {
    let mut bytes = ED25519_PUB.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    format!("z{}", bs58::encode(bytes).into_string())
}

/// The key's `did:key` and its verification method (`did:key:z6Mk…#z6Mk…`).
pub fn did_key(key: &VerifyingKey) -> (String, String) {
    let mb = public_key_multibase(key);
    (format!("did:key:{mb}"), format!("did:key:{mb}#{mb}"))
}

/// The Ed25519 key a `did:key` (or its verification method) names.
pub fn key_of_did(did: &str) -> Option<VerifyingKey> {
    let rest = did.strip_prefix("did:key:z")?;
    let (id, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    if !fragment.is_empty() && fragment.strip_prefix('z') != Some(id) {
        return None;
    }
    let bytes = bs58::decode(id).into_vec().ok()?;
    let key = bytes.strip_prefix(&ED25519_PUB)?;
    VerifyingKey::from_bytes(key.try_into().ok()?).ok()
}

/// A private key from its multibase form (`z3u2…`, multicodec `ed25519-priv`).
pub fn signing_key_from_multibase(text: &str) -> Option<SigningKey> {
    let bytes = bs58::decode(text.strip_prefix('z')?).into_vec().ok()?;
    let seed = bytes.strip_prefix(&ED25519_PRIV)?;
    Some(SigningKey::from_bytes(seed.try_into().ok()?))
}
