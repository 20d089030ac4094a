// Shared by every screen: the app, navigation, roles, statuses and marks.
export default {
  app: {
    name: "Siteline 家政培训站点",
    signOut: "退出登录",
  },
  picker: {
    choose: "选择…",
    folderHint: "文件夹的完整路径",
    fileHint: "文件的完整路径",
    xlsx: "Excel 工作簿",
    json: "同步回执文件",
  },
  nav: {
    today: "今日课程",
    learners: "学员",
    cohorts: "培训班",
    settings: "设置",
  },
  nav2: {
    review: "进度总览",
    sync: "同步中心",
    devices: "本站设备",
  },
  role: {
    instructor: "授课教师",
    site_manager: "站点负责人",
    assessor: "考评员",
  },
  common: {
    cancel: "取消",
    colon: "：",
    next: "下一步",
    save: "保存",
    search: "搜索",
  },
  status: {
    passed: "合格",
    failed: "不合格",
    pending: "待考核",
    passed_not_eligible: "考核合格 · 出勤不足",
  },
  cohortStatus: {
    draft: "筹备中",
    running: "进行中",
    closed: "已结业",
  },
  attendance: {
    present: "出勤",
    late: "迟到",
    absent: "缺勤",
    excused: "请假",
    unmarked: "未点名",
  },
  reason: {
    entry_error: "录入错误",
    late_evidence: "补交证明",
    appeal: "申诉成立",
    other: "其他",
  },
  hqStatus: {
    accredited: "已认定",
    needs_info: "需补充材料",
    rejected: "未通过",
    none: "—",
  },
  progress: {
    status: "结果",
    eligible: "考核资格",
  },
};
