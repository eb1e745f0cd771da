"""Builds the plugin zip for QGIS's "Install from ZIP": the folder quartier_processing/ at
the root of the zip, with the version of the quartier crate (Cargo.toml) in metadata.txt.

Usage: python3 qgis/build_zip.py OUT.zip
"""

import os
import re
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN = "quartier_processing"


def crate_version():
    with open(os.path.join(HERE, "..", "Cargo.toml"), encoding="utf-8") as handle:
        for line in handle:
            match = re.match(r'^version\s*=\s*"([^"]+)"', line)
            if match:
                return match.group(1)
    raise SystemExit("Cargo.toml has no version")


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    out = sys.argv[1]
    version = crate_version()
    source = os.path.join(HERE, PLUGIN)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    written = 0
    with zipfile.ZipFile(out + ".part", "w", zipfile.ZIP_DEFLATED) as archive:
        # The root folder first, as "Install from ZIP" finds the plugin by it.
        root = zipfile.ZipInfo(PLUGIN + "/", date_time=(2024, 1, 1, 0, 0, 0))
        root.external_attr = (0o40755 << 16) | 0x10
        archive.writestr(root, b"")
        for folder, dirs, files in os.walk(source):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
            for name in sorted(files):
                if name.endswith((".pyc", ".pyo")) or name.startswith("."):
                    continue
                path = os.path.join(folder, name)
                inside = os.path.join(PLUGIN, os.path.relpath(path, source)).replace(os.sep, "/")
                with open(path, "rb") as handle:
                    data = handle.read()
                if inside == PLUGIN + "/metadata.txt":
                    text = re.sub(r"(?m)^version=.*$", "version=" + version, data.decode("utf-8"))
                    data = text.encode("utf-8")
                info = zipfile.ZipInfo(inside, date_time=(2024, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
                written += 1
    os.replace(out + ".part", out)
    print("%s: %d files, version %s" % (out, written, version))


main()
