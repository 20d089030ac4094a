// Today's sessions and cohorts.
export default {
  today: {
    title: "Today's sessions",
    none: "No sessions today",
    marked: "Marked {marked}/{total}",
    rollCall: "Roll call",
  },
  cohorts: {
    title: "Cohorts",
    new: "Open a cohort",
    name: "Cohort",
    start: "Start",
    end: "End",
    enrolled: "Learners",
    status: "Status",
    programme: "Programme",
    capacity: "Capacity",
    instructors: "Instructors",
    progress: "Progress",
    roster: "Roster",
    sessions: "Sessions",
    enrol: "Enrol",
    schedule: "Schedule",
    hoursLong: "hours",
    when: "When",
  },
};
