#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer (flags given here, on the command
# line, never in a Package.swift) and runs each for a fixed number of runs from a fixed seed on a
# copy of its seed corpus, so a run is deterministic. Any crash, leak, timeout or out-of-memory
# fails the script and leaves the input under Fuzz/crashes/.
# usage: Fuzz/run.sh [runs per target (default 300000, about 25 s in all)]
set -euo pipefail
cd "$(dirname "$0")"
runs=${1:-300000}
# The manifest is compiled first without the sanitizer flags (they would apply to it too).
swift package describe >/dev/null
swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld 2>&1 | tail -1
bin=.build/x86_64-unknown-linux-gnu/release
[ -x "$bin/fuzz-idx" ] || bin=$(swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld --show-bin-path)
mkdir -p crashes
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in idx safetensors image; do
    cp -r "corpus/$target" "$work/$target"
    start=$(date +%s)
    if ! "$bin/fuzz-$target" -runs="$runs" -seed=1 -max_len=4096 -rss_limit_mb=2048 -timeout=10 \
         -artifact_prefix=crashes/"$target"- "$work/$target" >"$work/$target.log" 2>&1; then
        tail -40 "$work/$target.log"
        echo "fuzz-$target: FAILED (input kept in Fuzz/crashes/)"
        exit 1
    fi
    echo "fuzz-$target: $runs runs clean in $(( $(date +%s) - start )) s, $(grep -o 'cov: [0-9]*' "$work/$target.log" | tail -1)"
done
