//! The W3C test vectors of `eddsa-rdfc-2022` (Data Integrity EdDSA Cryptosuites v1.0, copied in
//! `tests/vectors/` under the W3C Software and Document License): the same canonical forms,
//! the same hashes, the same signature; the signed vectors verify; and a credential changed
//! after signing is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use sha2::{Digest, Sha256};
use siteline_credential::{
    Error, ProofOptions, canonical_nquads_with, context, did_key, key_of_did, sign_with,
    signing_key_from_multibase, verify_with,
};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");

/// The contexts Siteline ships, and the citizenship context one vector uses.
fn load(url: &str) -> Option<&'static str> {
    match url {
        "https://w3id.org/citizenship/v4rc1" => {
            Some(include_str!("vectors/contexts/citizenship-v4rc1.jsonld"))
        }
        _ => context(url),
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{path}")).unwrap()
}

fn json(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One vector set: `unsigned` and the directory of its expected values.
fn check(unsigned: &str, dir: &str) {
    let doc = json(unsigned);
    let config = json(&format!("{dir}/proofConfigDataInt.json"));
    let canon_doc = canonical_nquads_with(&doc, load).unwrap();
    assert_eq!(
        canon_doc.trim_end(),
        read(&format!("{dir}/canonDocDataInt.txt")).trim_end()
    );
    let canon_proof = canonical_nquads_with(&config, load).unwrap();
    assert_eq!(
        canon_proof.trim_end(),
        read(&format!("{dir}/proofCanonDataInt.txt")).trim_end()
    );
    let doc_hash = hex(&Sha256::digest(canon_doc.as_bytes()));
    let proof_hash = hex(&Sha256::digest(canon_proof.as_bytes()));
    assert_eq!(doc_hash, read(&format!("{dir}/docHashDataInt.txt")).trim());
    assert_eq!(
        proof_hash,
        read(&format!("{dir}/proofHashDataInt.txt")).trim()
    );
    assert_eq!(
        format!("{proof_hash}{doc_hash}"),
        read(&format!("{dir}/combinedHashDataInt.txt")).trim()
    );

    let keys = json("keyPair.json");
    let key = signing_key_from_multibase(keys["privateKeyMultibase"].as_str().unwrap()).unwrap();
    let (did, method) = did_key(&key.verifying_key());
    assert_eq!(
        did,
        format!("did:key:{}", keys["publicKeyMultibase"].as_str().unwrap())
    );
    assert_eq!(method, config["verificationMethod"]);
    let options = ProofOptions {
        created: config["created"].as_str().unwrap().into(),
        verification_method: method,
    };
    let signed = sign_with(&doc, &key, &options, load).unwrap();
    assert_eq!(
        signed["proof"]["proofValue"].as_str().unwrap(),
        read(&format!("{dir}/sigBTC58DataInt.txt")).trim()
    );
    let expected = json(&format!("{dir}/signedDataInt.json"));
    assert_eq!(signed, expected);
    let verified = verify_with(&expected, key_of_did, load).unwrap();
    assert_eq!(verified.credential, doc);
}

#[test]
fn the_alumni_credential_vector_gives_the_same_canonical_form_hashes_and_signature() {
    check("unsigned.json", "eddsa-rdfc-2022");
}

#[test]
fn the_employment_authorization_vector_gives_the_same_canonical_form_hashes_and_signature() {
    check("employmentAuth.json", "eddsa-rdfc-2022/employ");
}

#[test]
fn a_signed_vector_changed_in_any_field_is_refused_as_altered() {
    let signed = json("eddsa-rdfc-2022/signedDataInt.json");
    let changes: [(&str, Value); 4] = [
        (
            "/credentialSubject/alumniOf",
            "The School of Forgeries".into(),
        ),
        ("/validFrom", "2024-01-01T00:00:00Z".into()),
        ("/name", "Alumni  Credential".into()),
        ("/issuer", "https://vc.example/issuers/9999".into()),
    ];
    for (path, value) in changes {
        let mut altered = signed.clone();
        *altered.pointer_mut(path).unwrap() = value;
        assert_eq!(
            verify_with(&altered, key_of_did, load).unwrap_err(),
            Error::Altered,
            "{path}"
        );
    }
    // A term added after signing changes the statements too.
    let mut added = signed.clone();
    added["credentialSubject"]["credits"] = 99.into();
    assert_eq!(
        verify_with(&added, key_of_did, load).unwrap_err(),
        Error::Altered
    );
    // Another key's proof, a stripped proof, a foreign context: each refused by name.
    let other = ed25519_dalek_key();
    let err = verify_with(&signed, |_| Some(other), load).unwrap_err();
    assert_eq!(err, Error::Altered);
    let mut bare = signed.clone();
    bare.as_object_mut().unwrap().remove("proof");
    assert!(matches!(
        verify_with(&bare, key_of_did, load),
        Err(Error::Proof(_))
    ));
    let mut foreign = signed;
    foreign["@context"][1] = "https://evil.example/context".into();
    assert!(matches!(
        verify_with(&foreign, key_of_did, load),
        Err(Error::Malformed(m)) if m.contains("https://evil.example/context")
    ));
}

fn ed25519_dalek_key() -> siteline_credential::ed25519_dalek::VerifyingKey {
    siteline_credential::ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key()
}

#[test]
fn a_document_too_large_for_any_credential_is_refused_before_canonicalization() {
    let many: Vec<Value> = (0..100)
        .map(|i| serde_json::json!({ "alumniOf": format!("school {i}") }))
        .collect();
    let doc = serde_json::json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": many,
    });
    assert!(
        matches!(canonical_nquads_with(&doc, load), Err(Error::Malformed(m)) if m.contains("larger"))
    );
}

#[test]
fn a_document_secured_under_the_data_integrity_context_alone_signs_and_verifies_offline() {
    let key = siteline_credential::ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let (did, method) = did_key(&key.verifying_key());
    // Data Integrity secures any JSON-LD document, not only credentials (whose VC 2.0
    // context already defines the proof's terms and may not be combined with this one).
    let doc = serde_json::json!({
        "@context": [
            "https://w3id.org/security/data-integrity/v2",
            "https://www.w3.org/ns/credentials/examples/v2"
        ],
        "id": did,
        "alumniOf": "国家开放大学"
    });
    let options = ProofOptions {
        created: "2026-12-02T00:00:00Z".into(),
        verification_method: method,
    };
    let signed = siteline_credential::sign(&doc, &key, &options).unwrap();
    let verified = siteline_credential::verify(&signed, key_of_did).unwrap();
    assert_eq!(verified.credential, doc);
    let mut altered = signed;
    altered["alumniOf"] = "另一所学校".into();
    assert_eq!(
        siteline_credential::verify(&altered, key_of_did).unwrap_err(),
        Error::Altered
    );
}
