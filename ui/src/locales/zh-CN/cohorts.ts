// Today's sessions and cohorts.
export default {
  today: {
    title: "今日课程",
    none: "今天没有排课",
    marked: "已点名 {marked}/{total}",
    rollCall: "点名",
  },
  cohorts: {
    title: "培训班",
    new: "开设培训班",
    name: "班级名称",
    start: "开班日期",
    end: "结业日期",
    enrolled: "人数",
    status: "状态",
    programme: "培训项目",
    capacity: "容量",
    instructors: "授课教师",
    progress: "进度",
    roster: "学员名单",
    sessions: "课次",
    enrol: "加入本班",
    schedule: "排课",
    hoursLong: "小时",
    when: "时间",
  },
};
