// How a failed backend call is shown: the error in the user's language (see errors.ts).
import { ElMessage } from "element-plus";
import { errorText } from "./errors";
import { i18n } from "./i18n";

export function showError(e: unknown) {
  const { t, te } = i18n.global;
  ElMessage.error(errorText(e, (k, p) => t(k, p ?? {}), (k) => te(k)));
}
