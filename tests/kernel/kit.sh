#!/usr/bin/env bash
# Builds (or reuses) the kernel kit for the IPVS VM: Debian's stock kernel (the package that
# linux-image-amd64 depends on), the modules listed in modules.list with their dependencies, and a
# tiny busybox initramfs whose /init is tests/kernel/init.
#
# Usage: tests/kernel/kit.sh            prints the kit directory on stdout (logs go to stderr)
#        tests/kernel/kit.sh --check    exits 0 when every prerequisite is present, else prints why
#
# Cache: ${LB_KERNEL_KIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-kernel-kit}/<package>_<version>/
#   pkg.deb          the downloaded kernel package (kept, so the kit can be rebuilt offline)
#   vmlinuz          the kernel
#   kver             the kernel release (uname -r in the guest)
#   modules/<kver>/  just the needed modules, depmod'ed
#   initramfs.cpio.gz, initramfs.key   rebuilt only when the key (hash of its inputs) changes
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${LB_KERNEL_KIT_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/lb-kernel-kit}"
meta_pkg="${LB_KERNEL_META_PACKAGE:-linux-image-amd64}"
kit_format=3 # bump when the kit layout or the initramfs recipe changes

cleanup_dirs=()
cleanup() { if ((${#cleanup_dirs[@]})); then rm -rf "${cleanup_dirs[@]}"; fi; }
trap cleanup EXIT

log() { printf '[kernel-kit] %s\n' "$*" >&2; }
die() { printf '[kernel-kit] error: %s\n' "$*" >&2; exit 1; }

# Prints the missing prerequisites, one per line (nothing when all are there).
missing_prereqs() {
  local tool
  for tool in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static cpio:cpio depmod:kmod modprobe:kmod \
    apt-get:apt apt-cache:apt dpkg-deb:dpkg gzip:gzip sha256sum:coreutils flock:util-linux timeout:coreutils; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "${tool%%:*}" >/dev/null 2>&1 ||
      echo "${tool%%:*} (package ${tool#*:})"
  done
  if command -v busybox >/dev/null 2>&1; then
    # The initramfs needs a static busybox (package busybox-static), not the dynamic one.
    local bb
    bb="$(command -v busybox)"
    if file_is_dynamic "$bb"; then echo "a static busybox (package busybox-static; $bb is dynamically linked)"; fi
  fi
}

file_is_dynamic() {
  # A dynamic ELF names its interpreter (PT_INTERP) in its first bytes; avoids depending on file(1).
  head -c 1024 "$1" | LC_ALL=C grep -q -a 'ld-linux'
}

# Resolves the concrete kernel package and its candidate version: "<package> <version>".
resolve_package() {
  local pkg ver
  pkg="$(apt-cache depends "$meta_pkg" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')" || true
  [ -n "$pkg" ] || return 1
  ver="$(apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')" || true
  { [ -n "$ver" ] && [ "$ver" != "(none)" ]; } || ver="$(apt-cache show "$pkg" 2>/dev/null | awk '$1 == "Version:" { print $2; exit }')"
  [ -n "$ver" ] || return 1
  printf '%s %s\n' "$pkg" "$ver"
}

# Reads modules.list: module names, the optional ones suffixed with "?".
read_modules() {
  sed -e 's/#.*//' -e 's/[[:space:]]//g' "$here/modules.list" | grep -v '^$'
}

build_modules() { # <kit> <deb>
  local kit="$1" deb="$2" tmp kver m opt path rel
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/lb-kit.XXXXXX")"
  cleanup_dirs+=("$tmp")
  log "extracting $(basename "$deb")"
  dpkg-deb -x "$deb" "$tmp/root"
  kver="$(find "$tmp/root/lib/modules" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | head -n1)"
  [ -n "$kver" ] || die "no /lib/modules/<version> in $deb"
  local vmlinuz="$tmp/root/boot/vmlinuz-$kver"
  [ -f "$vmlinuz" ] || die "no /boot/vmlinuz-$kver in $deb"
  depmod -b "$tmp/root" "$kver"
  local src="$tmp/root/lib/modules/$kver" dst="$tmp/mods/lib/modules/$kver"
  mkdir -p "$dst"
  local -A seen=()
  while read -r m; do
    opt=0
    case "$m" in *\?) opt=1; m="${m%\?}" ;; esac
    local deps
    if ! deps="$(modprobe -d "$tmp/root" -S "$kver" --show-depends "$m" 2>/dev/null)"; then
      if [ "$opt" = 1 ]; then log "optional module $m not in $kver, skipped"; continue; fi
      die "module $m not found in $kver"
    fi
    while read -r kind path _; do
      [ "$kind" = insmod ] || continue
      rel="${path#"$src"/}"
      [ -n "${seen[$rel]:-}" ] && continue
      seen[$rel]=1
      mkdir -p "$dst/$(dirname "$rel")"
      cp "$path" "$dst/$rel"
    done <<<"$deps"
  done < <(read_modules)
  local f
  for f in modules.order modules.builtin modules.builtin.modinfo; do
    [ -f "$src/$f" ] && cp "$src/$f" "$dst/$f"
  done
  depmod -b "$tmp/mods" "$kver"
  rm -rf "$kit/modules.new"
  mkdir -p "$kit/modules.new"
  mv "$dst" "$kit/modules.new/$kver"
  rm -rf "$kit/modules"
  mv "$kit/modules.new" "$kit/modules"
  cp "$vmlinuz" "$kit/vmlinuz"
  printf '%s\n' "$kver" >"$kit/kver"
  log "kernel $kver: ${#seen[@]} module files"
  rm -rf "$tmp"
}

build_initramfs() { # <kit>
  local kit="$1" kver st bb
  kver="$(cat "$kit/kver")"
  bb="$(command -v busybox)"
  st="$(mktemp -d "${TMPDIR:-/tmp}/lb-initramfs.XXXXXX")"
  cleanup_dirs+=("$st")
  mkdir -p "$st"/{bin,sbin,dev,proc,sys,host,newroot,results,rw,lib/modules,etc,tmp}
  cp "$bb" "$st/bin/busybox"
  ln -s busybox "$st/bin/sh"
  ln -s ../bin/busybox "$st/sbin/modprobe" # the kernel's request_module() runs /sbin/modprobe
  cp "$here/init" "$st/init"
  chmod 0755 "$st/init" "$st/bin/busybox"
  cp -a "$kit/modules/$kver" "$st/lib/modules/$kver"
  printf '%s\n' "$kver" >"$st/etc/kver"
  cp "$here/modules.list" "$st/etc/modules.list"
  mknod -m 0600 "$st/dev/console" c 5 1 2>/dev/null || true
  mknod -m 0666 "$st/dev/null" c 1 3 2>/dev/null || true
  (cd "$st" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet --owner=0:0 | gzip -1) >"$kit/initramfs.cpio.gz.new"
  mv "$kit/initramfs.cpio.gz.new" "$kit/initramfs.cpio.gz"
  log "initramfs: $(du -h "$kit/initramfs.cpio.gz" | cut -f1)"
  rm -rf "$st"
}

main() {
  if [ "${1:-}" = "--check" ]; then
    local why
    why="$(missing_prereqs)"
    if [ -n "$why" ]; then printf '%s\n' "$why" | paste -sd ';' - | sed 's/;/; /g'; return 1; fi
    return 0
  fi
  local why
  why="$(missing_prereqs)"
  [ -z "$why" ] || die "missing prerequisites: $(echo "$why" | paste -sd ',' -)"

  mkdir -p "$cache_root"
  local pkg ver kit resolved
  if ! resolved="$(resolve_package)" && [ "$(id -u)" = 0 ]; then
    log "apt cannot resolve $meta_pkg; running apt-get update once"
    apt-get update -qq >&2 || true
  fi
  if resolved="$(resolve_package)"; then
    read -r pkg ver <<<"$resolved"
    kit="$cache_root/${pkg}_${ver}"
  else
    # No apt metadata (offline laptop?): fall back to the newest complete kit in the cache.
    kit="$(find "$cache_root" -mindepth 2 -maxdepth 2 -name pkg.deb -printf '%T@ %h\n' 2>/dev/null | sort -rn | awk 'NR == 1 { print $2 }')"
    [ -n "$kit" ] || die "cannot resolve the package $meta_pkg depends on (apt-cache depends $meta_pkg), and no cached kit in $cache_root"
    log "apt cannot resolve $meta_pkg; using cached kit $kit"
  fi
  mkdir -p "$kit"
  exec 9>"$kit/.lock"
  flock 9

  if [ ! -s "$kit/pkg.deb" ]; then
    local dl
    dl="$(mktemp -d "${TMPDIR:-/tmp}/lb-kit-dl.XXXXXX")"
    cleanup_dirs+=("$dl")
    log "downloading $pkg $ver (apt-get download)"
    chmod 0777 "$dl" # lets apt's _apt user write there (avoids the unsandboxed-download warning)
    if ! (cd "$dl" && apt-get download -q "$pkg=$ver" >&2); then
      log "download failed; refreshing apt lists once and retrying"
      apt-get update -qq >&2 || true
      (cd "$dl" && apt-get download -q "$pkg" >&2) || { rm -rf "$dl"; die "apt-get download $pkg failed"; }
    fi
    mv "$dl"/*.deb "$kit/pkg.deb.part"
    rm -rf "$dl"
    mv "$kit/pkg.deb.part" "$kit/pkg.deb"
  fi

  local mods_key
  mods_key="$(sha256sum <"$here/modules.list" | cut -c1-16)-$kit_format"
  if [ ! -f "$kit/modules.key" ] || [ "$(cat "$kit/modules.key")" != "$mods_key" ] || [ ! -f "$kit/vmlinuz" ]; then
    build_modules "$kit" "$kit/pkg.deb"
    printf '%s\n' "$mods_key" >"$kit/modules.key"
  fi

  local key
  key="$( { cat "$here/init" "$kit/modules.key"; sha256sum <"$(command -v busybox)"; echo "$kit_format"; } | sha256sum | cut -c1-16)"
  if [ ! -f "$kit/initramfs.key" ] || [ "$(cat "$kit/initramfs.key")" != "$key" ] || [ ! -f "$kit/initramfs.cpio.gz" ]; then
    log "building initramfs"
    build_initramfs "$kit"
    printf '%s\n' "$key" >"$kit/initramfs.key"
  fi
  printf '%s\n' "$kit"
}

main "$@"
