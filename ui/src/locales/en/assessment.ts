// Assessments.
export default {
  assessment: {
    title: "Assessment",
    theory: "Theory exam",
    practical: "Practical test",
    review: "Comprehensive review",
    record: "Record results",
    item: "Item",
    points: "Points",
    critical: "Critical",
    criticalFailed: "Failed",
    total: "Total",
    attempts: "Attempts",
    component: "Component",
    score: "Score",
    lock: "Lock",
    locked: "Locked",
    correct: "Correct",
    corrected: "corrected",
    correctHint: "A locked result can only be corrected by a site manager, with a reason.",
    reasonText: "Reason",
  },
};
