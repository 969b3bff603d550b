"""Print the sizes of what GET /widget.js serves and how they compare to the 6 KiB gzip budget."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from widget_server.web.widget.asset import SIZE_BUDGET, find_widget, load_widget


def main() -> int:
    asset = load_widget()
    rows = [
        ("source", asset.source_size),
        ("minified (identity)", len(asset.identity)),
        ("gzip -9", len(asset.gzip)),
        ("brotli q11", len(asset.brotli)),
    ]
    print(f"widget: {find_widget()}")
    for name, size in rows:
        print(f"{name:>20}: {size:6d} bytes")
    ratio = len(asset.gzip) / SIZE_BUDGET
    verdict = "within" if ratio <= 1 else "OVER"
    print(
        f"{'gzip / budget':>20}: {len(asset.gzip)} / {SIZE_BUDGET} = {ratio:.3f} ({verdict} budget)"
    )
    print(
        f"{'brotli / budget':>20}: {len(asset.brotli)} / {SIZE_BUDGET} = {len(asset.brotli) / SIZE_BUDGET:.3f}"
    )
    print(f"{'sri':>20}: {asset.sri}")
    return 0 if ratio <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
