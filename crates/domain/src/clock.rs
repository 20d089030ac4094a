//! The hybrid logical clock rule (docs/SYNC.md, "Clocks"): how a device issues the stamp of
//! each operation it writes ([`tick`]) and moves its clock past every stamp it receives from
//! another device ([`observe`]). A stamp is never behind one the device has seen, so an event
//! written after another was seen always orders after it, even when the device's wall clock is
//! a year behind; concurrent events order by wall time, counter, then device id.

use siteline_proto::hlc::{Hlc, MAX_COUNTER};

/// The stamp of a new local event, from the device's last stamp and its wall clock.
pub fn tick(last: Hlc, now_ms: u64) -> Hlc {
    if now_ms > last.wall_ms {
        Hlc {
            wall_ms: now_ms,
            counter: 0,
            device: last.device,
        }
    } else {
        bump(last.wall_ms, last.counter, last.device)
    }
}

/// The device's clock after it receives `remote` (another device's stamp): later than both
/// the device's last stamp and `remote`.
pub fn observe(last: Hlc, remote: Hlc, now_ms: u64) -> Hlc {
    let wall = now_ms.max(last.wall_ms).max(remote.wall_ms);
    if wall == now_ms && wall > last.wall_ms && wall > remote.wall_ms {
        return Hlc {
            wall_ms: wall,
            counter: 0,
            device: last.device,
        };
    }
    let counter = match (wall == last.wall_ms, wall == remote.wall_ms) {
        (true, true) => last.counter.max(remote.counter),
        (true, false) => last.counter,
        (false, true) => remote.counter,
        (false, false) => 0,
    };
    bump(wall, counter, last.device)
}

fn bump(wall_ms: u64, counter: u32, device: uuid::Uuid) -> Hlc {
    if counter >= MAX_COUNTER {
        // A million events in one millisecond: borrow the next millisecond rather than
        // overflow the counter's six digits.
        Hlc {
            wall_ms: wall_ms + 1,
            counter: 0,
            device,
        }
    } else {
        Hlc {
            wall_ms,
            counter: counter + 1,
            device,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn stamp() -> impl Strategy<Value = Hlc> {
        (0u64..5_000, 0u32..5, 0u128..4).prop_map(|(wall_ms, counter, d)| Hlc {
            wall_ms,
            counter,
            device: Uuid::from_u128(d),
        })
    }

    proptest! {
        #[test]
        fn a_new_event_is_later_than_everything_the_device_saw(
            last in stamp(),
            now in 0u64..5_000,
            remote in stamp(),
        ) {
            let next = tick(last, now);
            prop_assert!((next.wall_ms, next.counter) > (last.wall_ms, last.counter));
            prop_assert_eq!(next.device, last.device);
            let seen = observe(last, remote, now);
            prop_assert!((seen.wall_ms, seen.counter) > (last.wall_ms, last.counter));
            prop_assert!((seen.wall_ms, seen.counter) > (remote.wall_ms, remote.counter));
            // The next event after receiving orders after the received one, whatever the
            // wall clock says.
            prop_assert!(tick(seen, now) > remote);
        }
    }

    #[test]
    fn a_clock_a_year_behind_still_orders_after_what_it_received() {
        let year_ms = 365 * 24 * 3_600_000u64;
        let me = Hlc::zero(Uuid::from_u128(1));
        let ahead = Hlc {
            wall_ms: 10 * year_ms,
            counter: 4,
            device: Uuid::from_u128(2),
        };
        let seen = observe(me, ahead, 9 * year_ms);
        assert_eq!((seen.wall_ms, seen.counter), (10 * year_ms, 5));
        assert!(tick(seen, 9 * year_ms) > ahead);
    }

    #[test]
    fn a_full_counter_moves_to_the_next_millisecond() {
        let last = Hlc {
            wall_ms: 7,
            counter: MAX_COUNTER,
            device: Uuid::nil(),
        };
        assert_eq!((tick(last, 7).wall_ms, tick(last, 7).counter), (8, 0));
    }
}
