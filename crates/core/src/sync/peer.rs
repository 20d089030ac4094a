//! LAN sync between the devices of one site, with no internet (docs/SYNC.md, "Several devices,
//! one site"). Two devices open a Noise channel (`Noise_XX_25519_ChaChaPoly_SHA256`, from the
//! `snow` crate: encrypted, forward-secret), then each shows the certificate HQ signed at its
//! enrolment and proves it holds that certificate's key by signing the channel's handshake
//! hash. Each checks the other offline against HQ's pinned key: the same site, not itself, not
//! revoked. Then each pulls from the other the site's operations it lacks, page by page, each
//! page applied in one transaction (`replica::receive_all`), so a cut connection resumes where
//! it stopped. The operations are the same ones HQ relays; a device serves its own and every
//! other device's it holds (store and forward), each exactly once by its identity.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use siteline_proto::OutboxRow;
use siteline_proto::sync::{
    DEVICE_CERTIFICATE_FORMAT, DeviceCertificate, SignedDeviceCertificate,
    device_certificate_signing_string,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

use super::identity::Identity;
use super::{bundle, forward, outgoing};
use crate::store::db::Db;
use crate::store::replica::{self, Received, Via};
use crate::store::{Site, outbox};
use crate::{Error, Result};
use std::sync::Arc;

const NOISE: &str = "Noise_XX_25519_ChaChaPoly_SHA256";
/// Noise's largest message, and the plaintext that fits in one with its tag.
const NOISE_MAX: usize = 65_535;
const CHUNK: usize = NOISE_MAX - 16;
/// The largest message a peer may send (a page of rows): a hostile peer cannot make this
/// device buffer more.
const MAX_MESSAGE: usize = 32 << 20;
/// A page of rows, by JSON bytes.
const PAGE_BYTES: usize = 1 << 20;
/// Messages from this size on travel compressed.
const PACK_FROM: usize = 4 << 10;
/// A peer silent this long is dropped (the sync resumes next time).
const IDLE: Duration = Duration::from_secs(30);

/// Signs a device certificate with HQ's key (what HQ does at enrolment; the demo's stand-in HQ
/// and tests use it too).
pub fn certify(
    hq: &SigningKey,
    device_id: Uuid,
    site_id: Uuid,
    site_code: &str,
    public_key: &str,
) -> SignedDeviceCertificate {
    let certificate = DeviceCertificate {
        format: DEVICE_CERTIFICATE_FORMAT.into(),
        device_id,
        site_id,
        site_code: site_code.into(),
        public_key: public_key.into(),
        issued_at: chrono::Utc::now(),
    };
    // A struct of strings, ids and a date: serialising it cannot fail.
    let body = serde_json::to_string(&certificate).unwrap_or_default();
    let signature = hq.sign(device_certificate_signing_string(&body).as_bytes());
    SignedDeviceCertificate {
        body,
        signature: B64.encode(signature.to_bytes()),
    }
}

/// Checks a device certificate against HQ's public key and returns what it certifies.
pub fn verify_certificate(
    hq_key: &[u8; 32],
    signed: &SignedDeviceCertificate,
) -> Result<DeviceCertificate> {
    let bad = |why: &str| Error::PeerRefused(format!("the device certificate {why}"));
    let key = VerifyingKey::from_bytes(hq_key)
        .map_err(|_| bad("cannot be checked: HQ's pinned key is damaged"))?;
    let signature = B64
        .decode(signed.signature.trim())
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(|| bad("carries no valid signature"))?;
    key.verify(
        device_certificate_signing_string(&signed.body).as_bytes(),
        &signature,
    )
    .map_err(|_| bad("was not signed by this device's HQ"))?;
    let certificate: DeviceCertificate =
        serde_json::from_str(&signed.body).map_err(|_| bad("is not a device certificate"))?;
    if certificate.format != DEVICE_CERTIFICATE_FORMAT {
        return Err(bad("has an unknown format"));
    }
    Ok(certificate)
}

/// What one LAN sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PeerReport {
    /// The other device.
    pub peer: Uuid,
    /// The other device's site code, as HQ certified it.
    pub peer_site_code: String,
    /// Operations received from it and applied (or held for a parent).
    pub received: u64,
    /// Operations it received from this device.
    pub sent: u64,
    /// Bytes on the wire, both ways (encrypted, framed, pages compressed).
    pub bytes: u64,
}

/// How far a device holds each writer's operations: `(device, epoch) → highest seq`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Have(Vec<(Uuid, u32, u64)>);

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Message {
    /// Who I am: HQ's certificate, and my signature over this channel's handshake hash.
    Hello {
        certificate: SignedDeviceCertificate,
        proof: String,
    },
    /// The peer's certificate and proof check out: go on.
    Accepted,
    /// The peer will not talk to me, and why.
    Refused { message: String },
    /// Send me what I lack beyond `have`, after `after` (the last stamp of the previous page).
    Want { have: Have, after: Option<String> },
    /// A page of operations in stamp order; `remaining` counts what is left after it.
    Rows {
        rows: Vec<OutboxRow>,
        remaining: u64,
    },
    /// I have pulled all I lack: your turn to pull from me.
    Done,
    /// For HQ: my pending operations as a bundle I signed (to deliver when you reach HQ), and
    /// HQ's answers you carry for me I asked for (store and forward, `sync::forward`).
    Carry {
        bundle: Option<siteline_proto::sync::SyncBundle>,
        answers: Vec<siteline_proto::sync::BundleAnswer>,
    },
}

/// The most a laptop hands another to carry to HQ in one LAN sync (JSON of the operations).
const CARRY_BYTES: usize = 4 << 20;

/// This device's standing for the LAN: who it is and what it checks others against.
struct Local {
    device: Uuid,
    site_id: Uuid,
    hq_key: [u8; 32],
    certificate: SignedDeviceCertificate,
}

fn local(site: &Site) -> Result<Local> {
    let device = outbox::device(site.conn())?.device_id;
    let row: (
        Option<Uuid>,
        Option<Vec<u8>>,
        Option<String>,
        Option<String>,
    ) = site.conn().query_row(
        "SELECT site_id, hq_public_key, device_certificate, revoked_at FROM sync_state",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let (Some(site_id), Some(key), Some(certificate)) = (row.0, row.1, row.2) else {
        return Err(Error::PeerRefused(
            "this device is not enrolled with HQ: enrol it once (HQ's certificate is what the site's other devices check)".into(),
        ));
    };
    if row.3.is_some() {
        return Err(Error::PeerRefused(
            "HQ revoked this device: it cannot sync with HQ or with the site's other devices"
                .into(),
        ));
    }
    Ok(Local {
        device,
        site_id,
        hq_key: key
            .try_into()
            .map_err(|_| Error::PeerRefused("HQ's pinned key is damaged; enrol again".into()))?,
        certificate: serde_json::from_str(&certificate)?,
    })
}

/// An encrypted, framed channel over one TCP connection.
struct Channel {
    stream: TcpStream,
    noise: snow::TransportState,
    handshake_hash: Vec<u8>,
    bytes: u64,
}

async fn read_frame(stream: &mut TcpStream) -> Result<Vec<u8>> {
    let mut len = [0u8; 2];
    tokio::time::timeout(IDLE, stream.read_exact(&mut len))
        .await
        .map_err(|_| peer_gone("stopped answering"))?
        .map_err(lost)?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    tokio::time::timeout(IDLE, stream.read_exact(&mut buf))
        .await
        .map_err(|_| peer_gone("stopped answering"))?
        .map_err(lost)?;
    Ok(buf)
}

async fn write_frame(stream: &mut TcpStream, bytes: &[u8]) -> Result<()> {
    // Noise messages are at most 65,535 bytes, so the length always fits in two.
    let len = u16::try_from(bytes.len()).map_err(|_| peer_gone("sent a frame too large"))?;
    stream.write_all(&len.to_be_bytes()).await.map_err(lost)?;
    stream.write_all(bytes).await.map_err(lost)?;
    Ok(())
}

fn lost(e: std::io::Error) -> Error {
    Error::PeerRefused(format!(
        "the connection to the other device was lost ({e}); try LAN sync again: it resumes where it stopped"
    ))
}

fn peer_gone(what: &str) -> Error {
    Error::PeerRefused(format!("the other device {what}; try LAN sync again"))
}

fn noise_error(e: snow::Error) -> Error {
    Error::PeerRefused(format!(
        "the encrypted channel failed ({e}): the other device is not a Siteline device of this version, or the network altered the data"
    ))
}

impl Channel {
    async fn open(mut stream: TcpStream, initiator: bool) -> Result<Channel> {
        let builder = snow::Builder::new(NOISE.parse().map_err(noise_error)?);
        let keys = builder.generate_keypair().map_err(noise_error)?;
        let builder = builder.local_private_key(&keys.private);
        let mut hs = if initiator {
            builder.build_initiator()
        } else {
            builder.build_responder()
        }
        .map_err(noise_error)?;
        let mut buf = vec![0u8; NOISE_MAX];
        let mut payload = vec![0u8; NOISE_MAX];
        // XX: initiator writes, responder writes, initiator writes.
        for step in 0..3 {
            let my_turn = (step % 2 == 0) == initiator;
            if my_turn {
                let n = hs.write_message(&[], &mut buf).map_err(noise_error)?;
                write_frame(&mut stream, &buf[..n]).await?;
            } else {
                let frame = read_frame(&mut stream).await?;
                hs.read_message(&frame, &mut payload).map_err(noise_error)?;
            }
        }
        let handshake_hash = hs.get_handshake_hash().to_vec();
        Ok(Channel {
            stream,
            noise: hs.into_transport_mode().map_err(noise_error)?,
            handshake_hash,
            bytes: 0,
        })
    }

    async fn send(&mut self, message: &Message) -> Result<()> {
        let body = pack(&serde_json::to_vec(message)?)?;
        let mut framed = (body.len() as u32).to_be_bytes().to_vec();
        framed.extend_from_slice(&body);
        let mut buf = vec![0u8; NOISE_MAX];
        for chunk in framed.chunks(CHUNK) {
            let n = self
                .noise
                .write_message(chunk, &mut buf)
                .map_err(noise_error)?;
            write_frame(&mut self.stream, &buf[..n]).await?;
            self.bytes += n as u64 + 2;
        }
        self.stream.flush().await.map_err(lost)?;
        Ok(())
    }

    async fn recv(&mut self) -> Result<Message> {
        let mut out = vec![0u8; NOISE_MAX];
        let mut plain: Vec<u8> = Vec::new();
        let mut want: Option<usize> = None;
        loop {
            let frame = read_frame(&mut self.stream).await?;
            self.bytes += frame.len() as u64 + 2;
            let n = self
                .noise
                .read_message(&frame, &mut out)
                .map_err(noise_error)?;
            plain.extend_from_slice(&out[..n]);
            if want.is_none() && plain.len() >= 4 {
                let len = u32::from_be_bytes([plain[0], plain[1], plain[2], plain[3]]) as usize;
                if len > MAX_MESSAGE {
                    return Err(peer_gone("sent a message over the size limit"));
                }
                want = Some(len + 4);
            }
            if let Some(total) = want
                && plain.len() >= total
            {
                let json = unpack(&plain[4..total])?;
                return serde_json::from_slice(&json)
                    .map_err(|_| peer_gone("sent something that is not a Siteline message"));
            }
        }
    }

    /// Shows our certificate and proof, checks theirs: the same site, not us, not revoked.
    async fn introduce(
        &mut self,
        db: &Db,
        me: &Local,
        identity: &Identity,
        initiator: bool,
    ) -> Result<DeviceCertificate> {
        let proof = identity.sign(&proof_text(initiator, &self.handshake_hash));
        self.send(&Message::Hello {
            certificate: me.certificate.clone(),
            proof,
        })
        .await?;
        let (certificate, their_proof) = match self.recv().await? {
            Message::Hello { certificate, proof } => (certificate, proof),
            Message::Refused { message } => return Err(Error::PeerRefused(message)),
            _ => return Err(peer_gone("did not introduce itself")),
        };
        let checked = check_peer(
            db,
            me,
            &certificate,
            &their_proof,
            !initiator,
            &self.handshake_hash,
        )
        .await;
        // Each side says what it found, so both users see why a sync did not happen.
        let verdict = match &checked {
            Ok(_) => Message::Accepted,
            Err(e) => Message::Refused {
                message: format!("device {} refused this device: {e}", me.device),
            },
        };
        self.send(&verdict).await?;
        let Ok(theirs) = checked else {
            // Wait for the other side's verdict before closing, so ours reaches it whole.
            let _ = self.recv().await;
            return checked;
        };
        match self.recv().await? {
            Message::Accepted => Ok(theirs),
            Message::Refused { message } => Err(Error::PeerRefused(message)),
            _ => Err(peer_gone("did not answer the introduction")),
        }
    }
}

/// A message's JSON as it goes in the channel: a page of operations gzip'd (they shrink about
/// tenfold, which a classroom's Wi-Fi feels), a small message as it is. The first byte says
/// which.
fn pack(json: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    if json.len() < PACK_FROM {
        return Ok([&[0u8][..], json].concat());
    }
    let mut gz = flate2::write::GzEncoder::new(vec![1u8], flate2::Compression::fast());
    gz.write_all(json).map_err(lost)?;
    gz.finish().map_err(lost)
}

/// The JSON of a packed message; a compressed one may not expand past the message limit.
fn unpack(body: &[u8]) -> Result<Vec<u8>> {
    use std::io::Read;
    match body.split_first() {
        Some((0, json)) => Ok(json.to_vec()),
        Some((1, gz)) => {
            let mut json = Vec::new();
            flate2::read::GzDecoder::new(gz)
                .take(MAX_MESSAGE as u64 + 1)
                .read_to_end(&mut json)
                .map_err(|_| peer_gone("sent a damaged compressed message"))?;
            if json.len() > MAX_MESSAGE {
                return Err(peer_gone("sent a message that expands past the size limit"));
            }
            Ok(json)
        }
        _ => Err(peer_gone("sent something that is not a Siteline message")),
    }
}

fn proof_text(initiator: bool, handshake_hash: &[u8]) -> String {
    let hex: String = handshake_hash.iter().map(|b| format!("{b:02x}")).collect();
    let role = if initiator { "initiator" } else { "responder" };
    format!("siteline-lan-v1\n{role}\n{hex}")
}

async fn check_peer(
    db: &Db,
    me: &Local,
    certificate: &SignedDeviceCertificate,
    proof: &str,
    peer_is_initiator: bool,
    handshake_hash: &[u8],
) -> Result<DeviceCertificate> {
    let theirs = verify_certificate(&me.hq_key, certificate)?;
    if theirs.site_id != me.site_id {
        return Err(Error::PeerRefused(format!(
            "device {} belongs to another site ({}); devices sync only within their own site",
            theirs.device_id, theirs.site_code
        )));
    }
    if theirs.device_id == me.device {
        return Err(Error::PeerRefused(
            "that address is this device itself".into(),
        ));
    }
    let id = theirs.device_id;
    let revoked = db
        .call(move |site| {
            Ok(site
                .conn()
                .prepare_cached("SELECT 1 FROM revoked_device WHERE device_id = ?1")?
                .exists([id])?)
        })
        .await?;
    if revoked {
        return Err(Error::PeerRefused(format!(
            "HQ revoked device {id}: it cannot sync with this site any more"
        )));
    }
    let key: [u8; 32] = B64
        .decode(theirs.public_key.trim())
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| Error::PeerRefused("the certificate's device key is damaged".into()))?;
    let key = VerifyingKey::from_bytes(&key)
        .map_err(|_| Error::PeerRefused("the certificate's device key is damaged".into()))?;
    let signature = B64
        .decode(proof.trim())
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(|| Error::PeerRefused("the other device sent no valid proof".into()))?;
    key.verify(
        proof_text(peer_is_initiator, handshake_hash).as_bytes(),
        &signature,
    )
    .map_err(|_| {
        Error::PeerRefused(
            "the other device showed a certificate whose key it does not hold".into(),
        )
    })?;
    Ok(theirs)
}

/// Hands the peer this device's pending operations as a signed bundle for HQ and HQ's answers
/// this device carries for the peer, and takes the same from it.
async fn carry(
    channel: &mut Channel,
    db: &Db,
    identity: &Arc<Identity>,
    me: Uuid,
    peer: Uuid,
) -> Result<()> {
    let signer = identity.clone();
    let (bundle, answers) = db
        .call(move |site| {
            let pending = outbox::pending_summary(site.conn())?.0;
            let bundle = (pending > 0)
                .then(|| bundle::export_within(site, &signer, CARRY_BYTES))
                .transpose()?;
            Ok((bundle, forward::answers_for(site, peer)?))
        })
        .await?;
    channel.send(&Message::Carry { bundle, answers }).await?;
    let (theirs, for_me) = match channel.recv().await? {
        Message::Carry { bundle, answers } => (bundle, answers),
        Message::Refused { message } => return Err(Error::PeerRefused(message)),
        _ => return Err(peer_gone("answered out of turn")),
    };
    db.call(move |site| {
        if let Some(b) = theirs.filter(|b| b.device_id == peer) {
            forward::keep_bundle(site, &b)?;
        }
        forward::delivered_answers(site, peer)?;
        for answer in for_me.iter().filter(|a| a.device_id == me) {
            // An answer already applied, or to a bundle this device never made, changes
            // nothing; the device's own sync with HQ settles the rest.
            if let Err(e) = bundle::import_answer(site, answer) {
                tracing::info!(error = %e, "a carried answer was not applied");
            }
        }
        Ok(())
    })
    .await
}

/// Syncs with the site device at `addr` (both ways) and returns what moved. `progress` is
/// told (received so far, still to come) after each page.
pub async fn sync_with(
    db: &Db,
    identity: &Arc<Identity>,
    addr: SocketAddr,
    progress: impl Fn(u64, u64) + Send,
) -> Result<PeerReport> {
    let me = db.call(|site| local(site)).await?;
    let stream = tokio::time::timeout(IDLE, TcpStream::connect(addr))
        .await
        .map_err(|_| Error::PeerRefused(format!("no Siteline device answers at {addr}")))?
        .map_err(|e| Error::PeerRefused(format!("no Siteline device answers at {addr} ({e})")))?;
    stream.set_nodelay(true).map_err(lost)?;
    let mut channel = Channel::open(stream, true).await?;
    let peer = channel.introduce(db, &me, identity, true).await?;
    carry(&mut channel, db, identity, me.device, peer.device_id).await?;
    let received = pull(&mut channel, db, &progress).await?;
    channel.send(&Message::Done).await?;
    let sent = serve(&mut channel, db).await?;
    Ok(PeerReport {
        peer: peer.device_id,
        peer_site_code: peer.site_code,
        received,
        sent,
        bytes: channel.bytes,
    })
}

/// Answers one device that connected to this one.
pub async fn answer(db: &Db, identity: &Arc<Identity>, stream: TcpStream) -> Result<PeerReport> {
    let me = db.call(|site| local(site)).await?;
    stream.set_nodelay(true).map_err(lost)?;
    let mut channel = Channel::open(stream, false).await?;
    let peer = channel.introduce(db, &me, identity, false).await?;
    carry(&mut channel, db, identity, me.device, peer.device_id).await?;
    let sent = serve(&mut channel, db).await?;
    let received = pull(&mut channel, db, &|_, _| {}).await?;
    channel.send(&Message::Done).await?;
    Ok(PeerReport {
        peer: peer.device_id,
        peer_site_code: peer.site_code,
        received,
        sent,
        bytes: channel.bytes,
    })
}

/// Accepts LAN syncs on `listener` until the task is dropped, one connection at a time per
/// peer; a refused or failed peer is logged and the next one served.
pub async fn listen(db: Db, identity: Arc<Identity>, listener: tokio::net::TcpListener) {
    loop {
        let Ok((stream, from)) = listener.accept().await else {
            continue;
        };
        let (db, identity) = (db.clone(), identity.clone());
        tokio::spawn(async move {
            match answer(&db, &identity, stream).await {
                Ok(r) => {
                    tracing::info!(%from, peer = %r.peer, received = r.received, sent = r.sent, "LAN sync")
                }
                Err(e) => tracing::warn!(%from, error = %e, "LAN sync refused or failed"),
            }
        });
    }
}

/// Pulls every operation this device lacks, a page per transaction.
async fn pull(
    channel: &mut Channel,
    db: &Db,
    progress: &(impl Fn(u64, u64) + Send),
) -> Result<u64> {
    let mut after: Option<String> = None;
    let mut received = 0u64;
    loop {
        let have = db.call(|site| have(site)).await?;
        channel
            .send(&Message::Want {
                have,
                after: after.clone(),
            })
            .await?;
        let (rows, remaining) = match channel.recv().await? {
            Message::Rows { rows, remaining } => (rows, remaining),
            Message::Refused { message } => return Err(Error::PeerRefused(message)),
            _ => return Err(peer_gone("answered out of turn")),
        };
        let Some(last) = rows.last() else {
            return Ok(received);
        };
        after = Some(last.hlc.to_string());
        let n = rows.len() as u64;
        let outcome = db
            .call(move |site| replica::receive_all(site, &rows, Via::Lan))
            .await?;
        received += outcome
            .iter()
            .filter(|r| **r != Received::AlreadyHad)
            .count() as u64;
        progress(received, remaining);
        if remaining == 0 || n == 0 {
            return Ok(received);
        }
    }
}

/// Serves the peer's pulls until it says it is done.
async fn serve(channel: &mut Channel, db: &Db) -> Result<u64> {
    let mut sent = 0u64;
    loop {
        match channel.recv().await? {
            Message::Want { have, after } => {
                let (rows, remaining) = db
                    .call(move |site| page(site, &have, after.as_deref()))
                    .await?;
                sent += rows.len() as u64;
                channel.send(&Message::Rows { rows, remaining }).await?;
            }
            Message::Done => return Ok(sent),
            Message::Refused { message } => return Err(Error::PeerRefused(message)),
            _ => return Err(peer_gone("asked out of turn")),
        }
    }
}

/// What this device holds of each writer (applied or held).
fn have(site: &Site) -> Result<Have> {
    let rows = site
        .conn()
        .prepare_cached(
            "SELECT device_id, epoch, max(seq) FROM (
                 SELECT device_id, epoch, seq FROM site_event
                 UNION ALL SELECT device_id, epoch, seq FROM replica_held)
             GROUP BY device_id, epoch",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Have(rows))
}

/// The next page of operations the peer lacks, in stamp order (which keeps every writer's
/// seq order and puts what a device saw before what it wrote after), and how many are left.
fn page(site: &Site, have: &Have, after: Option<&str>) -> Result<(Vec<OutboxRow>, u64)> {
    let known: BTreeMap<(Uuid, u32), u64> = have.0.iter().map(|(d, e, s)| ((*d, *e), *s)).collect();
    let own = outbox::device(site.conn())?.device_id;
    let mut stmt = site.conn().prepare_cached(
        "SELECT device_id, epoch, seq, entity, op, record_id, payload, recorded_at, hlc
         FROM site_event WHERE hlc > ?1 AND payload IS NOT NULL ORDER BY hlc",
    )?;
    let mut rows = stmt.query([after.unwrap_or("")])?;
    let mut out = Vec::new();
    let mut bytes = 0usize;
    let mut remaining = 0u64;
    while let Some(r) = rows.next()? {
        let (device, epoch, seq): (Uuid, u32, u64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        if known
            .get(&(device, epoch))
            .is_some_and(|through| seq <= *through)
        {
            continue;
        }
        if bytes >= PAGE_BYTES {
            remaining += 1;
            continue;
        }
        let entity: String = r.get(3)?;
        let op: String = r.get(4)?;
        let payload: String = r.get(6)?;
        let hlc: String = r.get(8)?;
        let mut row = OutboxRow {
            device_id: device,
            epoch,
            seq,
            entity: siteline_proto::Entity::parse(&entity)
                .ok_or_else(|| Error::invalid("site_event.entity", entity.clone()))?,
            op: siteline_proto::Op::parse(&op)
                .ok_or_else(|| Error::invalid("site_event.op", op.clone()))?,
            record_id: r.get(5)?,
            payload: serde_json::from_str(&payload)?,
            recorded_at: r.get(7)?,
            hlc: outbox::parse_stamp(&hlc)?,
        };
        if device == own {
            outgoing::prepare_for_site(site, &mut row)?;
        }
        bytes += row.payload.to_string().len() + 200;
        out.push(row);
    }
    Ok((out, remaining))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_message_unpacks_to_itself_and_a_bomb_is_refused() {
        let small = br#"{"type":"done"}"#.to_vec();
        assert_eq!(pack(&small).unwrap()[0], 0);
        assert_eq!(unpack(&pack(&small).unwrap()).unwrap(), small);
        let page =
            serde_json::to_vec(&vec!["王老师 check_in 2026-09-01T01:00:00Z"; 2_000]).unwrap();
        let packed = pack(&page).unwrap();
        assert_eq!(packed[0], 1);
        assert!(
            packed.len() * 10 < page.len(),
            "{} of {}",
            packed.len(),
            page.len()
        );
        assert_eq!(unpack(&packed).unwrap(), page);
        // 40 MiB of zeros compresses to a few KiB: refused, not buffered whole.
        let bomb = pack(&vec![0u8; 40 << 20]).unwrap();
        assert!(bomb.len() < 1 << 20);
        let err = unpack(&bomb).unwrap_err();
        assert!(err.to_string().contains("size limit"), "{err}");
        assert!(unpack(&[9, 1, 2]).is_err());
        assert!(unpack(&[]).is_err());
    }
}
