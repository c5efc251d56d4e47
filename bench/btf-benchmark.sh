#!/usr/bin/env bash
# btf-benchmark.sh — what BTF costs: finding and parsing it (info's "btf" timing), `./kallsyms btf`
# (C header) and `--raw` end to end, bpftool on the already extracted .BTF for scale, and the Ghidra
# import with and without BTF (the issue's bound: within 2x). Run by hand; prints a Markdown table.
#
# usage: bench/btf-benchmark.sh [ID ...]     (default: sid-amd64-amd64 trixie-amd64-amd64 bookworm-arm64-arm64)
#   KERNEL_CORPUS  corpus directory (default ~/.cache/kernel-corpus)
#   BTF_TRUTH      .ci/fetch-btf-truth.sh's output (default ~/.cache/kernel-btf), for the bpftool column
#   RUNS           runs per measurement, the median is reported (default 3; imports run once)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${KERNEL_CORPUS:-$HOME/.cache/kernel-corpus}
truth=${BTF_TRUTH:-$HOME/.cache/kernel-btf}
runs=${RUNS:-3}
ids=("$@")
((${#ids[@]})) || ids=(sid-amd64-amd64 trixie-amd64-amd64 bookworm-arm64-arm64)
"$here/kallsyms" --version >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# median of RUNS runs: "seconds peak_MB"
measure() {
  local i; : > "$tmp/t"
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f "%e %M" -o "$tmp/one" "$@" > /dev/null 2>&1 || { echo "fail -"; return; }
    cat "$tmp/one" >> "$tmp/t"
  done
  sort -n "$tmp/t" | awk -v n="$runs" 'NR == int((n + 1) / 2) { printf "%.2f %d\n", $1, $2 / 1024 }'
}

echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB, $(java -version 2>&1 | head -1), $(date -u +%Y-%m-%d)"
echo
echo "| kernel | BTF types | find+parse (ms) | btf → C header (s) | peak (MB) | btf --raw (s) | bpftool raw / C on the extracted .BTF (s) | import without BTF (s) | import with BTF (s) | ratio | BTF in Ghidra: types / prototypes (ms) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for id in "${ids[@]}"; do
  img=$corpus/$id/image
  [[ -f $img ]] || { echo "| $id | (not in the corpus) |"; continue; }
  info=$("$here/kallsyms" info --json "$img")
  types=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["btf"].get("types","-"))' "$info")
  parse=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["timings"]["btf"])' "$info")
  read -r ch chm < <(measure "$here/kallsyms" btf "$img")
  read -r raw _ < <(measure "$here/kallsyms" btf --raw "$img")
  bt="-"
  if [[ -f $truth/$id/vmlinux.btf ]]; then
    read -r br _ < <(measure bpftool btf dump file "$truth/$id/vmlinux.btf")
    read -r bc _ < <(measure bpftool btf dump file "$truth/$id/vmlinux.btf" format c)
    bt="$br / $bc"
  fi
  rm -rf "$tmp/p1" "$tmp/p2"; mkdir -p "$tmp/p1" "$tmp/p2"
  without=$("$here/kallsyms" import --no-btf --json "$img" --project "$tmp/p1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
  with_json=$("$here/kallsyms" import --json "$img" --project "$tmp/p2")
  with=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["seconds"])' "$with_json")
  split=$(python3 -c 'import json,re,sys; m=re.search(r"types (\d+) ms, prototypes and variables (\d+) ms", json.loads(sys.argv[1])["log"]); print(m.group(1)+" / "+m.group(2) if m else "-")' "$with_json")
  ratio=$(awk -v a="$with" -v b="$without" 'BEGIN{printf "%.2fx", a/b}')
  echo "| $id | $types | $parse | $ch | $chm | $raw | $bt | $without | $with | $ratio | $split |"
done
