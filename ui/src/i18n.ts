// The i18n instance: Simplified Chinese by default, English switchable, remembered locally.
import { createI18n } from "vue-i18n";
import { messages } from "./messages";

export const i18n = createI18n({
  legacy: false,
  locale: localStorage.getItem("siteline.lang") ?? "zh-CN",
  fallbackLocale: "zh-CN",
  messages,
});

export function setLanguage(lang: string) {
  i18n.global.locale.value = lang === "en" ? "en" : "zh-CN";
  localStorage.setItem("siteline.lang", i18n.global.locale.value);
  document.documentElement.lang = i18n.global.locale.value;
}
