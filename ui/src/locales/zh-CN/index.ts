// Every Simplified Chinese string of the UI, one file per screen.
import common from "./common";
import firstRun from "./firstRun";
import learners from "./learners";
import cohorts from "./cohorts";
import roll from "./roll";
import assessment from "./assessment";
import review from "./review";
import sync from "./sync";
import devices from "./devices";
import settings from "./settings";
import errors from "./errors";
import edits from "./edits";
import print from "./print";
import certificates from "./certificates";

export default { ...common, ...firstRun, ...learners, ...cohorts, ...roll, ...assessment, ...review, ...sync, ...devices, ...settings, ...errors, ...edits, ...print, ...certificates };
