// Corrections of a learner's or a cohort's details, their history, and the overlap queue.
export default {
  edits: {
    field: { name: "Name", phone: "Mobile", dates: "Dates", capacity: "Places" },
    removed: "(removed)",
    thisDevice: "this laptop",
    otherDevice: "laptop {device}",
    history: "Changes",
    editLearner: "Edit details",
    editCohort: "Edit cohort details",
    phoneHint: "Leave empty to keep it; type a new number to replace it",
    removePhone: "Remove the mobile number",
    saved: "Changes saved",
    overlapTitle: "Details changed on two laptops at once",
    overlapHint: "Two laptops changed the same detail before they synced. The later change is shown, the same on every laptop of the site; confirm which one to keep.",
    overlapNone: "No changes to confirm",
    record: "Record",
    kept: "Shown now",
    unseen: "Overwritten change",
    keep: "Keep the value shown",
    useThis: "Use this value",
  },
};
