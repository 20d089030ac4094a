// Corrections of a learner's or a cohort's details, their history, and the overlap queue.
export default {
  edits: {
    field: { name: "姓名", phone: "手机号", dates: "起止日期", capacity: "名额" },
    removed: "（已删除）",
    thisDevice: "本机",
    otherDevice: "设备 {device}",
    history: "修改记录",
    editLearner: "修改信息",
    editCohort: "修改培训班信息",
    phoneHint: "留空则不变；填写新号码即替换",
    removePhone: "删除手机号",
    saved: "已保存修改",
    overlapTitle: "两台电脑同时修改的信息",
    overlapHint: "两台电脑在未同步时修改了同一项信息。系统已按较晚的修改显示，本站每台电脑都一样；请确认保留哪一个。",
    overlapNone: "没有待确认的修改",
    record: "对象",
    kept: "现在显示",
    unseen: "被覆盖的修改",
    keep: "保留现值",
    useThis: "改用此值",
  },
};
