#!/usr/bin/env bash
# dump-benchmark.sh — memory of a running kernel: time and peak memory of `list`, `info`, `isf`
# and `import` (Ghidra, the embedded 10.3) on the 512 MB dumps .ci/qemu-dump.sh makes (an ELF
# core and a raw pmemsave of one boot), with, when it is set up, the peer's kallsyms-finder
# (list) and vmlinux-to-elf (elf; beside ours) on the raw dump. Whole process, JVM start
# included; median of RUNS runs (import: one run). Run by hand; prints a Markdown table.
#
# usage: bench/dump-benchmark.sh [ID [BOOT]]   (default trixie-amd64-amd64 1; the boot is made if absent)
#   KERNEL_DUMPS, PEER, RUNS (default 3) as in bench/benchmark.sh; IMPORT=0 leaves the import out
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dumps=${KERNEL_DUMPS:-$HOME/.cache/kernel-dumps}
peer=${PEER:-$HOME/.cache/peer/vmlinux-to-elf}
runs=${RUNS:-3}
id=${1:-trixie-amd64-amd64}
boot=${2:-1}
bash "$here/.ci/qemu-dump.sh" "$id" "$boot" >/dev/null
dir=$dumps/$id/boot$boot
"$here/kallsyms" --version >/dev/null   # builds on first use, outside the timings
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dump-bench.XXXXXX"); trap 'rm -rf "$tmp"' EXIT

# median of N runs: prints "seconds peak_MB"
measure() {
  local n=$1 i; shift; : > "$tmp/t"
  for ((i = 0; i < n; i++)); do
    /usr/bin/time -f "%e %M" -o "$tmp/one" "$@" > /dev/null 2>&1 || true
    tail -n 1 "$tmp/one" >> "$tmp/t"
  done
  sort -n "$tmp/t" | awk -v n="$n" 'NR == int((n + 1) / 2) { printf "%.2f %d\n", $1, $2 / 1024 }'
}

echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB, $(java -version 2>&1 | head -1), $(date -u +%Y-%m-%d); $id boot $boot (_text $(sed -n 's/^runtime_text=//p' "$dir/meta.env"))"
echo
echo "| dump | bytes | list (s) | peak (MB) | info (s) | peak (MB) | isf (s) | peak (MB) | import (s) | peak (MB) | peer kallsyms-finder (s) | peak (MB) | peer vmlinux-to-elf (s) | peak (MB) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for f in core.elf raw.bin; do
  file=$dir/$f
  read -r ls_s ls_mb < <(measure "$runs" "$here/kallsyms" list "$file")
  read -r in_s in_mb < <(measure "$runs" "$here/kallsyms" info "$file")
  read -r is_s is_mb < <(measure "$runs" "$here/kallsyms" isf "$file" "$tmp/isf.json")
  im_s=- im_mb=-
  if [[ ${IMPORT:-1} == 1 ]]; then
    read -r im_s im_mb < <(measure 1 sh -c "rm -rf '$tmp/project' && '$here/kallsyms' import '$file' --project '$tmp/project'")
  fi
  pl_s=- pl_mb=- pe_s=- pe_mb=-
  if [[ -d $peer/vmlinux_to_elf && $f == raw.bin ]]; then
    read -r pl_s pl_mb < <(PYTHONPATH=$peer measure "$runs" /usr/bin/python3 -m vmlinux_to_elf.scripts.kallsyms_finder "$file")
    read -r pe_s pe_mb < <(PYTHONPATH=$peer measure 1 /usr/bin/python3 -m vmlinux_to_elf.scripts.vmlinux_to_elf "$file" "$tmp/peer.elf")
  fi
  echo "| $f | $(stat -c %s "$file") | $ls_s | $ls_mb | $in_s | $in_mb | $is_s | $is_mb | $im_s | $im_mb | $pl_s | $pl_mb | $pe_s | $pe_mb |"
done
