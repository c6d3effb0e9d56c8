#!/usr/bin/env python3
"""The console updater's `latest.json` for one release, from the signed installers in a folder.

    release_manifest.py DIR VERSION BASE_URL [NOTES]

Each installer with a `.sig` beside it (written by the bundler when the release key is set)
becomes an entry under the updater's platform names: `{os}-{arch}-{bundle}` for each kind
of installer, and `{os}-{arch}` for the one a console installed some other way updates to.
The download address is BASE_URL/<file name>. Prints the manifest; fails when no installer
is signed.
"""

import json
import pathlib
import re
import sys
import unittest
from datetime import datetime, timezone

# (file name ending, os, bundle, whether it is the platform's default)
KINDS = [
    (".AppImage", "linux", "appimage", True),
    (".deb", "linux", "deb", False),
    ("-setup.exe", "windows", "nsis", True),
    (".msi", "windows", "msi", False),
    (".app.tar.gz", "darwin", "app", True),
]


def arches(name):
    """The architectures an installer's file name says it is for."""
    lower = name.lower()
    if "universal" in lower:
        return ["x86_64", "aarch64"]
    if re.search(r"aarch64|arm64", lower):
        return ["aarch64"]
    if re.search(r"x86_64|amd64|x64", lower):
        return ["x86_64"]
    # The macOS bundle is named after the app alone; a universal build is the only one made.
    if lower.endswith(".app.tar.gz"):
        return ["x86_64", "aarch64"]
    raise ValueError(f"cannot tell the architecture of {name}")


def platforms(files, base_url):
    """The manifest's `platforms` from {installer file name: signature text}."""
    out = {}
    for name, signature in sorted(files.items()):
        kind = next((k for k in KINDS if name.endswith(k[0])), None)
        if kind is None:
            continue
        _, os_name, bundle, default = kind
        entry = {"signature": signature.strip(), "url": f"{base_url.rstrip('/')}/{name}"}
        for arch in arches(name):
            out[f"{os_name}-{arch}-{bundle}"] = entry
            if default:
                out[f"{os_name}-{arch}"] = entry
    return out


def manifest(folder, version, base_url, notes="", now=None):
    files = {}
    for sig in pathlib.Path(folder).rglob("*.sig"):
        installer = sig.with_suffix("")
        if installer.exists():
            files[installer.name] = sig.read_text()
    found = platforms(files, base_url)
    if not found:
        raise SystemExit(f"no signed installer in {folder}")
    when = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"version": version, "notes": notes, "pub_date": when, "platforms": found}


class Test(unittest.TestCase):
    def test_each_installer_under_its_platform_names(self):
        got = platforms(
            {
                "Switchboard_0.2.0_amd64.AppImage": "sig-appimage\n",
                "Switchboard_0.2.0_amd64.deb": "sig-deb",
                "Switchboard_0.2.0_x64-setup.exe": "sig-nsis",
                "Switchboard_0.2.0_x64_en-US.msi": "sig-msi",
                "Switchboard_universal.app.tar.gz": "sig-app",
                "notes.txt": "ignored",
            },
            "https://releases.example.com/v0.2.0/",
        )
        self.assertEqual(got["linux-x86_64"]["signature"], "sig-appimage")
        self.assertEqual(got["linux-x86_64"]["url"], "https://releases.example.com/v0.2.0/Switchboard_0.2.0_amd64.AppImage")
        self.assertEqual(got["linux-x86_64-deb"]["signature"], "sig-deb")
        self.assertEqual(got["windows-x86_64"]["signature"], "sig-nsis")
        self.assertEqual(got["windows-x86_64-msi"]["signature"], "sig-msi")
        self.assertEqual(got["darwin-aarch64"]["signature"], "sig-app")
        self.assertEqual(got["darwin-x86_64-app"]["signature"], "sig-app")
        self.assertNotIn("linux-x86_64-txt", got)
        self.assertEqual(len(got), 10)

    def test_an_unknown_architecture_is_an_error(self):
        with self.assertRaises(ValueError):
            platforms({"Switchboard_0.2.0_riscv.AppImage": "s"}, "https://x")

    def test_the_manifest_from_a_folder(self):
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            p = pathlib.Path(d)
            (p / "Switchboard_0.2.0_amd64.AppImage").write_bytes(b"elf")
            (p / "Switchboard_0.2.0_amd64.AppImage.sig").write_text("sig")
            (p / "orphan.msi.sig").write_text("no installer beside it")
            when = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
            got = manifest(d, "0.2.0", "https://r.example", "Notes", when)
            self.assertEqual(got["version"], "0.2.0")
            self.assertEqual(got["pub_date"], "2026-12-01T09:00:00Z")
            self.assertEqual(sorted(got["platforms"]), ["linux-x86_64", "linux-x86_64-appimage"])
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(SystemExit):
                manifest(d, "0.2.0", "https://r.example")


if __name__ == "__main__":
    if sys.argv[1:] == ["--test"]:
        unittest.main(argv=[sys.argv[0]])
    if len(sys.argv) not in (4, 5):
        raise SystemExit(__doc__)
    folder, version, base = sys.argv[1:4]
    notes = sys.argv[4] if len(sys.argv) == 5 else ""
    print(json.dumps(manifest(folder, version, base, notes), indent=2))
