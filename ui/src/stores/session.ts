// Who is signed in, and the idle lock: after the set minutes with no input the screen locks
// (the backend locks the session too, so a stale window cannot act).
import { defineStore } from "pinia";
import { ref } from "vue";
import { api } from "../api";
import type { Me } from "../bindings/Me";
import { shouldLock } from "../logic";

export const useSession = defineStore("session", () => {
  const me = ref<Me | null>(null);
  const firstRun = ref(false);
  const idleMinutes = ref(Number(localStorage.getItem("siteline.idle") ?? 10));
  let lastActivity = Date.now();
  let timer: number | undefined;

  async function refresh() {
    const s = await api.appStatus();
    firstRun.value = s.first_run;
    me.value = s.me;
  }

  function touch() {
    lastActivity = Date.now();
  }

  function watchIdle(onLock: () => void) {
    window.clearInterval(timer);
    timer = window.setInterval(async () => {
      if (me.value && shouldLock(lastActivity, Date.now(), idleMinutes.value)) {
        await signOut();
        onLock();
      }
    }, 15_000);
  }

  async function signIn(username: string, password: string) {
    me.value = await api.signIn(username, password);
    touch();
  }

  async function signOut() {
    await api.signOut();
    me.value = null;
  }

  const isManager = () => me.value?.actor.role === "site_manager";

  return { me, firstRun, idleMinutes, refresh, touch, watchIdle, signIn, signOut, isManager };
});
