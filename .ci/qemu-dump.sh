#!/usr/bin/env bash
# qemu-dump.sh — a running kernel's memory, with its own /proc/kallsyms as ground truth: boots a
# corpus kernel in Debian's QEMU (TCG: no KVM needed) with a busybox-static initramfs made here
# (kptr_restrict=0; it prints /proc/kallsyms and ps to the serial console, starts processes with
# known names, then waits), dumps the guest's memory through the QEMU monitor both ways (an ELF
# core by dump-guest-memory, raw physical memory by pmemsave), and keeps it all in a cache:
#   $KERNEL_DUMPS/ID/bootN/{core.elf, raw.bin, kallsyms, ps, serial.log, meta.env}
# Each boot is a fresh KASLR slide. Used by the tests of running kernels, and by hand.
#
# usage: .ci/qemu-dump.sh ID [BOOT]     (BOOT: a number, default 1; an existing boot is kept)
#   KERNEL_CORPUS (default ~/.cache/kernel-corpus), KERNEL_DUMPS (default ~/.cache/kernel-dumps),
#   MEM (guest RAM in MiB, default 512), TIMEOUT (seconds to wait for the guest, default 600),
#   MODULES (names of the kernel's modules to insmod in the guest, their dependencies first: from
#   Debian's package of the kernel, fetched once into $KERNEL_DUMPS/.modules/ID with the corpus's
#   apt lists), VMCOREINFO=1 (QEMU's vmcoreinfo device, and the guest's qemu_fw_cfg module that
#   fills it: the ELF core then holds a VMCOREINFO note, as kdump's vmcore does), MODULES_ONLY=1
#   (only fetch the kernel's modules and print their directory), PAGING=1 (also core-paging.elf:
#   dump-guest-memory with paging, the guest's virtual memory as its page tables map it)
set -euo pipefail
id=${1:?usage: qemu-dump.sh ID [BOOT]}
boot=${2:-1}
corpus=${KERNEL_CORPUS:-$HOME/.cache/kernel-corpus}
dumps=${KERNEL_DUMPS:-$HOME/.cache/kernel-dumps}
mem=${MEM:-512}
timeout=${TIMEOUT:-600}
image=$corpus/$id/image
[[ -f $image ]] || { echo "qemu-dump: no corpus kernel $id under $corpus" >&2; exit 1; }
out=$dumps/$id/boot$boot
if [[ -f $out/meta.env && ${MODULES_ONLY:-} != 1 ]]; then echo "qemu-dump: $out is there already"; exit 0; fi

# the guest's Debian architecture (amd64, arm64, armhf, ...)
guest_arch=$(sed -n 's/^debian_arch=//p' "$corpus/$id/meta.env" 2>/dev/null || true)
[[ -n $guest_arch ]] || guest_arch=${id#*-}; guest_arch=${guest_arch%%-*}

# the kernel's own modules, from Debian's package of it (the version the corpus holds), kept once extracted
modules_of() {
  local meta=$corpus/$id/meta.env pkg version suite release conf dl
  pkg=$(sed -n 's/^package=//p' "$meta"); version=$(sed -n 's/^version=//p' "$meta")
  # (sid's 7.x packaging: the image in linux-binary-REL, the modules in linux-modules-REL)
  pkg=${pkg/#linux-binary-/linux-modules-}
  suite=$(sed -n 's/^suite=//p' "$meta"); release=$(sed -n 's/^kernel_release=//p' "$meta")
  local into=$dumps/.modules/$id
  if [[ ! -f $into/lib/modules/$release/modules.dep ]]; then
    conf=$corpus/.apt/$suite/apt.conf
    [[ -f $conf ]] || { echo "qemu-dump: no apt lists for $suite under $corpus/.apt (fetch-debian-kernels.sh makes them)" >&2; exit 1; }
    dl=$(mktemp -d)
    (cd "$dl" && APT_CONFIG=$conf apt-get -qq download "$pkg:$guest_arch=$version" >/dev/null 2>&1) \
      || { echo "qemu-dump: could not fetch $pkg $version (the kernel's modules) from Debian" >&2; rm -rf "$dl"; exit 1; }
    dpkg-deb -x "$dl"/*.deb "$dl/x"
    # (merged /usr: the modules are under usr/lib/modules; the package ships no modules.dep,
    # which depmod makes on installation: made here the same way)
    local tree=$dl/x/usr/lib/modules/$release
    [[ -d $tree ]] || tree=$dl/x/lib/modules/$release
    [[ -d $tree/kernel ]] || { echo "qemu-dump: $pkg holds no modules for $release" >&2; rm -rf "$dl"; exit 1; }
    command -v depmod >/dev/null || { echo "qemu-dump: depmod is needed (apt-get install kmod)" >&2; rm -rf "$dl"; exit 1; }
    mkdir -p "$into/lib/modules" && rm -rf "$into/lib/modules/$release" && mv "$tree" "$into/lib/modules/"
    depmod -b "$into" "$release"
    rm -rf "$dl"
  fi
  echo "$into/lib/modules/$release"
}

# MODULES_ONLY=1: the kernel's modules fetched (once) and their directory printed; no boot
if [[ ${MODULES_ONLY:-} == 1 ]]; then modules_of; exit 0; fi

# the machine for each architecture of the corpus
case $id in
  # (ram: where the machine's RAM starts, what pmemsave saves from)
  # (4-level paging, as most PCs have: Volatility 3 translates no 5-level page tables, which -cpu max would give)
  *-amd64-*) qemu=(qemu-system-x86_64 -machine pc -cpu max,la57=off); console=ttyS0; ram=0 ;;
  *-arm64-*) qemu=(qemu-system-aarch64 -machine virt -cpu max); console=ttyAMA0; ram=$((0x40000000)) ;;
  *) echo "qemu-dump: no QEMU machine set up for $id (amd64 and arm64 kernels are)" >&2; exit 1 ;;
esac
command -v "${qemu[0]}" >/dev/null || { echo "qemu-dump: ${qemu[0]} not found (apt-get install qemu-system-x86 / qemu-system-arm)" >&2; exit 1; }
# a static busybox of the guest's architecture: the host's own, or Debian's package of that
# architecture, fetched once into the cache (apt-get download; the architecture is added to dpkg)
if [[ $guest_arch == "$(dpkg --print-architecture)" ]]; then
  busybox=/bin/busybox
  [[ -x $busybox ]] && file -L "$busybox" | grep -q 'statically linked' \
    || { echo "qemu-dump: a static busybox is needed at /bin/busybox (apt-get install busybox-static)" >&2; exit 1; }
else
  busybox=$dumps/.busybox/$guest_arch/busybox
  if [[ ! -x $busybox ]]; then
    sudo=""; [[ $(id -u) == 0 ]] || sudo=sudo
    if ! dpkg --print-foreign-architectures | grep -qx "$guest_arch"; then
      $sudo dpkg --add-architecture "$guest_arch" && $sudo apt-get update -qq >/dev/null
    fi
    dl=$(mktemp -d)
    (cd "$dl" && apt-get download -qq "busybox-static:$guest_arch" >/dev/null) \
      || { echo "qemu-dump: could not fetch busybox-static:$guest_arch from Debian" >&2; exit 1; }
    dpkg-deb -x "$dl"/busybox-static_*.deb "$dl/x"
    mkdir -p "$(dirname "$busybox")" && cp "$dl/x/bin/busybox" "$busybox" && rm -rf "$dl"
  fi
fi

modules=${MODULES:-}
extra=()
if [[ ${VMCOREINFO:-} == 1 ]]; then modules="qemu_fw_cfg $modules"; extra+=(-device vmcoreinfo); fi

work=$(mktemp -d "${TMPDIR:-/tmp}/qemu-dump.XXXXXX")
trap 'kill "${qpid:-}" 2>/dev/null || true; [[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT
mkdir -p "$work/root/bin" "$work/root/proc" "$work/root/sys" "$work/root/dev"
cp "$busybox" "$work/root/bin/busybox"
# processes the memory forensics tests look for, by name: copies of busybox (a busybox named
# busybox* runs the applet its first argument names), so each process's comm is its own
for name in busybox-kl-one busybox-kl-two; do cp "$busybox" "$work/root/bin/$name"; done
# the modules asked for, each after the ones it depends on (modules.dep), uncompressed
: > "$work/root/modules.order"
if [[ -n $modules ]]; then
  mdir=$(modules_of) || exit 1
  mkdir -p "$work/root/lib/modules"
  add_module() {
    local name=$1 path deps d
    path=$(awk -F: -v n="$name" '{ f = $1; sub(/.*\//, "", f); sub(/\.ko(\.(xz|zst|gz))?$/, "", f); gsub(/-/, "_", f); if (f == n) { print $1; exit } }' "$mdir/modules.dep")
    [[ -n $path ]] || { echo "qemu-dump: no module $name in $mdir/modules.dep" >&2; exit 1; }
    grep -qx "$name.ko" "$work/root/modules.order" && return 0
    deps=$(awk -F: -v p="$path" '$1 == p { print $2; exit }' "$mdir/modules.dep")
    for d in $deps; do d=${d##*/}; d=${d%%.ko*}; add_module "${d//-/_}"; done
    case $path in
      *.xz) xz -dc "$mdir/$path" ;; *.zst) zstd -qdc "$mdir/$path" ;; *.gz) gzip -dc "$mdir/$path" ;; *) cat "$mdir/$path" ;;
    esac > "$work/root/lib/modules/$name.ko"
    echo "$name.ko" >> "$work/root/modules.order"
  }
  for m in $modules; do add_module "${m//-/_}"; done
fi
cat > "$work/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in $(cat /modules.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
echo 0 > /proc/sys/kernel/kptr_restrict
/bin/busybox-kl-one sleep 100000 &
/bin/busybox-kl-two sleep 100000 &
sleep 1
echo KALLSYMS-BEGIN
cat /proc/kallsyms
echo KALLSYMS-END
echo PS-BEGIN
ps -o pid,comm
echo PS-END
echo MODULES-BEGIN
cat /proc/modules
for d in /sys/module/*/sections; do
  [ -d "$d" ] || continue
  m=${d%/sections}; m=${m##*/}
  for f in "$d"/.* "$d"/*; do [ -f "$f" ] && echo "$m ${f##*/} $(cat "$f")"; done
done
echo MODULES-END
echo GUEST-READY
while true; do sleep 1000; done
INIT
chmod +x "$work/root/init"
(cd "$work/root" && find . | cpio -o -H newc --quiet | gzip -1 > "$work/initrd.gz")

"${qemu[@]}" -m "$mem" -smp 1 -nographic -no-reboot -kernel "$image" -initrd "$work/initrd.gz" \
  -append "console=$console panic=-1 kaslr loglevel=4" "${extra[@]}" \
  -qmp "unix:$work/qmp,server,nowait" -serial "file:$work/serial.log" -display none \
  > "$work/qemu.log" 2>&1 &
qpid=$!
t0=$(date +%s)
until grep -q GUEST-READY "$work/serial.log" 2>/dev/null; do
  if ! kill -0 "$qpid" 2>/dev/null; then echo "qemu-dump: QEMU ended before the guest was ready:" >&2; tail -n 5 "$work/qemu.log" "$work/serial.log" >&2; exit 1; fi
  if (( $(date +%s) - t0 > timeout )); then echo "qemu-dump: the guest was not ready after ${timeout} s" >&2; tail -n 5 "$work/serial.log" >&2; exit 1; fi
  sleep 1
done
booted=$(( $(date +%s) - t0 ))
mkdir -p "$work/out"

# QEMU's machine protocol (QMP, JSON): the guest stopped, dumped as an ELF core and as raw
# physical memory, then ended
python3 - "$work/qmp" "$work/out/core.elf" "$work/out/raw.bin" "$ram" "$((mem << 20))" "${PAGING:-0}" > "$work/monitor.log" <<'PY'
import json, socket, sys
sock, core, raw, start, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
paging = sys.argv[6] == "1"
s = socket.socket(socket.AF_UNIX); s.connect(sock); s.settimeout(900)
f = s.makefile("rw")
def reply():
    while True:
        m = json.loads(f.readline())
        if "return" in m or "error" in m: return m
def ask(cmd, **args):
    f.write(json.dumps({"execute": cmd, "arguments": args}) + "\n"); f.flush()
    m = reply()
    if "error" in m: raise SystemExit(cmd + ": " + m["error"]["desc"])
    print(cmd, "ok")
json.loads(f.readline())   # the greeting
ask("qmp_capabilities")
ask("stop")
ask("dump-guest-memory", paging=False, protocol="file:" + core)
ask("pmemsave", val=start, size=size, filename=raw)
if paging:
    # the guest's virtual memory, as its own page tables map it (QEMU walks them): PT_LOAD
    # segments at virtual addresses, modules' vmalloc'ed memory among them
    ask("dump-guest-memory", paging=True, protocol="file:" + core.replace("core.elf", "core-paging.elf"))
f.write(json.dumps({"execute": "quit"}) + "\n"); f.flush()
# (QEMU answers, then closes the socket: waited for, so that the quit is not lost with it)
try:
    while f.readline():
        pass
except OSError:
    pass
PY
# QEMU ends on the quit; one that does not within 30 s is ended here
for _ in $(seq 30); do kill -0 "$qpid" 2>/dev/null || break; sleep 1; done
kill "$qpid" 2>/dev/null || true
wait "$qpid" 2>/dev/null || true
[[ -s $work/out/core.elf && -s $work/out/raw.bin ]] || { echo "qemu-dump: the monitor made no dump:" >&2; cat "$work/monitor.log" >&2; exit 1; }

tr -d '\r' < "$work/serial.log" > "$work/out/serial.log"
# (the console's first line may carry the firmware's escape sequences before the marker)
sed -n '/KALLSYMS-BEGIN$/,/^KALLSYMS-END$/p' "$work/out/serial.log" | sed '1d;$d' > "$work/out/kallsyms"
sed -n '/^PS-BEGIN$/,/^PS-END$/p' "$work/out/serial.log" | sed '1d;$d' > "$work/out/ps"
# /proc/modules, then "module section address" for every section /sys/module/*/sections lists
sed -n '/^MODULES-BEGIN$/,/^MODULES-END$/p' "$work/out/serial.log" | sed '1d;$d' > "$work/out/modules"
if grep -q '^INSMOD-FAILED' "$work/out/serial.log"; then echo "qemu-dump: insmod failed in the guest: $(grep '^INSMOD-FAILED' "$work/out/serial.log" | tr '\n' ' ')" >&2; exit 1; fi
[[ -s $work/out/kallsyms ]] || { echo "qemu-dump: the guest printed no /proc/kallsyms" >&2; exit 1; }
text=$(awk '$3 == "_text" { print $1; exit }' "$work/out/kallsyms")
{
  echo "id=$id"
  echo "boot=$boot"
  echo "mem_mib=$mem"
  echo "ram_start=$(printf 0x%x "$ram")"
  echo "runtime_text=0x$text"
  echo "symbols=$(wc -l < "$work/out/kallsyms")"
  echo "booted_s=$booted"
  echo "modules=$(tr '\n' ' ' < "$work/root/modules.order" | sed 's/\.ko//g; s/ $//')"
  echo "vmcoreinfo_device=${VMCOREINFO:-0}"
  echo "paging_core=${PAGING:-0}"
  echo "qemu=$("${qemu[0]}" --version | head -1)"
  echo "date=$(date -u +%Y-%m-%d)"
} > "$work/out/meta.env"
mkdir -p "$(dirname "$out")"
mv "$work/out" "$out"
echo "qemu-dump: $out: _text at 0x$text, $(wc -l < "$out/kallsyms") symbols, booted in ${booted} s"
