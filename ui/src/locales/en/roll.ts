// The roll call.
export default {
  roll: {
    markedOf: "{marked} of {total} marked",
    title: "Roll call",
    keys: "Keyboard: ↑↓ choose, P present, L late, A absent, E excused; each mark is saved at once.",
    status: "Status",
    minutes: "Minutes",
    mark: "Mark",
    allPresent: "Everyone else present",
    close: "Close session",
    closeConfirm: "After closing, only a site manager can correct this session. Close it?",
    closed: "Closed",
    open: "Open",
    takenOn: "taken by {who} on device {device}",
  },
};
