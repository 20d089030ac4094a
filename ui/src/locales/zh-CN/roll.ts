// The roll call.
export default {
  roll: {
    left: "早退",
    leftHint: "现在离开：按离开时间计算学时",
    correct: "更正",
    correctHint: "本课次已结束，更正须写明原因，并以站点负责人的名义记录；原记录保留。",
    corrected: "{who}更正：{reason}",
    markedOf: "已点名 {marked}/{total} 人",
    title: "点名",
    keys: "键盘：↑↓ 选择学员，P 出勤，L 迟到，A 缺勤，E 请假；每次标记立即保存。",
    status: "状态",
    minutes: "分钟",
    mark: "标记",
    allPresent: "其余全部出勤",
    close: "结束课次",
    closeConfirm: "结束后本课次不能再点名，只能由站点负责人更正。确定结束？",
    closed: "已结束",
    open: "未结束",
    takenOn: "{who}在设备 {device} 上点名",
  },
};
