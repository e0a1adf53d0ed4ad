#!/usr/bin/env bash
# Checks Cicada's NVML reader against nvidia-smi on a machine with an NVIDIA GPU.
#
# Builds cicada-gpu-probe, which prints every GPU twice as JSON lines: once as Cicada's NVML
# reader sees it (dlopen of libnvidia-ml.so.1, or $CICADA_NVML_LIBRARY) and once as Cicada's
# nvidia-smi reader sees it. For each GPU (matched by UUID) the totals must be equal in MiB
# (nvidia-smi prints whole MiB) and used memory must agree within 1% of nvidia-smi's used figure,
# or 1 MiB, whichever is larger: nvidia-smi rounds to MiB, and the two reads are a moment apart.
# Exit status: 0 when every GPU agrees, 1 on a mismatch or a failed read, 2 with no GPU found.
#
#   scripts/check-nvml.sh                 # builds with swift, then checks
#   PROBE=/path/to/cicada-gpu-probe scripts/check-nvml.sh   # uses a prebuilt probe
#
# Environment: SCRATCH (build folder, default .build-telemetry), JOBS (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PROBE:-}" ]; then
  SCRATCH="${SCRATCH:-.build-telemetry}"
  swift build -j "${JOBS:-1}" --scratch-path "$SCRATCH" --product cicada-gpu-probe >&2
  PROBE="$(swift build -j "${JOBS:-1}" --scratch-path "$SCRATCH" --show-bin-path)/cicada-gpu-probe"
fi

status=0
output="$("$PROBE")" || status=$?
printf '%s\n' "$output"
if [ "$status" -ne 0 ]; then
  echo "check-nvml: the probe could not read every source (exit $status)" >&2
  exit 1
fi

# The probe writes flat JSON objects with fixed keys; awk pulls out the fields compared.
printf '%s\n' "$output" | awk '
  function field(line, key,    rest) {
    if (match(line, "\"" key "\":")) {
      rest = substr(line, RSTART + RLENGTH)
      if (substr(rest, 1, 1) == "\"") { rest = substr(rest, 2); return substr(rest, 1, index(rest, "\"") - 1) }
      match(rest, /^[^,}]*/)
      return substr(rest, 1, RLENGTH)
    }
    return "null"
  }
  {
    source = field($0, "source"); uuid = field($0, "uuid")
    if (uuid == "null") { next }
    total[source, uuid] = field($0, "memory_total_bytes")
    used[source, uuid] = field($0, "memory_used_bytes")
    if (source == "nvml") { uuids[++n] = uuid }
  }
  END {
    mib = 1048576; bad = 0
    if (n == 0) { print "check-nvml: NVML reported no GPU" > "/dev/stderr"; exit 2 }
    for (i = 1; i <= n; i++) {
      u = uuids[i]
      if (!(("nvidia-smi", u) in total)) { printf "check-nvml: %s: no nvidia-smi line\n", u > "/dev/stderr"; bad = 1; continue }
      nt = total["nvml", u]; st = total["nvidia-smi", u]; nu = used["nvml", u]; su = used["nvidia-smi", u]
      if (nt == "null" || st == "null" || nu == "null" || su == "null") {
        printf "check-nvml: %s: memory missing (nvml total %s used %s, nvidia-smi total %s used %s)\n", u, nt, nu, st, su > "/dev/stderr"
        bad = 1; continue
      }
      nvmlTotalMiB = int(nt / mib); smiTotalMiB = int(st / mib + 0.5)
      tolerance = su * 0.01; if (tolerance < mib) tolerance = mib
      diff = nu - su; if (diff < 0) diff = -diff
      verdict = "ok"
      if (nvmlTotalMiB != smiTotalMiB) { verdict = "TOTAL MISMATCH"; bad = 1 }
      else if (diff > tolerance) { verdict = "USED MISMATCH"; bad = 1 }
      printf "check-nvml: %s: total %d MiB (nvml) vs %d MiB (nvidia-smi); used %.1f MiB vs %.1f MiB (|diff| %.2f MiB, allowed %.2f): %s\n", \
        u, nvmlTotalMiB, smiTotalMiB, nu / mib, su / mib, diff / mib, tolerance / mib, verdict
    }
    exit bad
  }'
