#!/usr/bin/env bash
# Builds rancher's local-path-provisioner, the dynamic provisioner behind the default StorageClass of cms's
# Kubernetes clusters, from the Go module proxy: one static binary packed as
# local-path-provisioner_<ver>_linux_<arch>.tgz (holding one file, `local-path-provisioner`, mode 0755), verified,
# and cached; a warm run takes about a second and needs no Go.
#
# Why a build: the project publishes only container images, and no registry is reachable here; the Go module proxy
# serves github.com/rancher/local-path-provisioner. A wrapper module names it as a Go tool (its own go.mod pins
# client-go and the external-provisioner library it was released with), then `CGO_ENABLED=0 go build -trimpath`
# with the version its Makefile sets.
#
# Requires: Go >= the version its go.mod names, a Go module proxy, python3, flock. Cold: a minute of downloads and
# a few minutes of compiling on 2 cores (the caches are shared with scripts/k8s-dist.sh and coredns-dist.sh).
#
# stdout carries only shell assignments for `eval "$(bash scripts/local-path-dist.sh)"`:
#   CMS_LOCAL_PATH_DIST=/abs/path/local-path-provisioner_<ver>_linux_<arch>.tgz
#   CMS_LOCAL_PATH_VERSION=<ver>
# Progress goes to stderr. Settings (environment):
#   CMS_TESTBED_CACHE                cache folder (default ~/.cache/cms-testbed)
#   CMS_TESTBED_LOCAL_PATH_VERSION   release to build (default below)
set -euo pipefail

LOCAL_PATH_VERSION=${CMS_TESTBED_LOCAL_PATH_VERSION:-0.0.30}
CACHE=${CMS_TESTBED_CACHE:-${HOME:-/root}/.cache/cms-testbed}
MODULE=github.com/rancher/local-path-provisioner

started=$(date +%s%N)
log() { printf 'local-path-dist [%5.1fs]: %s\n' "$(( ($(date +%s%N) - started) / 1000000 ))e-3" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $LOCAL_PATH_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "CMS_TESTBED_LOCAL_PATH_VERSION must look like 0.0.30, not '$LOCAL_PATH_VERSION'"

mkdir -p "$CACHE/local-path"
CACHE=$(cd "$CACHE" && pwd -P)
exec 6>"$CACHE/.local-path-dist.lock"
flock -w 1800 6 || die "another scripts/local-path-dist.sh has held $CACHE/.local-path-dist.lock for 30 minutes"

print_result() {
  printf 'CMS_LOCAL_PATH_DIST=%q\nCMS_LOCAL_PATH_VERSION=%q\n' "$1" "$LOCAL_PATH_VERSION"
}

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported machine architecture $(uname -m)" ;;
esac
dist="$CACHE/local-path/local-path-provisioner_${LOCAL_PATH_VERSION}_linux_${arch}.tgz"
if [ -s "$dist" ]; then
  print_result "$dist"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "building local-path-provisioner needs Go on PATH: install it from https://go.dev/dl/"
command -v python3 >/dev/null 2>&1 || die "reading the module records needs python3"

rm -rf "$CACHE"/local-path/.work.* 2>/dev/null || true
work=$(mktemp -d "$CACHE/local-path/.work.XXXXXX")
# shellcheck disable=SC2064
trap "rm -rf '$work'" EXIT

export GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/pkg/mod" GOCACHE="$CACHE/go/build-cache"
export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0 GOOS=linux GOARCH=$arch
export GOPROXY=${GOPROXY:-https://proxy.golang.org}
log "using $(go env GOVERSION) ($(command -v go)), GOPROXY=$(go env GOPROXY)"

log "fetching $MODULE@v$LOCAL_PATH_VERSION from the module proxy"
info=$(cd "$work" && go mod download -json "$MODULE@v$LOCAL_PATH_VERSION") || die "the module proxy did not serve $MODULE@v$LOCAL_PATH_VERSION"
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]) or "")' "$1" <<<"$info"; }
gomod=$(json_field GoMod)
info_file=$(json_field Info)
[ -f "$gomod" ] || die "go mod download gave no go.mod for $MODULE v$LOCAL_PATH_VERSION"
module_time=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("Time") or "")' "$info_file" 2>/dev/null || true)
module_time=${module_time:-1980-01-01T00:00:00Z}
need_go=$(go mod edit -json "$gomod" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("Go") or "")')

mod="$work/mod"
mkdir -p "$mod"
cd "$mod"
go mod init cms.testbed/local-path-build >/dev/null 2>&1
go mod edit -go="${need_go:-1.23.0}"
log "go get -tool $MODULE@v$LOCAL_PATH_VERSION (resolving and downloading dependencies)"
go get -tool "$MODULE@v$LOCAL_PATH_VERSION" >&2 || die "go get -tool $MODULE@v$LOCAL_PATH_VERSION failed"

mkdir -p "$work/out"
log "compiling local-path-provisioner (CGO_ENABLED=0, -trimpath)"
build_started=$(date +%s)
go build -trimpath -ldflags "-s -w -X main.VERSION=v$LOCAL_PATH_VERSION" -o "$work/out/local-path-provisioner" "$MODULE" >&2 \
  || die "go build $MODULE failed"
log "compiled in $(( $(date +%s) - build_started )) s: $(du -m "$work/out/local-path-provisioner" | cut -f1) MiB"
chmod 0755 "$work/out/local-path-provisioner"

epoch=$(python3 -c 'import sys, datetime; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).timestamp()))' "$module_time")
tar -C "$work/out" --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -cf - local-path-provisioner | gzip -6 -n >"$work/dist.tgz"

mkdir -p "$work/verify"
tar -xzf "$work/dist.tgz" -C "$work/verify"
[ "$(cd "$work/verify" && ls -A)" = local-path-provisioner ] || die "the archive holds $(cd "$work/verify" && ls -A | tr '\n' ' '), not just local-path-provisioner"
out=$("$work/verify/local-path-provisioner" --version 2>&1) || die "local-path-provisioner --version failed: $out"
grep -q "v$LOCAL_PATH_VERSION" <<<"$out" || die "local-path-provisioner --version does not report v$LOCAL_PATH_VERSION: $out"
log "verified: $(tr '\n' ' ' <<<"$out")"

mv "$work/dist.tgz" "$dist"
cd /
rm -rf "$work"
trap - EXIT
log "local-path-provisioner release ready: $dist ($(stat -c %s "$dist") bytes)"
print_result "$dist"
