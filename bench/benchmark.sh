#!/usr/bin/env bash
# benchmark.sh — times `./kallsyms list` and `./kallsyms elf` end to end (JVM start included), with
# peak memory, on corpus kernels; and, when it is set up, the peer vmlinux-to-elf's kallsyms-finder
# and vmlinux-to-elf commands on the same files in the same run, with the ratios. Run by hand;
# prints a Markdown table for README. ELF=0 leaves the (slow) ELF columns out.
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
    # each run writes a new output file, as a user's first run does (replacing an existing file
    # costs ext4 an early flush: both tools are measured the same way)
    rm -f "$tmp/ours.elf" "$tmp/peer.elf"
    /usr/bin/time -f "%e %M" -o "$tmp/one" "$@" > "$tmp/out" 2>/dev/null || { echo "fail -"; return; }
    cat "$tmp/one" >> "$tmp/t"
  done
  sort -n "$tmp/t" | awk -v n="$runs" 'NR == int((n + 1) / 2) { printf "%.2f %d\n", $1, $2 / 1024 }'
}

# the peer's time over ours, or - when either failed
speedup() { if [[ $1 != fail && $1 != - && $2 != fail && $2 != - ]]; then awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1fx", a/b}'; else echo -; fi; }

echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB, $(java -version 2>&1 | head -1), $(date -u +%Y-%m-%d)"
echo
elf=${ELF:-1}
echo "| kernel | symbols | ours list (s) | peak (MB) | peer kallsyms-finder (s) | peak (MB) | list speed-up | ours elf (s) | peak (MB) | peer vmlinux-to-elf (s) | peak (MB) | elf speed-up |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for id in "${ids[@]}"; do
  img=$corpus/$id/image
  read -r ours_s ours_mb < <(measure "$here/kallsyms" list "$img")
  n=$(wc -l < "$tmp/out")
  peer_s=- peer_mb=- ratio=-
  if [[ -d $peer/vmlinux_to_elf ]]; then
    read -r peer_s peer_mb < <(PYTHONPATH=$peer measure /usr/bin/python3 -m vmlinux_to_elf.scripts.kallsyms_finder "$img")
    ratio=$(speedup "$peer_s" "$ours_s")
  fi
  e_s=- e_mb=- pe_s=- pe_mb=- e_ratio=-
  if [[ $elf == 1 ]]; then
    read -r e_s e_mb < <(measure "$here/kallsyms" elf "$img" "$tmp/ours.elf")
    if [[ -d $peer/vmlinux_to_elf ]]; then
      read -r pe_s pe_mb < <(PYTHONPATH=$peer measure /usr/bin/python3 -m vmlinux_to_elf.scripts.vmlinux_to_elf "$img" "$tmp/peer.elf")
      e_ratio=$(speedup "$pe_s" "$e_s")
    fi
  fi
  echo "| $id | $n | $ours_s | $ours_mb | $peer_s | $peer_mb | $ratio | $e_s | $e_mb | $pe_s | $pe_mb | $e_ratio |"
done
