#!/usr/bin/env bash
# Run a study from scratch in a fresh folder and say where its wall time went:
#   benchmarks/breakdown.sh [CONFIGFILE ...]      (default: the quick configuration)
# Writes benchmarks/breakdown-<name of the last config file>.md: the machine, the time of
# `python -c "import torch"` on it in the same hour (the yardstick of the speed targets),
# and mnist_study.timing's per-rule table and critical path. MNIST is read from data/ when
# it is there (the workflow fetches it otherwise, and the fetch is then part of the time).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
configs=()
for c in "${@:-tests/config/quick.yaml}"; do configs+=("$(realpath "$c")"); done
name=$(basename "${configs[-1]}" .yaml)
out="benchmarks/breakdown-$name.md"
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

local_yaml="$workdir/local.yaml"
if [ -f data/mnist/MNIST/raw/t10k-labels-idx1-ubyte ]; then
  printf 'mnist:\n  existing_copy: %s\n' "$repo/data/mnist/MNIST/raw" >"$local_yaml"
else
  : >"$local_yaml"
fi

seconds_of() {  # best of 3 wall times of a command, in seconds
  .venv/bin/python - "$@" <<'PY'
import subprocess, sys, time
runs = []
for _ in range(3):
    t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True); runs.append(time.perf_counter() - t)
print(f"{min(runs):.2f}")
PY
}
torch_s=$(seconds_of .venv/bin/python -c "import torch")
echo "breakdown: import torch takes ${torch_s} s here (best of 3); running ${configs[*]} in $workdir"

load=$(cut -d' ' -f1-3 /proc/loadavg)
# the tree as it was measured (before this script writes its output file into it)
commit="$(git rev-parse --short HEAD)$(git diff --quiet || echo ' (uncommitted changes)')"
start=$(date +%s)
# The Snakefile reads config.yaml itself: naming it here as well would put its keys over the
# study's (its `scan: {run: false}` over the seed's), and measure a smaller study than a user runs.
.venv/bin/snakemake -s "$repo/Snakefile" -d "$workdir" --cores "$(nproc)" \
  --configfile "${configs[@]}" "$local_yaml" >"$workdir/run.log" 2>&1 \
  || { tail -n 40 "$workdir/run.log"; exit 1; }
wall=$(($(date +%s) - start))
ratio=$(.venv/bin/python -c "print(f'{$wall / $torch_s:.0f}')")

{
  echo "# Where the time of \`${configs[*]#$repo/}\` went"
  echo
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average before the run: $load"
  echo "- measured: $(date -u '+%Y-%m-%d %H:%M UTC'), git $commit"
  echo "- the snakemake command's wall time: ${wall} s; \`python -c \"import torch\"\`: ${torch_s} s (best of 3); ratio ${ratio}x"
  echo
  .venv/bin/python -m mnist_study.timing "$workdir" | tail -n +3
  echo
  echo "## The training jobs against their floor"
  echo
  echo "From \`python benchmarks/bench.py --floors\`: the machine's limits are those of the last \`make bench\`."
  echo
  floor_args=()
  for c in "${configs[@]}"; do floor_args+=(--config "$c"); done
  .venv/bin/python benchmarks/bench.py --floors "$workdir" "${floor_args[@]}" 2>&1 || true
} >"$out"
echo "breakdown: written to $out"
sed -n 1,12p "$out"
