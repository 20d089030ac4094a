import { createRouter, createWebHashHistory } from "vue-router";
import { useSession } from "./stores/session";

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: "/", redirect: "/today" },
    { path: "/first-run", component: () => import("./views/FirstRun.vue"), meta: { open: true } },
    { path: "/sign-in", component: () => import("./views/SignIn.vue"), meta: { open: true } },
    { path: "/today", component: () => import("./views/Today.vue") },
    { path: "/learners", component: () => import("./views/Learners.vue") },
    { path: "/learners/:id", component: () => import("./views/LearnerProfile.vue"), props: true },
    { path: "/cohorts", component: () => import("./views/Cohorts.vue") },
    { path: "/cohorts/:id", component: () => import("./views/CohortDetail.vue"), props: true },
    { path: "/roll/:session", component: () => import("./views/RollCall.vue"), props: true },
    { path: "/assess/:cohort/:enrolment", component: () => import("./views/Assessment.vue"), props: true },
    { path: "/review", component: () => import("./views/Review.vue") },
    { path: "/review/:id", component: () => import("./views/CohortReport.vue"), props: true },
    { path: "/print/cohort/:id", component: () => import("./views/PrintCohort.vue"), props: true },
    { path: "/print/learner/:id", component: () => import("./views/PrintLearner.vue"), props: true },
    { path: "/print/certificate/:number", component: () => import("./views/PrintCertificate.vue"), props: true },
    { path: "/sync", component: () => import("./views/SyncCentre.vue") },
    { path: "/devices", component: () => import("./views/SiteDevices.vue") },
    { path: "/settings", component: () => import("./views/Settings.vue") },
  ],
});

router.beforeEach(async (to) => {
  const session = useSession();
  await session.refresh();
  if (session.firstRun) return to.path === "/first-run" ? true : "/first-run";
  if (!session.me && !to.meta.open) return "/sign-in";
  if (session.me && to.meta.open) return "/today";
  return true;
});
