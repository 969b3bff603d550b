"""Print the sizes of what GET /widget.js serves against CONTRACT.md's 6 KiB gzip budget.

The script is built by widget/build.py (esbuild) from widget/src; the server only stamps the
version and compresses it. Exit status 1 when it is over the ceiling CI enforces.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from widget_server.web.widget.asset import SIZE_BUDGET, SIZE_CEILING, find_widget, load_widget


def main() -> int:
    asset = load_widget()
    rows = [
        ("built (identity)", len(asset.identity)),
        ("gzip -9", len(asset.gzip)),
        ("brotli q11", len(asset.brotli)),
    ]
    print(f"widget: {find_widget()}")
    for name, size in rows:
        print(f"{name:>20}: {size:6d} bytes")
    for name, size in (("gzip", len(asset.gzip)), ("brotli", len(asset.brotli))):
        ratio = size / SIZE_BUDGET
        verdict = "within" if ratio <= 1 else "OVER"
        print(f"{name + ' / budget':>20}: {size} / {SIZE_BUDGET} = {ratio:.3f} ({verdict} budget)")
    print(f"{'gzip / ceiling':>20}: {len(asset.gzip)} / {SIZE_CEILING} (what CI enforces)")
    print(f"{'sri':>20}: {asset.sri}")
    return 0 if len(asset.gzip) <= SIZE_CEILING else 1


if __name__ == "__main__":
    sys.exit(main())
