#!/usr/bin/env bash
# fetch-btf-truth.sh — ground truth for the BTF tests, from Debian's own tools: for each corpus
# kernel built with CONFIG_DEBUG_INFO_BTF, the .BTF section of the matching -dbg vmlinux
# (objcopy --dump-section .BTF=...), bpftool's raw dump of it and its C header
# (bpftool btf dump file ... format c). The corpus script keeps only nm of the -dbg vmlinux, so
# this downloads the -dbg package again once per kernel (about a minute each) and keeps ~6 MB.
#
# usage: .ci/fetch-btf-truth.sh [ID ...]     (default: every BTF kernel in the corpus)
#   KERNEL_CORPUS  corpus directory made by ../shared/tools/fetch-debian-kernels.sh
#                  (default ~/.cache/kernel-corpus; its .apt/<suite>/apt.conf is reused)
#   BTF_TRUTH      where the truth goes (default ~/.cache/kernel-btf/<id>/)
set -euo pipefail
corpus=${KERNEL_CORPUS:-$HOME/.cache/kernel-corpus}
truth=${BTF_TRUTH:-$HOME/.cache/kernel-btf}
for tool in bpftool objcopy dpkg-deb apt-get; do
  command -v "$tool" >/dev/null || { echo "fetch-btf-truth: $tool is needed (apt-get install bpftool binutils)" >&2; exit 1; }
done
ids=("$@")
if ((${#ids[@]} == 0)); then
  for d in "$corpus"/*/; do
    [[ -f $d/meta.env && -f $d/config ]] && grep -q '^CONFIG_DEBUG_INFO_BTF=y' "$d/config" && ids+=("$(basename "$d")")
  done
fi
mkdir -p "$truth"
work=$(mktemp -d "$truth/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
for id in "${ids[@]}"; do
  out=$truth/$id
  if [[ -f $out/vmlinux.btf && -f $out/bpftool.h ]]; then echo "$id: BTF truth cached"; continue; fi
  # shellcheck disable=SC1091
  (source "$corpus/$id/meta.env"
   conf=$corpus/.apt/$suite/apt.conf
   [[ -f $conf ]] || { echo "$id: no apt state for $suite in $corpus/.apt (run the corpus script first)" >&2; exit 1; }
   pkg=linux-image-$kernel_release-dbg
   rm -rf "${work:?}"/*; mkdir -p "$work/x"
   (cd "$work" && APT_CONFIG=$conf apt-get -qq download "$pkg:$debian_arch=$version" >/dev/null 2>&1 \
     || APT_CONFIG=$conf apt-get -qq download "$pkg:$debian_arch" >/dev/null 2>&1) \
     || { echo "$id: could not download $pkg" >&2; exit 1; }
   got=$(dpkg-deb -f "$work"/"$pkg"_*.deb Version)
   [[ $got == "$version" ]] || { echo "$id: the mirror has $pkg $got, the corpus image is $version: not the same build" >&2; exit 1; }
   dpkg-deb --fsys-tarfile "$work"/"$pkg"_*.deb | tar -x -C "$work/x" --wildcards '*/vmlinux*'
   vmlinux=$(find "$work/x" -path '*/debug/*' -type f -name 'vmlinux*' | head -n 1)
   [[ -n $vmlinux ]] || { echo "$id: no vmlinux in $pkg" >&2; exit 1; }
   mkdir -p "$out.tmp"
   # objcopy knows only the host's ELF machines; readelf reads any, and dd cuts the section out
   if ! objcopy --dump-section .BTF="$out.tmp/vmlinux.btf" "$vmlinux" /dev/null 2>/dev/null; then
     read -r off size < <(readelf -S -W "$vmlinux" | awk '$2 == ".BTF" { print $5, $6 } $3 == ".BTF" { print $6, $7 }')
     [[ -n $off ]] || { echo "$id: no .BTF section in $vmlinux" >&2; exit 1; }
     dd if="$vmlinux" of="$out.tmp/vmlinux.btf" bs=4096 iflag=skip_bytes,count_bytes skip=$((16#$off)) count=$((16#$size)) status=none
   fi
   bpftool btf dump file "$out.tmp/vmlinux.btf" > "$out.tmp/bpftool.raw" || exit 1
   bpftool btf dump file "$out.tmp/vmlinux.btf" format c > "$out.tmp/bpftool.h" || exit 1
   echo "bpftool=$(bpftool version | head -1)" > "$out.tmp/meta.env"
   echo "version=$version" >> "$out.tmp/meta.env"
   rm -rf "$out"; mv "$out.tmp" "$out"
   echo "$id: .BTF $(stat -c %s "$out/vmlinux.btf") bytes, $(grep -c '^\[' "$out/bpftool.raw") types") || true
  rm -rf "${work:?}"/*
done
