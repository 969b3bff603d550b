"""Build static/widget.js from the sources in widget/src with esbuild (Debian's package, no npm).

    python widget/build.py           write static/widget.js
    python widget/build.py --check   rebuild in memory; fail if static/widget.js differs from it
                                     or its gzip -9 size is over the ceiling (what CI runs)

The stylesheet (widget/src/widget.css) is minified by esbuild first and inlined as WIDGET_CSS;
the modules are then bundled into one IIFE, minified and mangled. The output depends only on the
sources and the esbuild version, so the committed file can be checked byte for byte.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "widget" / "src"
TARGET = ROOT / "static" / "widget.js"
BUDGET = 6144  # bytes, gzip -9 of the served script: CONTRACT.md §1 (reported)
CEILING = 7680  # what --check enforces until the contract's budget is revisited (see assets.py)
ESBUILD_VERSION = "0.17.0"  # bookworm's; another version may write other (valid) bytes
VERSION_MARK = "%WIDGET_VERSION%"
SAMPLE_VERSION = "0.1.0+01234567"  # what the server stamps in its place, for the size check


def esbuild(*args: str, stdin: str | None = None) -> str:
    exe = shutil.which("esbuild")
    if exe is None:
        sys.exit("esbuild not found: apt-get install esbuild")
    done = subprocess.run(  # noqa: S603 (our own arguments)
        [exe, *args, "--log-level=warning"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(done.stderr)
    if done.stderr:
        print(done.stderr, file=sys.stderr)
    return done.stdout


def build() -> str:
    version = esbuild("--version").strip()
    if version != ESBUILD_VERSION:
        print(
            f"warning: esbuild {version}, the committed build uses {ESBUILD_VERSION}",
            file=sys.stderr,
        )
    css = esbuild(
        "--loader=css", "--minify", stdin=(SOURCE / "widget.css").read_text("utf-8")
    ).strip()
    js = esbuild(
        str((SOURCE / "main.js").relative_to(ROOT)),
        "--bundle",
        "--minify",
        "--format=iife",
        "--target=es2020",
        "--charset=utf8",
        "--legal-comments=none",
        f"--define:WIDGET_CSS={json.dumps(css)}",
    )
    if VERSION_MARK not in js:
        sys.exit(f"{VERSION_MARK} is missing from the bundle")
    return js


def gzip_size(text: str) -> int:
    body = text.replace(VERSION_MARK, SAMPLE_VERSION).encode("utf-8")
    return len(gzip.compress(body, compresslevel=9, mtime=0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="verify, do not write")
    args = parser.parse_args()
    built = build()
    size = gzip_size(built)
    print(
        f"widget.js: {len(built.encode())} bytes, {size} gzip -9"
        f" ({size / BUDGET:.2f} of the contract's {BUDGET}; ceiling {CEILING})"
    )
    if args.check:
        committed = TARGET.read_text("utf-8") if TARGET.is_file() else ""
        if committed != built:
            print("static/widget.js is not the build of widget/src: run python widget/build.py")
            return 1
    else:
        TARGET.write_text(built, "utf-8")
    if size > CEILING:
        print(f"over the ceiling by {size - CEILING} bytes")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
