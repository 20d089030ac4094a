// How a failed backend call is shown: the backend's message (what is wrong and what to do).
import { ElMessage } from "element-plus";
import { isBackendError } from "./api";

export function showError(e: unknown) {
  ElMessage.error(isBackendError(e) ? e.message : String(e));
}
