// First run and sign-in.
export default {
  firstRun: {
    title: "Welcome to Siteline",
    language: "Language",
    manager: "Site manager",
    hq: "Headquarters",
    done: "Done",
    managerHint: "First create the site manager's account. At least 8 characters; only its hash is kept.",
    createManager: "Create account",
    hqHint: "Enter the HQ address and a one-time code to enrol this device with the credit bank, or work offline for now.",
    offline: "Work offline for now",
    enrolled: "Enrolled with {site}",
    demoHint: "Start with an empty site, or load a demo cohort of 40.",
    startEmpty: "Start empty",
    startDemo: "Load demo data",
    newSite: "Set up a new site",
    joinSite: "Join an existing site",
    joinHint: "When other laptops of the site are already in use: enter the HQ address, the one-time code HQ gave for this laptop and the recovery code the site manager keeps. Then sign in with your usual account.",
    recoveryCode: "Recovery code",
    join: "Join the site",
    joined: "Joined {site}; sign in with your usual account",
  },
  signIn: {
    title: "Sign in",
    submit: "Sign in",
  },
};
