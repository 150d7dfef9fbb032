#!/usr/bin/env bash
# Manual check (not CI): render a results workbook the way a person sees it.
# Runs the demo (or takes a workbook), converts it with LibreOffice to PDF, then to PNG pages.
# Needs: apt-get install libreoffice-calc-nogui poppler-utils
# Usage: scripts/look-at-results.sh [RESULTS.xlsx] [OUT_DIR]
set -euo pipefail
out="${2:-/tmp/csvsync-look}"
mkdir -p "$out"
book="${1:-}"
if [ -z "$book" ]; then
  csvsync demo --dir "$out/demo" > "$out/demo.txt"
  book="$(ls -t "$out"/demo/products.sync-*.xlsx | tail -n 1)"   # the first sync: 12 updates
fi
soffice --headless --convert-to pdf --outdir "$out" "$book" > /dev/null
pdf="$out/$(basename "${book%.xlsx}").pdf"
pdftoppm -png -r 70 "$pdf" "$out/page"
ls "$out"/page*.png
