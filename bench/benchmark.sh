#!/usr/bin/env bash
# benchmark.sh — times `./kallsyms list` end to end (JVM start included) and per phase, with peak
# memory, on corpus kernels; and, when it is set up, the peer vmlinux-to-elf's kallsyms-finder on
# the same files in the same run. Run by hand; prints a Markdown table for README.
#
# usage: bench/benchmark.sh [ID ...]        (default: every kernel in the corpus)
#   KERNEL_CORPUS  corpus directory (default ~/.cache/kernel-corpus)
#   PEER           vmlinux-to-elf checkout made by ../shared/tools/setup-vmlinux-to-elf.sh
#                  (default ~/.cache/peer/vmlinux-to-elf; skipped if absent)
#   RUNS           timed runs per tool and kernel, the median is reported (default 3)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${KERNEL_CORPUS:-$HOME/.cache/kernel-corpus}
peer=${PEER:-$HOME/.cache/peer/vmlinux-to-elf}
runs=${RUNS:-3}
ids=("$@")
if ((${#ids[@]} == 0)); then
  for d in "$corpus"/*/; do [[ -f $d/meta.env ]] && ids+=("$(basename "$d")"); done
fi
"$here/kallsyms" --version >/dev/null   # builds on first use, outside the timings
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# median of RUNS runs of a command: prints "seconds peak_MB"
measure() {
  local i s m; : > "$tmp/t"
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f "%e %M" -o "$tmp/one" "$@" > "$tmp/out" 2>/dev/null || { echo "fail -"; return; }
    cat "$tmp/one" >> "$tmp/t"
  done
  sort -n "$tmp/t" | awk -v n="$runs" 'NR == int((n + 1) / 2) { printf "%.2f %d\n", $1, $2 / 1024 }'
}

echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB, $(java -version 2>&1 | head -1), $(date -u +%Y-%m-%d)"
echo
echo "| kernel | symbols | ours list (s) | ours peak (MB) | phases (ms) | peer kallsyms-finder (s) | peer peak (MB) | speed-up |"
echo "|---|---|---|---|---|---|---|---|"
for id in "${ids[@]}"; do
  img=$corpus/$id/image
  read -r ours_s ours_mb < <(measure "$here/kallsyms" list "$img")
  n=$(wc -l < "$tmp/out")
  phases=$("$here/kallsyms" info --json "$img" | python3 -c 'import json,sys; t=json.load(sys.stdin)["timings"]; print(" ".join(f"{k} {v}" for k,v in t.items()))')
  peer_s=- peer_mb=- ratio=-
  if [[ -d $peer/vmlinux_to_elf ]]; then
    read -r peer_s peer_mb < <(PYTHONPATH=$peer measure /usr/bin/python3 -m vmlinux_to_elf.scripts.kallsyms_finder "$img")
    if [[ $peer_s != fail && $ours_s != fail ]]; then ratio=$(awk -v a="$peer_s" -v b="$ours_s" 'BEGIN{printf "%.1fx", a/b}'); fi
  fi
  echo "| $id | $n | $ours_s | $ours_mb | $phases | $peer_s | $peer_mb | $ratio |"
done
