// First run and sign-in.
export default {
  firstRun: {
    title: "欢迎使用 Siteline",
    language: "语言",
    manager: "站点负责人",
    hq: "连接总部",
    done: "完成",
    managerHint: "先创建站点负责人账号。密码至少 8 位，只保存其哈希值。",
    createManager: "创建账号",
    hqHint: "输入总部地址和一次性登记码，把本机登记到学分银行；没有网络也可以先离线使用。",
    offline: "暂不联网，先离线使用",
    enrolled: "已登记到 {site}",
    demoHint: "可以从空白站点开始，或载入一个 40 人的示范班级。",
    startEmpty: "从空白开始",
    startDemo: "载入示范数据",
    newSite: "开设新站点",
    joinSite: "加入已有站点",
    joinHint: "本站已有其他电脑在使用时，输入总部地址、总部发给本机的一次性登记码和站点负责人保管的恢复码。加入后用原来的账号登录。",
    recoveryCode: "恢复码",
    join: "加入站点",
    joined: "已加入 {site}，请用原来的账号登录",
  },
  signIn: {
    title: "登录",
    submit: "登录",
  },
};
