// Printing a cohort's report or a learner's record from the app.
export default {
  print: {
    print: "打印",
    back: "返回",
    hint: "在打印对话框中选择打印机，或选择“打印到文件”保存为 PDF。",
    open: "打印…",
    cohortTitle: "学员培训进度表",
    learnerTitle: "学员培训记录",
    maskedNote: "表中证件号码均已脱敏。",
    no: "序号",
    printedAt: "打印时间：{at}",
    managerSignature: "站点负责人（签字）：",
    date: "日期：",
  },
};
