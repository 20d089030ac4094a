// Assessments.
export default {
  assessment: {
    title: "考核",
    theory: "理论知识考试",
    practical: "技能考核",
    review: "综合评审",
    record: "录入成绩",
    item: "评分项",
    points: "得分",
    critical: "否决项",
    criticalFailed: "未通过",
    total: "合计",
    attempts: "考核记录",
    component: "科目",
    score: "分数",
    lock: "锁定",
    locked: "已锁定",
    correct: "更正",
    corrected: "已更正",
    correctHint: "锁定后的成绩只能由站点负责人更正，并须写明原因。",
    reasonText: "更正原因",
  },
};
