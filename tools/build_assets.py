"""Copy the npm front-end assets the web app serves into src/carehub/web/static/npm (git-ignored):
the NHS design system and htmx.

The compiled nhsuk-frontend CSS loads the Frutiger font from an NHS host; the font is licensed to
NHS organisations only and carehub loads nothing from the internet, so those @font-face rules are
removed and the design system falls back to Arial. Fails if any remote URL is left.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
HTMX = ROOT / "node_modules" / "htmx.org" / "dist"
TARGET = ROOT / "src" / "carehub" / "web" / "static" / "npm"
REMOTE_FONT_FACE = re.compile(r"@font-face\{[^}]*url\(https?://[^}]*\}")
REMOTE_URL = re.compile(r"url\(\s*['\"]?https?://")


def main() -> int:
    if not DIST.is_dir():
        print(f"missing {DIST}: run `npm ci` first", file=sys.stderr)
        return 1
    if TARGET.exists():
        shutil.rmtree(TARGET)
    TARGET.mkdir(parents=True)
    css = REMOTE_FONT_FACE.sub("", (DIST / "nhsuk-frontend.min.css").read_text(encoding="utf-8"))
    css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", css)
    if REMOTE_URL.search(css):
        print("nhsuk-frontend.min.css still loads something from the internet", file=sys.stderr)
        return 1
    (TARGET / "nhsuk-frontend.min.css").write_text(css, encoding="utf-8")
    js = (DIST / "nhsuk-frontend.min.js").read_text(encoding="utf-8")
    (TARGET / "nhsuk-frontend.min.js").write_text(
        re.sub(r"//# sourceMappingURL=\S+", "", js), encoding="utf-8"
    )
    shutil.copytree(DIST / "assets", TARGET / "assets")
    htmx = (HTMX / "htmx.min.js").read_text(encoding="utf-8")
    (TARGET / "htmx.min.js").write_text(re.sub(r"//# sourceMappingURL=\S+", "", htmx), "utf-8")
    print(f"front-end assets ready in {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
