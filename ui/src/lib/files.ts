// Files on messages: which ones are shown as images, where the window reads a file staged
// for a reply or kept with a message (the console's `sbfile` scheme), and the limits the
// console checks before staging a file (the hub checks them again; these answer at once).
// No DOM, no state: everything here is unit tested.
import { formatBytes } from "./format";
import { t } from "./i18n.svelte";
import type { ApiError, Attachment } from "./protocol";

/** The most files one reply carries. */
export const MAX_FILES = 10;
/** The largest file a reply carries, in bytes (25 MB). */
export const MAX_FILE_BYTES = 25 * 1024 * 1024;

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/** The url a staged file has until its reply is sent: `staged:<id>`. */
const STAGED = "staged:";

/** True for the kinds of image the console shows as a thumbnail (PNG, JPEG, GIF, WebP). */
export function isImage(mime: string): boolean {
  const type = mime.split(";")[0]?.trim().toLowerCase() ?? "";
  return IMAGE_TYPES.includes(type);
}

/** The id of a staged file's url (`staged:<id>`), else null. */
export function stagedId(url: string): string | null {
  const id = url.startsWith(STAGED) ? url.slice(STAGED.length) : "";
  return id ? id : null;
}

/** True where the window runs in WebView2, which reaches the console's schemes over http. */
function onWindows(): boolean {
  return typeof navigator !== "undefined" && /Windows/.test(navigator.userAgent);
}

/** The address of `path` in the `sbfile` scheme: `sbfile://localhost/<path>`, or
 *  `http://sbfile.localhost/<path>` on Windows. */
export function sbfileUrl(path: string, windows = onWindows()): string {
  return windows ? `http://sbfile.localhost/${path}` : `sbfile://localhost/${path}`;
}

/**
 * Where the window reads attachment `index` of a line: the stored message's copy when the
 * line has a message id, the staged file while a reply waits in the outbox, else null (there
 * is no way to show it).
 */
export function attachmentSrc(a: Attachment, messageId: number | null, index: number, windows = onWindows()): string | null {
  if (messageId != null) return sbfileUrl(`message/${messageId}/${index}`, windows);
  const id = stagedId(a.url);
  return id === null ? null : sbfileUrl(`staged/${encodeURIComponent(id)}`, windows);
}

/** The refusal the hub answers for a file larger than a reply carries. */
export function tooLarge(name: string, size: number): ApiError {
  return {
    code: "payload_too_large",
    message: t("files.tooLarge", { name, size: formatBytes(size), most: MAX_FILE_BYTES / (1024 * 1024) }),
  };
}

/**
 * The files of `picked` that may be staged for a reply that already has `attached` files,
 * and why each of the others may not: too large, or more than a reply carries.
 */
export function admit<F extends { name: string; size: number }>(
  picked: readonly F[],
  attached: number,
): { admitted: F[]; refused: ApiError[] } {
  const admitted: F[] = [];
  const refused: ApiError[] = [];
  const over: string[] = [];
  for (const f of picked) {
    if (f.size > MAX_FILE_BYTES) refused.push(tooLarge(f.name, f.size));
    else if (attached + admitted.length >= MAX_FILES) over.push(f.name);
    else admitted.push(f);
  }
  if (over.length) {
    refused.push({
      code: "bad_request",
      message: t("files.tooMany", { most: MAX_FILES, names: over.join(", "), count: over.length }),
    });
  }
  return { admitted, refused };
}
