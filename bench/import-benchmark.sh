#!/usr/bin/env bash
# import-benchmark.sh — what a user waits for to get a labelled Ghidra program of a kernel:
#   ours:  ./kallsyms import FILE (the embedded Ghidra, our loader, no analysis), end to end
#   peer:  vmlinux-to-elf FILE OUT.elf, then Ghidra's ELF loader on OUT.elf (no analysis), the
#          same embedded Ghidra run as analyzeHeadless (kernelloader.ghidra.AnalyzeHeadlessMain)
#          READY=1: the peer's ELF import runs Ghidra's auto-analysis too, for a program as ready to
#          read as ours after a plain import (functions disassembled and decompilable)
# usage: bench/import-benchmark.sh [ID ...]   (default: trixie-amd64-amd64)
#   KERNEL_CORPUS, PEER as for benchmark.sh. Prints a Markdown table.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${KERNEL_CORPUS:-$HOME/.cache/kernel-corpus}
peer=${PEER:-$HOME/.cache/peer/vmlinux-to-elf}
ids=("$@"); ((${#ids[@]})) || ids=(trixie-amd64-amd64)
"$here/kallsyms" import --help >/dev/null   # builds the Ghidra module if needed
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp="$here/ghidra/target/classes:$(cat "$here/ghidra/target/runtime.classpath"):$(cat "$here/ghidra/target/ghidra.classpath")"

secs() { /usr/bin/time -f "%e %M" -o "$tmp/t" "$@" > "$tmp/out" 2>&1 || { echo "fail -"; return; }; awk '{printf "%.1f %d\n", $1, $2/1024}' "$tmp/t"; }

analysis=-noanalysis; [[ ${READY:-0} == 1 ]] && analysis=""
echo "| kernel | ours: import (s) | peak (MB) | labels | functions | peer: vmlinux-to-elf (s) | + Ghidra ELF import${analysis:+ (no analysis)}${analysis:-, auto-analysis} (s) | peer total (s) | speed-up |"
echo "|---|---|---|---|---|---|---|---|---|"
for id in "${ids[@]}"; do
  img=$corpus/$id/image
  rm -rf "$tmp/ours"
  read -r o_s o_mb < <(secs "$here/kallsyms" import "$img" --project "$tmp/ours" --json)
  labels=$(grep -o '"labels":[0-9]*' "$tmp/out" | cut -d: -f2 || true)
  functions=$(grep -o '[0-9]* functions disassembled' "$tmp/out" | cut -d' ' -f1 || true)
  p1=- p2=- total=- ratio=-
  if [[ -d $peer/vmlinux_to_elf ]]; then
    read -r p1 _ < <(PYTHONPATH=$peer secs /usr/bin/python3 -m vmlinux_to_elf.scripts.vmlinux_to_elf "$img" "$tmp/peer.elf")
    rm -rf "$tmp/peerproj"; mkdir -p "$tmp/peerproj"
    read -r p2 _ < <(secs java -Xmx8g -cp "$cp" kernelloader.ghidra.AnalyzeHeadlessMain "$tmp/peerproj" p \
        -import "$tmp/peer.elf" -loader ElfLoader $analysis)
    total=$(awk -v a="$p1" -v b="$p2" 'BEGIN{printf "%.1f", a+b}')
    ratio=$(awk -v a="$total" -v b="$o_s" 'BEGIN{printf "%.1fx", a/b}')
  fi
  echo "| $id | $o_s | $o_mb | $labels | ${functions:--} | $p1 | $p2 | $total | $ratio |"
done
