#!/usr/bin/env bash
# Builds the Nomad release cms tests run, from the Go module proxy, packed like HashiCorp's official release
# (nomad_<ver>_<os>_<arch>.zip holding one file, `nomad`, mode 0755), verified, and cached; a warm run takes
# about a second and needs no Go.
#
# Why a build: HashiCorp's release site is not reachable here, the Go module proxy is. It serves
# github.com/hashicorp/nomad v1.11.3 but not the matching nested module nomad/api; only one pseudo-version of
# nomad/api is served, and Nomad builds and runs against it. So: a wrapper module of our own that copies Nomad's
# replace directives (except ./api), replaces nomad/api with that pseudo-version and names Nomad as a Go tool,
# then `CGO_ENABLED=0 go build -trimpath -tags hashicorpmetrics` (no `ui` tag: its generated assets are not in
# the module download). CGO off: raw_exec, docker, java and qemu drivers, no `exec` driver.
#
# Requires: Go >= the version Nomad's go.mod names (1.25.8 for v1.11.3), or Go 1.21+ which then fetches that
# toolchain itself (GOTOOLCHAIN, from the module proxy, checksum-verified, ~12 s once); reaching a Go module proxy
# (GOPROXY, default proxy.golang.org) and the checksum database; python3 (to zip); flock.
# Debian bookworm's golang (1.19) is too old: install Go from go.dev (or bookworm-backports' golang-1.2x).
# Cold: a few minutes of downloads and ~6-10 minutes of compiling on 2 cores; the module and build caches live
# under the cache folder, so a rebuild after the zip was removed takes well under a minute.
#
# stdout carries only shell assignments for `eval "$(bash scripts/nomad-dist.sh)"`:
#   CMS_NOMAD_DIST=/abs/path/nomad_<ver>_<os>_<arch>.zip
#   CMS_NOMAD_VERSION=<ver>
# Progress goes to stderr. Settings (environment):
#   CMS_TESTBED_CACHE               cache folder (default ~/.cache/cms-testbed)
#   CMS_TESTBED_NOMAD_VERSION       Nomad release to build (default below)
#   CMS_TESTBED_NOMAD_API_VERSION   the nomad/api module version to build against (default below)
set -euo pipefail

NOMAD_VERSION=${CMS_TESTBED_NOMAD_VERSION:-1.11.3}
NOMAD_API_VERSION=${CMS_TESTBED_NOMAD_API_VERSION:-v0.0.0-20261016150620-df630b26e78a}
CACHE=${CMS_TESTBED_CACHE:-${HOME:-/root}/.cache/cms-testbed}

started=$(date +%s%N)
log() { printf 'nomad-dist [%5.1fs]: %s\n' "$(( ($(date +%s%N) - started) / 1000000 ))e-3" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$CACHE/nomad"
CACHE=$(cd "$CACHE" && pwd -P)
# Our own lock: scripts/testbed.sh calls this script while it holds .testbed.lock.
exec 8>"$CACHE/.nomad-dist.lock"
flock -w 1800 8 || die "another scripts/nomad-dist.sh has held $CACHE/.nomad-dist.lock for 30 minutes"

print_result() {
  printf 'CMS_NOMAD_DIST=%q\nCMS_NOMAD_VERSION=%q\n' "$1" "$NOMAD_VERSION"
}

# The platform: the machine's own (test hosts are containers on it).
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported machine architecture $(uname -m)" ;;
esac
dist="$CACHE/nomad/nomad_${NOMAD_VERSION}_linux_${arch}.zip"
if [ -s "$dist" ]; then
  print_result "$dist"
  exit 0
fi

# --- Requirements ------------------------------------------------------------------------------------------

command -v go >/dev/null 2>&1 \
  || die "building Nomad needs Go 1.25 or newer on PATH (Debian bookworm's golang 1.19 is too old): install it from https://go.dev/dl/"
command -v python3 >/dev/null 2>&1 || die "packing the release zip needs python3"

rm -rf "$CACHE"/nomad/.work.* 2>/dev/null || true
work=$(mktemp -d "$CACHE/nomad/.work.XXXXXX")
# shellcheck disable=SC2064
trap "rm -rf '$work'" EXIT

# Module and build caches of our own, so a rebuild downloads and compiles nothing twice and nothing of the
# user's Go setup leaks in; -modcacherw keeps the module cache removable with rm -rf.
export GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/pkg/mod" GOCACHE="$CACHE/go/build-cache"
export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0 GOOS=linux GOARCH=$arch
export GOPROXY=${GOPROXY:-https://proxy.golang.org}
go_version=$(go env GOVERSION) || die "go env failed"
log "using $go_version ($(command -v go)), GOPROXY=$(go env GOPROXY)"

# Versions like go1.26.8 / go1.25rc1 -> comparable "1 26 8".
version_ge() { # version_ge HAVE WANT: is Go HAVE at least WANT
  local have want
  read -r -a have <<<"$(sed -E 's/^go//; s/(rc|beta).*$//; s/\./ /g' <<<"$1")"
  read -r -a want <<<"$(sed -E 's/^go//; s/(rc|beta).*$//; s/\./ /g' <<<"$2")"
  local i
  for i in 0 1 2; do
    if [ "${have[$i]:-0}" -gt "${want[$i]:-0}" ]; then return 0; fi
    if [ "${have[$i]:-0}" -lt "${want[$i]:-0}" ]; then return 1; fi
  done
  return 0
}
version_ge "$go_version" 1.24 || die "Go $go_version is too old: the build needs Go 1.24+ (tool directives) and the Go version Nomad's go.mod names; install Go from https://go.dev/dl/"

# --- Nomad's module and its go.mod ---------------------------------------------------------------------------

log "fetching github.com/hashicorp/nomad@v$NOMAD_VERSION from the module proxy"
info=$(cd "$work" && go mod download -json "github.com/hashicorp/nomad@v$NOMAD_VERSION") \
  || die "the module proxy did not serve github.com/hashicorp/nomad@v$NOMAD_VERSION"
gomod=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])' <<<"$info")
src_dir=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])' <<<"$info")
info_file=$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("Info") or "")' <<<"$info")
# The tag's time, from the proxy's .info record (go mod download -json does not repeat it).
module_time=$( [ -f "$info_file" ] && python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("Time") or "")' "$info_file" || true)
[ -f "$gomod" ] && [ -d "$src_dir" ] || die "go mod download gave no go.mod/source for nomad v$NOMAD_VERSION"

need_go=$(go mod edit -json "$gomod" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("Go") or "")')
if [ -n "$need_go" ] && ! version_ge "$go_version" "$need_go"; then
  # Go 1.21+ fetches a newer toolchain itself: a module from the proxy, checked against the checksum database.
  version_ge "$go_version" 1.21 \
    || die "Nomad v$NOMAD_VERSION needs Go $need_go; this machine has $go_version: install a newer Go from https://go.dev/dl/"
  export GOTOOLCHAIN="go$need_go"
  log "Nomad v$NOMAD_VERSION needs Go $need_go: using GOTOOLCHAIN=$GOTOOLCHAIN (downloaded once into the cache)"
  go_version=$(go env GOVERSION) || die "could not get Go $need_go through GOTOOLCHAIN"
fi

# --- The wrapper module ------------------------------------------------------------------------------------

mod="$work/mod"
mkdir -p "$mod"
cd "$mod"
go mod init cms.testbed/nomad-build >/dev/null 2>&1
go mod edit -go="${need_go:-1.24}"
# Nomad's replace directives, except the one pointing at its own ./api folder (not in the download).
go mod edit -json "$gomod" | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    old, new = r["Old"], r["New"]
    if new["Path"].startswith("./") or new["Path"].startswith("../"):
        continue
    lhs = old["Path"] + ("@" + old["Version"] if old.get("Version") else "")
    rhs = new["Path"] + ("@" + new["Version"] if new.get("Version") else "")
    print(f"-replace={lhs}={rhs}")
' >"$work/replaces"
mapfile -t replaces <"$work/replaces"
log "wrapper module: ${#replaces[@]} replace directives from Nomad's go.mod, nomad/api => $NOMAD_API_VERSION"
[ "${#replaces[@]}" -eq 0 ] || go mod edit "${replaces[@]}"
go mod edit -replace="github.com/hashicorp/nomad/api=github.com/hashicorp/nomad/api@$NOMAD_API_VERSION"

log "go get -tool github.com/hashicorp/nomad@v$NOMAD_VERSION (resolving and downloading dependencies)"
go get -tool "github.com/hashicorp/nomad@v$NOMAD_VERSION" >&2 \
  || die "go get -tool github.com/hashicorp/nomad@v$NOMAD_VERSION failed"

# The version package's link-time variables, as HashiCorp's release builds set them (else `nomad version` shows
# no revision and a 1970 build date). The commit comes from the proxy's origin record when it has one.
commit=$(python3 -c 'import json,sys; print((json.load(sys.stdin).get("Origin") or {}).get("Hash") or "")' <<<"$info")
ldflags="-X github.com/hashicorp/nomad/version.BuildDate=${module_time:-1970-01-01T00:00:01Z}"
[ -z "$commit" ] || ldflags="$ldflags -X github.com/hashicorp/nomad/version.GitCommit=$commit"

log "compiling nomad (CGO_ENABLED=0, -trimpath, -tags hashicorpmetrics; ~6-10 minutes cold on 2 cores)"
build_started=$(date +%s)
go build -trimpath -tags hashicorpmetrics -ldflags "$ldflags" -o "$work/nomad" github.com/hashicorp/nomad >&2 \
  || die "go build github.com/hashicorp/nomad failed"
log "compiled in $(( $(date +%s) - build_started )) s: $(du -m "$work/nomad" | cut -f1) MB"
chmod 0755 "$work/nomad"

# --- Pack like the official release, then verify the zip itself --------------------------------------------

# Fixed timestamp (the module's release time, else 1980) and fixed mode: the same build gives the same bytes.
python3 - "$work/dist.zip" "$work/nomad" "${module_time:-}" <<'EOF'
import sys, zipfile, datetime
out, binary, when = sys.argv[1:]
stamp = (1980, 1, 1, 0, 0, 0)
if when:
    t = datetime.datetime.fromisoformat(when.replace("Z", "+00:00"))
    stamp = (t.year, t.month, t.day, t.hour, t.minute, t.second - t.second % 2)
info = zipfile.ZipInfo("nomad", date_time=stamp)
info.create_system = 3  # Unix, so unzip applies the mode below
info.external_attr = (0o100755 << 16)
info.compress_type = zipfile.ZIP_DEFLATED
with open(binary, "rb") as f, zipfile.ZipFile(out, "w") as z:
    z.writestr(info, f.read(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
EOF

mkdir -p "$work/verify"
python3 - "$work/dist.zip" "$work/verify" <<'EOF'
import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
assert names == ["nomad"], f"the zip holds {names}, not just nomad"
mode = (z.getinfo("nomad").external_attr >> 16) & 0o7777
assert mode == 0o755, f"nomad has mode {oct(mode)} in the zip"
z.extract("nomad", sys.argv[2])
os.chmod(os.path.join(sys.argv[2], "nomad"), mode)
EOF
out=$("$work/verify/nomad" version 2>&1) || die "nomad version failed: $out"
grep -q "^Nomad v$NOMAD_VERSION\$" <<<"$out" || die "nomad version does not report v$NOMAD_VERSION: $out"
log "verified: $(tr '\n' ' ' <<<"$out")"

mv "$work/dist.zip" "$dist"
cd /
rm -rf "$work"
trap - EXIT
log "Nomad release ready: $dist ($(stat -c %s "$dist") bytes)"
print_result "$dist"
