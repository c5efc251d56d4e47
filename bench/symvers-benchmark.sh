#!/usr/bin/env bash
# symvers-benchmark.sh — times `./kallsyms symvers` end to end (JVM start included, median of
# RUNS runs, peak RSS) on corpus kernels, and checks its lines against the kernel's own
# Module.symvers. There is no peer to compare with: extract-symvers.py needs base address, word
# size, endianness, version and a PREL32 flag by hand. Run by hand; prints a Markdown table.
#
# usage: bench/symvers-benchmark.sh [ID ...]   (default: every kernel in the corpus)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${KERNEL_CORPUS:-$HOME/.cache/kernel-corpus}
runs=${RUNS:-3}
ids=("$@")
if ((${#ids[@]} == 0)); then
  for d in "$corpus"/*/; do [[ -f $d/meta.env ]] && ids+=("$(basename "$d")"); done
fi
"$here/kallsyms" --version >/dev/null   # builds on first use, outside the timings
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB, $(java -version 2>&1 | head -1), $(date -u +%Y-%m-%d)"
echo
echo "| kernel | exports | CRCs | symvers (s) | peak (MB) | equals Debian's |"
echo "|---|---|---|---|---|---|"
for id in "${ids[@]}"; do
  img=$corpus/$id/image
  : > "$tmp/t"
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f "%e %M" -o "$tmp/one" "$here/kallsyms" symvers "$img" > "$tmp/out" 2> "$tmp/err" || true
    tail -1 "$tmp/one" >> "$tmp/t"
  done
  read -r s mb < <(sort -n "$tmp/t" | awk -v n="$runs" 'NR == int((n + 1) / 2) { printf "%.2f %d\n", $1, $2 / 1024 }')
  crcs=$(sed -n 's/.*CRCs: \([^;]*\);.*/\1/p' "$tmp/err" | head -1)
  same=no
  if [[ -f $corpus/$id/Module.symvers ]] && cmp -s <(sort "$tmp/out") <(sort "$corpus/$id/Module.symvers"); then same=yes; fi
  echo "| $id | $(wc -l < "$tmp/out") | ${crcs:-?} | $s | $mb | $same |"
done
