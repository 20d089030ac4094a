import { createApp } from "vue";
import { createPinia } from "pinia";
// Element Plus components come in per template (vite.config.ts); the services called from
// scripts need their styles here.
import "element-plus/es/components/message/style/css";
import "element-plus/es/components/message-box/style/css";
import "element-plus/es/components/notification/style/css";
import App from "./App.vue";
import { i18n } from "./i18n";
import { router } from "./router";

createApp(App).use(createPinia()).use(i18n).use(router).mount("#app");
