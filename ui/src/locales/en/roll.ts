// The roll call.
export default {
  roll: {
    left: "Left early",
    leftHint: "Leaving now: hours count up to this time",
    correct: "Correct",
    correctHint: "The session is closed: a correction needs a reason and is recorded in the site manager's name; the earlier mark is kept.",
    corrected: "Corrected by {who}: {reason}",
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
