//! Field encryption for personal data (PIPL): each learner has a random data key wrapped by
//! the site key; ID and phone numbers are sealed with XChaCha20-Poly1305 under that data key
//! and found by blind indexes (HMAC-SHA256 under a key derived from the site key). Destroying
//! a learner's data key makes their sealed fields unreadable (crypto-shredding).

use std::path::Path;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

const NONCE_LEN: usize = 24;

/// The site's secret keys, derived from one 32-byte master key that every device of the site
/// holds (docs/SYNC.md, "Several devices, one site") and HQ never does.
#[derive(Clone)]
pub struct SiteKeys {
    master: [u8; 32],
    wrap: XChaCha20Poly1305,
    index: Vec<u8>,
    relay: XChaCha20Poly1305,
}

/// Groups of a recovery code; each is four characters of RFC 4648 base32.
const RECOVERY_GROUPS: usize = 14;
/// Bytes of the master key's SHA-256 appended to the code, so a mistyped code is refused.
const RECOVERY_CHECK: usize = 3;

impl std::fmt::Debug for SiteKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SiteKeys(..)")
    }
}

impl SiteKeys {
    /// Derives the working keys from a master key.
    pub fn from_master(master: &[u8; 32]) -> Self {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"siteline-site-keys-v1"), master);
        let mut wrap = [0u8; 32];
        let mut index = [0u8; 32];
        let mut relay = [0u8; 32];
        // Expanding 32 bytes from HKDF-SHA256 cannot fail (limit is 255 × 32).
        #[allow(clippy::expect_used)]
        {
            hk.expand(b"wrap", &mut wrap).expect("32-byte HKDF output");
            hk.expand(b"blind-index", &mut index)
                .expect("32-byte HKDF output");
            hk.expand(b"relay", &mut relay)
                .expect("32-byte HKDF output");
        }
        SiteKeys {
            master: *master,
            wrap: XChaCha20Poly1305::new(&wrap.into()),
            index: index.to_vec(),
            relay: XChaCha20Poly1305::new(&relay.into()),
        }
    }

    /// The master key as a recovery code the site manager prints at first run and types on a
    /// new device of the site: 14 groups of four base32 characters, the last carrying a check.
    pub fn recovery_code(&self) -> String {
        let mut bytes = self.master.to_vec();
        bytes.extend_from_slice(&Sha256::digest(self.master)[..RECOVERY_CHECK]);
        let text = data_encoding::BASE32_NOPAD.encode(&bytes);
        text.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// The master key a recovery code holds. Spaces, dashes and letter case do not matter; a
    /// code of the wrong length or with a typo is refused.
    pub fn master_from_recovery_code(code: &str) -> Result<[u8; 32]> {
        let clean: String = code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bad = |what: &str| {
            Error::Crypto(format!(
                "the recovery code {what}; type the {RECOVERY_GROUPS} groups exactly as printed"
            ))
        };
        if clean.len() != RECOVERY_GROUPS * 4 {
            return Err(bad(&format!(
                "has {} letters and digits, not {}",
                clean.len(),
                RECOVERY_GROUPS * 4
            )));
        }
        let bytes = data_encoding::BASE32_NOPAD
            .decode(clean.as_bytes())
            .map_err(|_| bad("holds characters a recovery code never has"))?;
        let (master, check) = bytes.split_at(32);
        if Sha256::digest(master)[..RECOVERY_CHECK] != *check {
            return Err(bad("does not check out (a character is wrong)"));
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(master);
        Ok(out)
    }

    /// True when both hold the same master key.
    pub fn same_site(&self, other: &SiteKeys) -> bool {
        self.index == other.index
    }

    /// Seals bytes for the site's other devices (they hold the same master key; HQ, which
    /// relays them, does not). `aad` binds them to their record.
    pub fn seal_for_site(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        seal(&self.relay, aad, plaintext)
    }

    /// Opens bytes another device of the site sealed with [`SiteKeys::seal_for_site`].
    pub fn open_from_site(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        open(&self.relay, aad, sealed)
    }

    /// Fresh random keys, for tests and in-memory stores.
    pub fn generate() -> Self {
        let master: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
        Self::from_master(&master)
    }

    /// Writes `master` as the key file at `path`, replacing the one there in one step (a new
    /// file renamed over the old), owner-only.
    pub fn store_master(path: &Path, master: &[u8; 32]) -> Result<()> {
        let io = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("key.new");
        let _ = std::fs::remove_file(&tmp);
        write_private(&tmp, master).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads the master key file, creating it (owner-only permissions) when it is missing.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        let master = load_or_create_secret(
            path,
            "the site key file is damaged; restore it from the backup it was saved with",
        )?;
        Ok(Self::from_master(&master))
    }

    /// Blind index of a value for equality search; `domain` separates uses (full ID, tail…).
    pub fn blind_index(&self, domain: &str, value: &str) -> Vec<u8> {
        // HMAC accepts keys of any length.
        #[allow(clippy::expect_used)]
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index).expect("any key length");
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Makes a new data key and returns it with its wrapped (stored) form.
    pub fn new_data_key(&self, owner: &[u8]) -> Result<(DataKey, Vec<u8>)> {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let wrapped = seal(&self.wrap, owner, &key)?;
        Ok((DataKey(XChaCha20Poly1305::new(&key)), wrapped))
    }

    /// Unwraps a stored data key.
    pub fn unwrap_data_key(&self, owner: &[u8], wrapped: &[u8]) -> Result<DataKey> {
        let key = open(&self.wrap, owner, wrapped)?;
        if key.len() != 32 {
            return Err(Error::Crypto(
                "a wrapped data key has the wrong length".into(),
            ));
        }
        Ok(DataKey(XChaCha20Poly1305::new(
            chacha20poly1305::Key::from_slice(&key),
        )))
    }
}

/// A learner's data key.
pub struct DataKey(XChaCha20Poly1305);

impl DataKey {
    /// Seals a field; `aad` binds it to its record and column.
    pub fn seal(&self, aad: &[u8], plaintext: &str) -> Result<Vec<u8>> {
        seal(&self.0, aad, plaintext.as_bytes())
    }

    /// Opens a sealed field.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<String> {
        let bytes = open(&self.0, aad, sealed)?;
        String::from_utf8(bytes).map_err(|_| Error::Crypto("a sealed field is not text".into()))
    }
}

fn seal(cipher: &XChaCha20Poly1305, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let mut out = nonce.to_vec();
    let ct = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::Crypto("sealing a field failed".into()))?;
    out.extend_from_slice(&ct);
    Ok(out)
}

fn open(cipher: &XChaCha20Poly1305, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
    if sealed.len() < NONCE_LEN {
        return Err(Error::Crypto("a sealed field is truncated".into()));
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .map_err(|_| {
            Error::Crypto(
                "a sealed field could not be opened: wrong site key or damaged data; restore the \
             site key file that belongs to this database"
                    .into(),
            )
        })
}

/// Reads a 32-byte secret from `path`, or makes a random one and writes it owner-only when the
/// file does not exist. `damaged` says what to do when the file is there but unusable.
pub fn load_or_create_secret(path: &Path, damaged: &str) -> Result<[u8; 32]> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read(path) {
        Ok(bytes) => bytes.as_slice().try_into().map_err(|_| {
            Error::Crypto(format!(
                "{} ({} bytes, expected 32): {damaged}",
                path.display(),
                bytes.len()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
            write_private(path, &secret).map_err(io)?;
            Ok(secret)
        }
        Err(e) => Err(io(e)),
    }
}

/// HQ's sealing key pair (X25519). Sites seal each resident ID number to its public half before
/// the number leaves the device (in a push or a USB bundle); only HQ opens it, in memory, to
/// compute its blind index, and never stores it.
pub struct SealKey(crypto_box::SecretKey);

impl SealKey {
    /// A fresh key pair.
    pub fn generate() -> Self {
        SealKey(crypto_box::SecretKey::generate(
            &mut crypto_box::aead::OsRng,
        ))
    }

    /// The key pair from its 32-byte secret.
    pub fn from_bytes(secret: [u8; 32]) -> Self {
        SealKey(crypto_box::SecretKey::from(secret))
    }

    /// The public half, which devices receive at enrolment.
    pub fn public_bytes(&self) -> [u8; 32] {
        *self.0.public_key().as_bytes()
    }

    /// Opens a value sealed to this key.
    pub fn open(&self, sealed: &[u8]) -> Result<String> {
        let bytes = self.0.unseal(sealed).map_err(|_| {
            Error::Crypto(
                "a sealed value does not open with HQ's key (altered, or sealed to another key)"
                    .into(),
            )
        })?;
        String::from_utf8(bytes).map_err(|_| Error::Crypto("a sealed value is not text".into()))
    }
}

/// Seals `plaintext` to HQ's public sealing key (an anonymous sealed box: only the holder of
/// the secret half can open it, and nobody can tell two sealings of one value apart).
pub fn seal_to(public: &[u8; 32], plaintext: &str) -> Result<Vec<u8>> {
    crypto_box::PublicKey::from(*public)
        .seal(&mut crypto_box::aead::OsRng, plaintext.as_bytes())
        .map_err(|_| Error::Crypto("sealing failed".into()))
}

/// Makes `dir` (and its parents) if missing and closes it to its owner (0700): the data
/// directory and backups hold sealed personal data and keys.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Makes `path` owner-only (0600), creating it empty if missing. Called on a database file
/// before SQLite opens it, so its `-wal` and `-shm` files, which SQLite creates with the
/// database's mode, are owner-only too.
pub fn private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        for suffix in ["-wal", "-shm"] {
            let side = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if side.exists() {
                std::fs::set_permissions(&side, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
    }
    Ok(())
}

/// Writes a new file readable by its owner only.
#[cfg(unix)]
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Writes a new file (no owner-only mode off Unix).
#[cfg(not(unix))]
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_sealed_to_hq_opens_only_with_hqs_key() {
        let hq = SealKey::generate();
        let sealed = seal_to(&hq.public_bytes(), "11010519491231002X").unwrap();
        assert!(!sealed.windows(18).any(|w| w == b"11010519491231002X"));
        assert_eq!(hq.open(&sealed).unwrap(), "11010519491231002X");
        // Two sealings differ; another key, or a flipped byte, does not open.
        assert_ne!(
            sealed,
            seal_to(&hq.public_bytes(), "11010519491231002X").unwrap()
        );
        assert!(SealKey::generate().open(&sealed).is_err());
        let mut altered = sealed.clone();
        altered[40] ^= 1;
        assert!(hq.open(&altered).is_err());
        let again = SealKey::from_bytes(hq.0.to_bytes());
        assert_eq!(again.open(&sealed).unwrap(), "11010519491231002X");
    }

    #[cfg(unix)]
    #[test]
    fn private_dirs_and_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("data/inner");
        private_dir(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        let db = dir.join("x.db");
        std::fs::write(&db, b"").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        private_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600, "an existing file is closed too");
        let fresh = dir.join("new.db");
        private_file(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o600);
    }

    #[test]
    fn sealed_fields_open_only_with_their_key_and_binding() {
        let keys = SiteKeys::generate();
        let (dk, wrapped) = keys.new_data_key(b"learner-1").unwrap();
        let sealed = dk.seal(b"learner-1/id", "11010519491231002X").unwrap();
        assert!(!sealed.windows(4).any(|w| w == b"1101"));
        let dk2 = keys.unwrap_data_key(b"learner-1", &wrapped).unwrap();
        assert_eq!(
            dk2.open(b"learner-1/id", &sealed).unwrap(),
            "11010519491231002X"
        );
        assert!(dk2.open(b"learner-2/id", &sealed).is_err());
        assert!(keys.unwrap_data_key(b"learner-2", &wrapped).is_err());
        assert!(
            SiteKeys::generate()
                .unwrap_data_key(b"learner-1", &wrapped)
                .is_err()
        );
    }

    #[test]
    fn blind_index_is_stable_per_key_and_domain() {
        let keys = SiteKeys::generate();
        assert_eq!(keys.blind_index("id", "X"), keys.blind_index("id", "X"));
        assert_ne!(keys.blind_index("id", "X"), keys.blind_index("tail", "X"));
        assert_ne!(
            keys.blind_index("id", "X"),
            SiteKeys::generate().blind_index("id", "X")
        );
    }

    #[test]
    fn key_file_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.key");
        let a = SiteKeys::load_or_create(&path).unwrap();
        let b = SiteKeys::load_or_create(&path).unwrap();
        assert_eq!(a.blind_index("d", "v"), b.blind_index("d", "v"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, b"short").unwrap();
        let err = SiteKeys::load_or_create(&path).unwrap_err();
        assert!(err.to_string().contains("damaged"));
    }
}

#[cfg(test)]
mod recovery_tests {
    use super::*;

    #[test]
    fn a_recovery_code_gives_back_the_same_site_keys() {
        let keys = SiteKeys::generate();
        let code = keys.recovery_code();
        assert_eq!(code.split('-').count(), RECOVERY_GROUPS);
        let master =
            SiteKeys::master_from_recovery_code(&code.to_lowercase().replace('-', " ")).unwrap();
        let again = SiteKeys::from_master(&master);
        assert!(again.same_site(&keys));
        let sealed = keys.seal_for_site(b"learner-1", b"profile").unwrap();
        assert_eq!(
            again.open_from_site(b"learner-1", &sealed).unwrap(),
            b"profile"
        );
        // Bound to its record, and closed to another site's key.
        assert!(again.open_from_site(b"learner-2", &sealed).is_err());
        assert!(
            SiteKeys::generate()
                .open_from_site(b"learner-1", &sealed)
                .is_err()
        );
    }

    #[test]
    fn a_mistyped_or_short_recovery_code_is_refused_saying_why() {
        let code = SiteKeys::generate().recovery_code();
        let first = code.chars().next().unwrap();
        let typo = format!("{}{}", if first == 'A' { 'B' } else { 'A' }, &code[1..]);
        let err = SiteKeys::master_from_recovery_code(&typo).unwrap_err();
        assert!(err.to_string().contains("does not check out"), "{err}");
        let err = SiteKeys::master_from_recovery_code(&code[..20]).unwrap_err();
        assert!(err.to_string().contains("not 56"), "{err}");
        // '1' is not in the base32 alphabet.
        let err = SiteKeys::master_from_recovery_code(&format!("1{}", &code[1..])).unwrap_err();
        assert!(err.to_string().contains("never has"), "{err}");
    }
}
