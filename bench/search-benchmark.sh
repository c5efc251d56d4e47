#!/usr/bin/env bash
# search-benchmark.sh — how fast `./kallsyms list` gets through bytes that hold no kernel, and
# through a flash dump with a kernel at its end: random bytes, zeros, a 1 GiB and a 2 GiB dump
# (random bytes, then a corpus kernel), each beside `cat FILE > /dev/null` on the same file (the
# physical floor: the page cache's speed) and, when it is set up, the peer's kallsyms-finder.
# Whole process, JVM start included; median of RUNS runs; MB/s is the file's size over the
# median. Run by hand; prints a Markdown table. The files are made in TMPDIR (4.5 GB) and removed.
#
# usage: bench/search-benchmark.sh [KERNEL_ID]   (default trixie-amd64-amd64)
#   KERNEL_CORPUS, PEER, RUNS (default 3) as in bench/benchmark.sh; PEER_SEARCH=0 leaves the
#   peer out (it takes minutes on each of these files)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${KERNEL_CORPUS:-$HOME/.cache/kernel-corpus}
peer=${PEER:-$HOME/.cache/peer/vmlinux-to-elf}
runs=${RUNS:-3}
id=${1:-trixie-amd64-amd64}
kernel=$corpus/$id/image
[[ -f $kernel ]] || { echo "no corpus kernel $id under $corpus" >&2; exit 1; }
"$here/kallsyms" --version >/dev/null   # builds on first use, outside the timings
tmp=$(mktemp -d "${TMPDIR:-/tmp}/search-bench.XXXXXX"); trap 'rm -rf "$tmp"' EXIT

# median of RUNS runs: prints "seconds peak_MB"
measure() {
  local i; : > "$tmp/t"
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f "%e %M" -o "$tmp/one" "$@" > /dev/null 2>&1 || true
    # (a command that fails, as list does on bytes without a kernel, has time's own line first)
    tail -n 1 "$tmp/one" >> "$tmp/t"
  done
  sort -n "$tmp/t" | awk -v n="$runs" 'NR == int((n + 1) / 2) { printf "%.2f %d\n", $1, $2 / 1024 }'
}
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", b / 1e6 / s; else print "-" }'; }

size=$(stat -c %s "$kernel")
head -c 512M /dev/urandom > "$tmp/random-512M.bin"
head -c 512M /dev/zero > "$tmp/zeros-512M.bin"
{ head -c $((1024 * 1048576 - size)) /dev/urandom; cat "$kernel"; } > "$tmp/dump-1G.bin"
{ head -c $((2048 * 1048576 - size)) /dev/urandom; cat "$kernel"; } > "$tmp/dump-2G.bin"
# written back before anything is timed: the 4.5 GB just written would otherwise be flushed
# to disk during the first runs, and slow them
sync

echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB, $(java -version 2>&1 | head -1), $(date -u +%Y-%m-%d); kernel at the dumps' end: $id"
echo
echo "| file | bytes | cat (s) | ours list (s) | MB/s | peak (MB) | peak / file | symbols | peer kallsyms-finder (s) | peak (MB) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for f in random-512M zeros-512M dump-1G dump-2G; do
  file=$tmp/$f.bin
  bytes=$(stat -c %s "$file")
  read -r cat_s _ < <(measure sh -c "cat '$file' > /dev/null")
  read -r s mb < <(measure "$here/kallsyms" list "$file")
  n=$("$here/kallsyms" list "$file" 2>/dev/null | wc -l || true)
  peer_s=- peer_mb=-
  if [[ ${PEER_SEARCH:-1} == 1 && -d $peer/vmlinux_to_elf ]]; then
    read -r peer_s peer_mb < <(PYTHONPATH=$peer measure /usr/bin/python3 -m vmlinux_to_elf.scripts.kallsyms_finder "$file")
  fi
  ratio=$(awk -v m="$mb" -v b="$bytes" 'BEGIN { printf "%.2f", m * 1048576 / b }')
  echo "| $f | $bytes | $cat_s | $s | $(mbps "$bytes" "$s") | $mb | $ratio | $n | $peer_s | $peer_mb |"
done
