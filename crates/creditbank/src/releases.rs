//! Signed app updates that the credit bank serves to sites, so sites update from HQ over the
//! same link they sync on. A release is one file per target and architecture (a `.deb` on
//! Linux) with the minisign signature `tauri signer sign` made; HQ refuses to publish a file
//! whose signature does not verify against the project's updater public key, so a site is
//! never offered an update it would refuse. Releases live in a folder (`updates/` in the data
//! directory): the files and `releases.json`, replaced atomically on each publish.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One published release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// `linux`, `windows`, `darwin`.
    pub target: String,
    /// `x86_64`, `aarch64`, ….
    pub arch: String,
    /// Semantic version.
    pub version: String,
    /// Release notes shown to the site manager.
    pub notes: String,
    /// When HQ published it.
    pub pub_date: DateTime<Utc>,
    /// Stored file name in the updates folder.
    pub file: String,
    /// The minisign signature, base64, as `tauri signer sign` writes it.
    pub signature: String,
}

/// What the Tauri updater reads from a dynamic update server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UpdateManifest {
    /// New version.
    pub version: String,
    /// Notes.
    pub notes: String,
    /// RFC 3339.
    pub pub_date: String,
    /// Where to download the file.
    pub url: String,
    /// Signature of the file.
    pub signature: String,
}

/// A release to publish.
#[derive(Debug, Clone, Copy)]
pub struct NewRelease<'a> {
    /// `linux`, `windows`, `darwin`.
    pub target: &'a str,
    /// `x86_64`, `aarch64`, ….
    pub arch: &'a str,
    /// Semantic version.
    pub version: &'a str,
    /// The file to serve.
    pub file: &'a Path,
    /// Its signature (the `.sig` file's text).
    pub signature: &'a str,
    /// Release notes.
    pub notes: &'a str,
}

/// The releases folder.
#[derive(Debug)]
pub struct Releases {
    dir: PathBuf,
    lock: Mutex<()>,
}

fn bad(problem: impl std::fmt::Display) -> Error {
    Error::Invalid(problem.to_string())
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Internal(format!("{}: {e}", path.display()))
}

/// Writes `path` under a temporary name and renames it when complete: whole or absent.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, bytes).map_err(io(&partial))?;
    std::fs::rename(&partial, path).map_err(io(path))
}

fn decode_text(what: &str, b64: &str) -> Result<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| {
            bad(format!(
                "the {what} is not base64 ({e}); give the text tauri signer wrote"
            ))
        })?;
    String::from_utf8(bytes).map_err(|_| bad(format!("the {what} is not minisign text")))
}

/// Checks `signature` (base64 minisign, as the updater expects) over `data` with `pubkey`
/// (base64 minisign public key, as in `plugins.updater.pubkey`): the same check the app makes.
pub fn verify(pubkey: &str, data: &[u8], signature: &str) -> Result<()> {
    let pk = minisign_verify::PublicKey::decode(&decode_text("public key", pubkey)?)
        .map_err(|e| bad(format!("the updater public key is not a minisign key: {e}")))?;
    let sig = minisign_verify::Signature::decode(&decode_text("signature", signature)?)
        .map_err(|e| bad(format!("the signature is not a minisign signature: {e}")))?;
    pk.verify(data, &sig, true).map_err(|_| {
        bad("the signature does not match the file and the updater public key; sign this exact file with the project's key (npx tauri signer sign)")
    })
}

fn valid_name(part: &str, what: &str) -> Result<()> {
    if part.is_empty()
        || !part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(bad(format!(
            "{what} {part:?} must be letters, digits, - or _ (e.g. linux, x86_64)"
        )));
    }
    Ok(())
}

impl Releases {
    /// Opens (creating) the releases folder.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        Ok(Releases {
            dir: dir.to_path_buf(),
            lock: Mutex::new(()),
        })
    }

    fn index(&self) -> PathBuf {
        self.dir.join("releases.json")
    }

    /// Every release, oldest first.
    pub fn list(&self) -> Result<Vec<Release>> {
        let path = self.index();
        match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| Error::Internal(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Publishes `file` as `version` for `target`/`arch`, after checking its signature against
    /// `pubkey`. Refused: a bad version, a signature that does not verify, a version already
    /// published for that target and architecture.
    pub fn publish(&self, new: &NewRelease<'_>, pubkey: &str) -> Result<Release> {
        let NewRelease {
            target,
            arch,
            version,
            file,
            signature,
            notes,
        } = *new;
        valid_name(target, "target")?;
        valid_name(arch, "architecture")?;
        let v = semver::Version::parse(version).map_err(|e| {
            bad(format!(
                "version {version:?} is not a semantic version like 0.2.0 ({e})"
            ))
        })?;
        let data = std::fs::read(file).map_err(io(file))?;
        verify(pubkey, &data, signature)?;
        let _guard = self
            .lock
            .lock()
            .map_err(|_| Error::Internal("releases lock".into()))?;
        let mut all = self.list()?;
        if all
            .iter()
            .any(|r| r.target == target && r.arch == arch && r.version == v.to_string())
        {
            return Err(bad(format!(
                "{version} is already published for {target}/{arch}; publish a higher version"
            )));
        }
        let ext = file
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let stored = format!("siteline-{v}-{target}-{arch}{ext}");
        write_whole(&self.dir.join(&stored), &data)?;
        let release = Release {
            target: target.into(),
            arch: arch.into(),
            version: v.to_string(),
            notes: notes.trim().into(),
            pub_date: Utc::now(),
            file: stored,
            signature: signature.trim().into(),
        };
        all.push(release.clone());
        let index = serde_json::to_vec_pretty(&all).map_err(|e| Error::Internal(e.to_string()))?;
        write_whole(&self.index(), &index)?;
        Ok(release)
    }

    /// The newest release for `target`/`arch` above `current`, if any.
    pub fn newer(&self, target: &str, arch: &str, current: &str) -> Result<Option<Release>> {
        let current = semver::Version::parse(current).map_err(|e| {
            bad(format!(
                "current version {current:?} is not a semantic version ({e})"
            ))
        })?;
        Ok(self
            .list()?
            .into_iter()
            .filter(|r| r.target == target && r.arch == arch)
            .filter_map(|r| semver::Version::parse(&r.version).ok().map(|v| (v, r)))
            .filter(|(v, _)| *v > current)
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, r)| r))
    }

    /// The path of a stored release file, if `name` is one.
    pub fn file(&self, name: &str) -> Result<Option<PathBuf>> {
        Ok(self
            .list()?
            .into_iter()
            .find(|r| r.file == name)
            .map(|r| self.dir.join(r.file)))
    }
}
