#!/usr/bin/env bash
# A shard artifact's growth with run length (issue 13): the per-second corrected histograms in
# `--out DIR`'s cicada.shard/v1 file. bench/artifact-size/main.swift drives the real code path
# (IntervalStats -> Aggregator -> a snapshot a second -> ShardTimelineRecorder -> ShardArtifact
# JSON) in simulated time with a seeded synthetic open-model load (three tasks, log-normal
# latencies around 20 ms and 80 ms, a 1 % tail to 2 s, 0.5 % HTTP 503), so an hour's artifact
# takes about a minute to make. For each run length and rate it reports the artifact's bytes, per
# second of run, gzip -9 of the whole file, and the bytes with every histogram in HdrHistogram's
# uncompressed V2 encoding instead of the zlib-compressed one the artifact uses.
# Knobs: LENGTHS ("60 600 3600" s), RATES ("100 1000 10000" req/s per shard),
# SCRATCH (the build folder, .build-bench). Output: bench/results/artifact-size/table.txt.
. "$(dirname "$0")/lib.sh"
OUT="$RESULTS/artifact-size"
mkdir -p "$OUT"
SCRATCH="${SCRATCH:-$ROOT/.build-bench}"
log "machine: $(machine_info)"
log "building CicadaCore (release, --scratch-path $SCRATCH)"
(cd "$ROOT" && swift build -c release --target CicadaCore --scratch-path "$SCRATCH" >&2)
B="$SCRATCH/release"
NUMERICS="$(find "$SCRATCH/checkouts" -path '*_NumericsShims/include/module.modulemap' | head -1)"
swiftc -O "$BENCH/artifact-size/main.swift" -module-name ArtifactSize -I "$B/Modules" \
  -Xcc -fmodule-map-file="$ROOT/Sources/CZlib/module.modulemap" -Xcc -fmodule-map-file="$NUMERICS" \
  "$B"/CicadaCore.build/*.o "$B"/Histogram.build/*.o "$B"/RealModule.build/*.o "$B"/_NumericsShims.build/*.o -lz \
  -o "$OUT/artifact-size"

printf '%-8s %-7s %-10s %-11s %-9s %-11s %-13s %s\n' seconds rate requests bytes "bytes/s" "gzip -9" "uncompressed" "histograms" | tee "$OUT/table.txt"
for rate in ${RATES:-100 1000 10000}; do
  for s in ${LENGTHS:-60 600 3600}; do
    f="$OUT/artifact-$s-$rate.json"
    read -r secs r requests bytes unc hists < <("$OUT/artifact-size" "$s" "$rate" "$f")
    gz=$(gzip -9 -c "$f" | wc -c)
    printf '%-8s %-7s %-10s %-11s %-9s %-11s %-13s %s\n' "$secs" "$r" "$requests" "$bytes" "$((bytes / secs))" "$gz" "$unc" "$hists" | tee -a "$OUT/table.txt"
    rm -f "$f"
  done
done
