// Printing a cohort's report or a learner's record from the app.
export default {
  print: {
    print: "Print",
    back: "Back",
    hint: "Choose a printer in the print dialog, or \"Print to File\" to save a PDF.",
    open: "Print…",
    cohortTitle: "Training progress",
    learnerTitle: "Training record",
    maskedNote: "ID numbers on this sheet are masked.",
    no: "No.",
    printedAt: "Printed {at}",
    managerSignature: "Site manager (signature):",
    date: "Date:",
  },
};
