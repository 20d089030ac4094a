//! Finding the site's other laptops on the LAN with mDNS / DNS-SD (service `_siteline._tcp`,
//! the `mdns-sd` crate): a laptop that answers LAN syncs announces its address with its site's
//! code and its device id; another laptop looks for a moment and lists those of its own site.
//! What is announced is only a hint: whoever connects is still checked by the certificate HQ
//! signed (`sync::peer`). Typing an address stays the fallback when multicast is blocked.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent, ServiceInfo};
use serde::Serialize;
use uuid::Uuid;

use crate::{Error, Result};

/// The DNS-SD service type Siteline laptops announce.
pub const SERVICE: &str = "_siteline._tcp.local.";

/// A laptop of the site found on the LAN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Found {
    /// Its device id.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub device_id: Uuid,
    /// Where it answers LAN syncs, `address:port`.
    pub address: String,
}

/// This laptop's announcement; it stops when dropped.
pub struct Announcement {
    daemon: ServiceDaemon,
}

impl Drop for Announcement {
    fn drop(&mut self) {
        let _ = self.daemon.shutdown();
    }
}

fn daemon(loopback: bool) -> Result<ServiceDaemon> {
    let daemon = ServiceDaemon::new().map_err(mdns_error)?;
    if loopback {
        // Laptops on one machine (tests, a demo) find each other on the loopback interface.
        daemon
            .enable_interface(IfKind::LoopbackV4)
            .map_err(mdns_error)?;
    }
    Ok(daemon)
}

fn mdns_error(e: mdns_sd::Error) -> Error {
    Error::PeerRefused(format!(
        "finding the site's laptops on the network failed ({e}); type the other laptop's address instead"
    ))
}

/// Announces that `device` of site `site_code` answers LAN syncs at `addr` (an unspecified
/// address announces every interface's).
pub fn announce(device: Uuid, site_code: &str, addr: SocketAddr) -> Result<Announcement> {
    let loopback = addr.ip().is_loopback();
    let daemon = daemon(loopback)?;
    let name = device.simple().to_string();
    let properties = [("site", site_code), ("device", name.as_str())];
    let host = format!("{name}.local.");
    let ip = if addr.ip().is_unspecified() {
        String::new()
    } else {
        addr.ip().to_string()
    };
    let mut info = ServiceInfo::new(
        SERVICE,
        &name,
        &host,
        ip.as_str(),
        addr.port(),
        &properties[..],
    )
    .map_err(mdns_error)?;
    if addr.ip().is_unspecified() {
        info = info.enable_addr_auto();
    }
    daemon.register(info).map_err(mdns_error)?;
    Ok(Announcement { daemon })
}

/// Looks for `wait` and returns the laptops of site `site_code` that announce themselves (not
/// `own`), one address each (IPv4 first).
pub fn discover(own: Uuid, site_code: &str, wait: Duration, loopback: bool) -> Result<Vec<Found>> {
    let daemon = daemon(loopback)?;
    let events = daemon.browse(SERVICE).map_err(mdns_error)?;
    let mut found: BTreeMap<Uuid, SocketAddr> = BTreeMap::new();
    let end = Instant::now() + wait;
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        let Ok(event) = events.recv_timeout(left) else {
            break;
        };
        let ServiceEvent::ServiceResolved(info) = event else {
            continue;
        };
        if info.get_property_val_str("site") != Some(site_code) {
            continue;
        }
        let Some(device) = info
            .get_property_val_str("device")
            .and_then(|d| Uuid::parse_str(d).ok())
            .filter(|d| *d != own)
        else {
            continue;
        };
        let mut addresses: Vec<IpAddr> = info.get_addresses().iter().copied().collect();
        addresses.sort_by_key(|a| (!a.is_ipv4(), a.is_loopback() != loopback));
        if let Some(ip) = addresses.first() {
            found.insert(device, SocketAddr::new(*ip, info.get_port()));
        }
    }
    let _ = daemon.shutdown();
    Ok(found
        .into_iter()
        .map(|(device_id, addr)| Found {
            device_id,
            address: addr.to_string(),
        })
        .collect())
}
