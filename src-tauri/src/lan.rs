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

/// What a laptop's QR code holds: its LAN address as a `siteline-lan://host:port?device=…`
/// link. A QR scanner (which types what it reads, as a keyboard does) fills the address box
/// with it.
pub const LINK_SCHEME: &str = "siteline-lan://";

/// `host:port` (or `host`, meaning the default port) as typed by the user, or a laptop's
/// `siteline-lan://host:port?device=…` link as a QR scanner types it.
pub fn resolve(address: &str) -> Result<SocketAddr, CommandError> {
    let typed = address.trim();
    let address = match typed.get(..LINK_SCHEME.len()) {
        Some(head) if head.eq_ignore_ascii_case(LINK_SCHEME) => typed[LINK_SCHEME.len()..]
            .split(['?', '#', '/'])
            .next()
            .unwrap_or_default(),
        _ => typed,
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_typed_or_scanned_from_a_laptops_qr_code() {
        let want: SocketAddr = "192.168.1.20:47631"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        for input in [
            "192.168.1.20:47631",
            "  192.168.1.20:47631 ",
            "siteline-lan://192.168.1.20:47631?device=01a237b1970f77989b69fbcbcecc456b",
            "SITELINE-LAN://192.168.1.20:47631",
        ] {
            assert_eq!(resolve(input).ok(), Some(want), "{input}");
        }
        assert_eq!(
            resolve("192.168.1.20").ok().map(|a| a.port()),
            Some(DEFAULT_PORT)
        );
        for bad in [
            "siteline-lan://",
            "siteline-lan://?device=x",
            "not an address!",
            "",
        ] {
            let err = resolve(bad).err().map(|e| e.message).unwrap_or_default();
            assert!(err.contains("e.g. 192.168.1.20"), "{bad}: {err}");
        }
    }
}
