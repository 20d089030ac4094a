// Every string the UI shows, in Simplified Chinese (default) and English: one folder per
// locale under locales/, one file per screen; i18n.test.ts checks both have the same keys.
import en from "./locales/en";
import zhCN from "./locales/zh-CN";

export const messages = { "zh-CN": zhCN, en };
