// Tests for the file helpers: which files are images, where the window reads a file (on
// Windows and elsewhere), and the limits checked before a file is staged.
import { describe, expect, test } from "vitest";
import { admit, attachmentSrc, isImage, MAX_FILE_BYTES, MAX_FILES, stagedId } from "./files";
import type { Attachment } from "./protocol";

const file = (url: string, mime = "image/png"): Attachment => ({ name: "photo.png", mime, size: 1000, url });

describe("isImage", () => {
  test.each([
    ["image/png", true],
    ["image/jpeg", true],
    ["image/gif", true],
    ["image/webp", true],
    ["IMAGE/PNG", true],
    ["image/jpeg; name=photo.jpg", true],
    ["image/svg+xml", false],
    ["image/heic", false],
    ["image/tiff", false],
    ["application/pdf", false],
    ["", false],
  ])("%s → %s", (mime, want) => {
    expect(isImage(mime)).toBe(want);
  });
});

describe("attachmentSrc", () => {
  test.each([
    ["a stored message's file", file("https://hub.example/api/v1/blobs/3"), 42, 0, false, "sbfile://localhost/message/42/0"],
    ["a stored message's file, on Windows", file("https://hub.example/api/v1/blobs/3"), 42, 2, true, "http://sbfile.localhost/message/42/2"],
    ["a stored message whose url is still staged", file("staged:9"), 42, 1, false, "sbfile://localhost/message/42/1"],
    ["a staged file of a pending reply", file("staged:17"), null, 0, false, "sbfile://localhost/staged/17"],
    ["a staged file of a pending reply, on Windows", file("staged:17"), null, 0, true, "http://sbfile.localhost/staged/17"],
    ["a staged id that is not a plain word", file("staged:a b/c"), null, 0, false, "sbfile://localhost/staged/a%20b%2Fc"],
    ["a pending line's file that is not staged", file("https://hub.example/b.png"), null, 0, false, null],
    ["a pending line's file with no url", file(""), null, 0, false, null],
    ["an empty staged id", file("staged:"), null, 0, false, null],
  ])("%s", (_, a, messageId, index, windows, want) => {
    expect(attachmentSrc(a, messageId, index, windows)).toBe(want);
  });

  test("stagedId reads the id of a staged url only", () => {
    expect(stagedId("staged:abc")).toBe("abc");
    expect(stagedId("staged:")).toBeNull();
    expect(stagedId("https://x/staged:abc")).toBeNull();
  });
});

describe("admit", () => {
  const f = (name: string, size = 10) => ({ name, size });

  test("takes files up to 25 MB each", () => {
    const { admitted, refused } = admit([f("a.pdf"), f("big.mov", 31 * 1024 * 1024), f("edge.bin", MAX_FILE_BYTES)], 0);
    expect(admitted.map((x) => x.name)).toEqual(["a.pdf", "edge.bin"]);
    expect(refused).toEqual([{ code: "payload_too_large", message: "big.mov is 31.0 MB; files up to 25 MB can be sent" }]);
  });

  test("takes at most 10 files per reply, counting those already attached", () => {
    const picked = Array.from({ length: 4 }, (_, i) => f(`f${i}.txt`));
    const { admitted, refused } = admit(picked, MAX_FILES - 2);
    expect(admitted.map((x) => x.name)).toEqual(["f0.txt", "f1.txt"]);
    expect(refused).toEqual([{ code: "bad_request", message: "a reply carries at most 10 files; f2.txt, f3.txt were not attached" }]);
    expect(admit([f("one.txt")], MAX_FILES).refused[0]?.message).toBe("a reply carries at most 10 files; one.txt was not attached");
  });
});
