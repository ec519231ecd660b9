#!/usr/bin/env bash
# Builds the API documentation of the four libraries with the toolchain's own docc (no plugin,
# no package dependency): symbol graphs from `swift package dump-symbol-graph`, each library's
# catalog (Sources/NAME/NAME.docc), and a static site per library under docs/NAME.
# View it with a local web server (docc's pages load their data with fetch, which file:// blocks):
#   Scripts/build-docs.sh && python3 -m http.server -d docs 8000   # then http://localhost:8000/Autodiff/documentation/autodiff
set -euo pipefail
cd "$(dirname "$0")/.."
docc=$(dirname "$(readlink -f "$(command -v swift)")")/docc
[ -x "$docc" ] || docc=$(command -v docc)
swift package dump-symbol-graph --minimum-access-level public >/dev/null
graphs=$(find .build -type d -name symbolgraph | head -1)
rm -rf docs
mkdir -p docs
warnings=0
for module in Autodiff NeuralNetworks Datasets Plotting; do
    only=$(mktemp -d)
    cp "$graphs/$module.symbols.json" "$only/"
    cp "$graphs/$module"@*.symbols.json "$only/" 2>/dev/null || true
    "$docc" convert "Sources/$module/$module.docc" --additional-symbol-graph-dir "$only" \
        --fallback-display-name "$module" --fallback-bundle-identifier "org.autodiff.$module" \
        --transform-for-static-hosting --hosting-base-path "$module" \
        --output-path "docs/$module" > "docs/$module.log" 2>&1 || { tail -20 "docs/$module.log"; exit 1; }
    count=$(grep -c "^warning" "docs/$module.log" || true)
    warnings=$((warnings + count))
    [ "$count" = 0 ] || { grep -A4 "^warning" "docs/$module.log" | head -40; }
    rm -rf "$only"
    [ -f "docs/$module/index.html" ] || { echo "build-docs: docc produced no site for $module"; exit 1; }
    echo "docs/$module: $(find "docs/$module/data/documentation" -name '*.json' | wc -l) pages"
done
# A broken link or an undocumented parameter fails the build, so the docs cannot rot.
[ "$warnings" = 0 ] || { echo "build-docs: $warnings docc warnings"; exit 1; }
