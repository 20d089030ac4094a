//! The device's identity: an Ed25519 key pair made on the device. The private key never
//! leaves it: it is kept in a file only its owner can read (OS key stores can follow).

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer, SigningKey};

use crate::Result;

/// The device's signing key.
pub struct Identity {
    key: SigningKey,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({})", self.public_key_b64())
    }
}

impl Identity {
    /// A fresh key pair (kept in memory only).
    pub fn generate() -> Self {
        Identity {
            key: SigningKey::generate(&mut rand_core::OsRng),
        }
    }

    /// Reads the key file, or makes a key pair and writes it (owner-only) if there is none.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        let secret = siteline_domain::crypto::load_or_create_secret(
            path,
            "the device key is damaged; restore it from backup or enrol the device again",
        )?;
        Ok(Identity {
            key: SigningKey::from_bytes(&secret),
        })
    }

    /// The public key, base64, as HQ records it.
    pub fn public_key_b64(&self) -> String {
        B64.encode(self.key.verifying_key().to_bytes())
    }

    /// Signs a message; base64 signature.
    pub fn sign(&self, message: &str) -> String {
        B64.encode(self.key.sign(message.as_bytes()).to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.key");
        let a = Identity::load_or_create(&path).unwrap();
        let b = Identity::load_or_create(&path).unwrap();
        assert_eq!(a.public_key_b64(), b.public_key_b64());
        assert_eq!(a.sign("x"), b.sign("x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
