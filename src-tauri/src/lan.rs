//! This device on the site's LAN: it answers LAN syncs from the site's other devices once it is
//! enrolled (HQ's certificate is what they check), on `SITELINE_LAN_ADDR` or port 47631 of
//! every interface, and tells the devices screen the address to type on another laptop.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use siteline_core::sync::{discovery, engine, peer};

use crate::error::CommandError;
use crate::state::Shell;

/// The port a device listens on unless `SITELINE_LAN_ADDR` says otherwise.
pub const DEFAULT_PORT: u16 = 47631;

/// Starts answering LAN syncs in the background, if the device is enrolled and not already
/// listening; a problem (the port is taken) is kept for the devices screen.
pub async fn start(shell: &Shell) {
    if shell.lan().address.is_some() {
        return;
    }
    let Some((_, site_code)) = shell.db.call(|s| engine::enrolment(s)).await.ok().flatten() else {
        shell.lan().problem = Some("not_enrolled".into());
        return;
    };
    let bind =
        std::env::var("SITELINE_LAN_ADDR").unwrap_or_else(|_| format!("0.0.0.0:{DEFAULT_PORT}"));
    let identity = match shell.identity() {
        Ok(i) => Arc::new(i),
        Err(e) => {
            shell.lan().problem = Some(e.message);
            return;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&bind).await {
        Ok(l) => l,
        Err(e) => {
            shell.lan().problem = Some(format!("{bind}: {e}"));
            return;
        }
    };
    let port = listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or(DEFAULT_PORT);
    let host = listener
        .local_addr()
        .ok()
        .filter(|a| !a.ip().is_unspecified())
        .map(|a| a.ip().to_string())
        .or_else(lan_ip)
        .unwrap_or_else(|| "127.0.0.1".into());
    {
        let mut lan = shell.lan();
        lan.address = Some(format!("{host}:{port}"));
        lan.problem = None;
    }
    // Announced by mDNS so the site's other laptops find it; typing the address still works
    // where multicast is blocked.
    if let (Ok(addr), Ok(device)) = (
        listener.local_addr(),
        shell
            .db
            .call(|s| Ok(siteline_core::store::outbox::device(s.conn())?.device_id))
            .await,
    ) {
        match discovery::announce(device, &site_code, addr) {
            Ok(a) => *shell.announcement() = Some(a),
            Err(e) => eprintln!("not announced on the LAN: {e}"),
        }
    }
    tauri::async_runtime::spawn(peer::listen(shell.db.clone(), identity, listener));
}

/// This machine's address on its LAN (the interface a route to a private address leaves by;
/// nothing is sent).
fn lan_ip() -> Option<String> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("10.255.255.255:1").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then(|| ip.to_string())
}

/// `host:port` (or `host`, meaning the default port) as typed by the user.
pub fn resolve(address: &str) -> Result<SocketAddr, CommandError> {
    let address = address.trim();
    let with_port = if address.contains(':') {
        address.to_string()
    } else {
        format!("{address}:{DEFAULT_PORT}")
    };
    with_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| {
            siteline_core::Error::invalid(
                "lan.address",
                format!("{address} is not an address on this network; type it as shown on the other device, e.g. 192.168.1.20:{DEFAULT_PORT}"),
            )
            .into()
        })
}
