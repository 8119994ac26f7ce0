#!/usr/bin/env bash
# Builds the Debian package lb_VERSION_amd64.deb with dpkg-deb (no debhelper): the NativeAOT lb at /usr/sbin/lb,
# lb.service, the man page lb(8), /etc/lb/keepalived.conf (a conffile), the maintainer scripts (packaging/debian/).
#
# Usage: packaging/build-deb.sh [-o DIR] [--lb PATH] [--version V] [-Z xz|gzip|zstd|none] [--lintian]
#   -o DIR        where the .deb goes (default: artifacts/deb); the path of the .deb is the last line printed
#   --lb PATH     package this lb executable (e.g. the one the test build or demo published) instead of running
#                 `dotnet publish src/Lb -c Release` (into artifacts/lb)
#   --version V   the package version (default: <Version> of src/Lb/Lb.csproj, what `lb --version` prints)
#   -Z COMP       dpkg-deb's compression (default xz; the tests use gzip, much faster under emulation)
#   --lintian     run lintian on the result (when installed) and fail on an error
# Needs: dpkg-deb, gzip; the .NET SDK and clang without --lb. Runs as any user (--root-owner-group: files owned by root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
out="$repo/artifacts/deb"
lb=""
version=""
comp="xz"
lintian=0
while (($#)); do
  case "$1" in
    -o) out="$2"; shift 2 ;;
    --lb) lb="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    -Z) comp="$2"; shift 2 ;;
    --lintian) lintian=1; shift ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-deb: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
die() { echo "build-deb: $*" >&2; exit 1; }
command -v dpkg-deb >/dev/null || die "dpkg-deb is not installed"

if [ -z "$version" ]; then
  version="$(sed -n 's:.*<Version>\([^<]*\)</Version>.*:\1:p' "$repo/src/Lb/Lb.csproj" | head -n1)"
  [ -n "$version" ] || die "no <Version> in src/Lb/Lb.csproj"
fi
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || die "'$version' is not a Debian version"

if [ -z "$lb" ]; then
  command -v dotnet >/dev/null || die "the .NET SDK (dotnet) is not installed (or give --lb PATH)"
  echo "build-deb: dotnet publish src/Lb -c Release -o artifacts/lb (NativeAOT; minutes on a busy machine)" >&2
  log="$(mktemp)"
  if ! dotnet publish "$repo/src/Lb/Lb.csproj" -c Release -v q -nologo -o "$repo/artifacts/lb" >"$log" 2>&1; then
    grep -E 'error' "$log" | sort -u | head -n 30 >&2 || tail -n 30 "$log" >&2
    rm -f "$log"
    die "dotnet publish failed"
  fi
  rm -f "$log"
  lb="$repo/artifacts/lb/lb"
fi
[ -x "$lb" ] || die "$lb is not an executable"
# The binary must be the version being packaged (a stale --lb would make a lying package).
got="$("$lb" --version | sed -n 's/^Lb v\([^ ]*\).*/\1/p')"
[ "$got" = "$version" ] || die "$lb says version '$got', packaging '$version'"

# The smallest glibc the binary links against (its newest GLIBC_x.y symbol version) for Depends.
glibc="2.34"
if command -v objdump >/dev/null; then
  glibc="$(objdump -T "$lb" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)"
fi

stage="$(mktemp -d "${TMPDIR:-/tmp}/lb-deb.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
umask 022
install -d "$root/DEBIAN" "$root/usr/sbin" "$root/usr/lib/systemd/system" "$root/usr/share/man/man8" \
  "$root/usr/share/doc/lb/examples" "$root/etc/lb"
install -m 0755 "$lb" "$root/usr/sbin/lb"
# dotnet publish already strips the NativeAOT executable (its symbols are in lb.dbg beside it, not packaged); the
# compilers' .comment section goes too, as dh_strip does.
if command -v objcopy >/dev/null; then objcopy --remove-section=.comment "$root/usr/sbin/lb"; fi
install -m 0644 "$here/lb.service" "$root/usr/lib/systemd/system/lb.service"
install -m 0644 "$here/keepalived.conf" "$root/etc/lb/keepalived.conf"
# The man page's footer names the packaged version.
sed "s/^\(\.TH LB 8 [^ ]* \)\"Lb [^\"]*\"/\1\"Lb $version\"/" "$repo/docs/lb.8" | gzip -9n >"$root/usr/share/man/man8/lb.8.gz"
chmod 0644 "$root/usr/share/man/man8/lb.8.gz"
install -m 0644 "$here/debian/copyright" "$root/usr/share/doc/lb/copyright"
install -d "$root/usr/share/lintian/overrides"
install -m 0644 "$here/debian/lintian-overrides" "$root/usr/share/lintian/overrides/lb"
date_epoch="$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)"
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(LC_ALL=C date -u -R -d "@$date_epoch")/" "$here/debian/changelog" |
  gzip -9n >"$root/usr/share/doc/lb/changelog.gz"
chmod 0644 "$root/usr/share/doc/lb/changelog.gz"
install -m 0644 "$repo/keepalived.conf.example" "$root/usr/share/doc/lb/examples/keepalived.conf.example"
for s in postinst prerm postrm; do install -m 0755 "$here/debian/$s" "$root/DEBIAN/$s"; done
# Every file under /etc is a conffile: dpkg keeps an operator's edits on upgrade and on remove, drops them on purge.
(cd "$root" && find etc -type f | sort | sed 's:^:/:') >"$root/DEBIAN/conffiles"
chmod 0644 "$root/DEBIAN/conffiles"

size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
cat >"$root/DEBIAN/control" <<EOF
Package: lb
Version: $version
Architecture: amd64
Maintainer: Lb developers <lb@example.org>
Installed-Size: $size
Depends: libc6 (>= $glibc), adduser
Recommends: iproute2, libssl3 | libssl3t64
Suggests: ipvsadm
Section: net
Priority: optional
Description: keepalived-compatible LVS/IPVS and VRRP manager
 Lb reads keepalived's configuration language and does keepalived's job: VRRP
 instances that move virtual IP addresses between directors, and LVS/IPVS
 virtual servers whose real servers are health-checked (TCP, HTTP, SSL, SMTP,
 DNS, scripts, files). It talks to the kernel over netlink only.
 .
 Beyond keepalived: runtime control over a local socket (drain, disable,
 enable and weight real servers; VRRP maintenance and failover), slow start,
 reload plans, split-brain detection, a journal of state changes and
 Prometheus metrics. lb(8) documents the command line.
EOF
chmod 0644 "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

mkdir -p "$out"
deb="$(cd "$out" && pwd)/lb_${version}_amd64.deb"
SOURCE_DATE_EPOCH="$date_epoch" dpkg-deb --root-owner-group -Z"$comp" --build "$root" "$deb" >/dev/null
if ((lintian)); then
  if command -v lintian >/dev/null; then
    lintian --fail-on error "$deb" >&2 || die "lintian found errors"
  else
    echo "build-deb: lintian is not installed; skipped" >&2
  fi
fi
echo "$deb"
