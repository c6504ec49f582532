#!/usr/bin/env bash
# Builds the CoreDNS release cms's Kubernetes clusters run as their cluster DNS, from the Go module proxy, packed
# like CoreDNS's official release (coredns_<ver>_linux_<arch>.tgz holding one file, `coredns`, mode 0755),
# verified, and cached; a warm run takes about a second and needs no Go.
#
# Why a build: no release site or registry is reachable here, the Go module proxy is and serves
# github.com/coredns/coredns. A wrapper module names it as a Go tool, then `CGO_ENABLED=0 go build -trimpath` with
# the commit CoreDNS's own Makefile sets. Its default plugin set (core/plugin/zplugin.go) is what is built.
# v1.12.x is the CoreDNS Kubernetes 1.34 ships with.
#
# Requires: Go >= the version CoreDNS's go.mod names (1.24 for v1.12.4), a Go module proxy, python3, flock.
# Cold: a minute of downloads and a few minutes of compiling on 2 cores (the caches are shared with
# scripts/k8s-dist.sh: client-go and friends are compiled once). Run it under `nice -n 19` on a shared machine.
#
# stdout carries only shell assignments for `eval "$(bash scripts/coredns-dist.sh)"`:
#   CMS_COREDNS_DIST=/abs/path/coredns_<ver>_linux_<arch>.tgz
#   CMS_COREDNS_VERSION=<ver>
# Progress goes to stderr. Settings (environment):
#   CMS_TESTBED_CACHE             cache folder (default ~/.cache/cms-testbed)
#   CMS_TESTBED_COREDNS_VERSION   CoreDNS release to build (default below)
set -euo pipefail

COREDNS_VERSION=${CMS_TESTBED_COREDNS_VERSION:-1.12.4}
CACHE=${CMS_TESTBED_CACHE:-${HOME:-/root}/.cache/cms-testbed}

started=$(date +%s%N)
log() { printf 'coredns-dist [%5.1fs]: %s\n' "$(( ($(date +%s%N) - started) / 1000000 ))e-3" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $COREDNS_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "CMS_TESTBED_COREDNS_VERSION must look like 1.12.4, not '$COREDNS_VERSION'"

mkdir -p "$CACHE/coredns"
CACHE=$(cd "$CACHE" && pwd -P)
exec 6>"$CACHE/.coredns-dist.lock"
flock -w 1800 6 || die "another scripts/coredns-dist.sh has held $CACHE/.coredns-dist.lock for 30 minutes"

print_result() {
  printf 'CMS_COREDNS_DIST=%q\nCMS_COREDNS_VERSION=%q\n' "$1" "$COREDNS_VERSION"
}

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported machine architecture $(uname -m)" ;;
esac
dist="$CACHE/coredns/coredns_${COREDNS_VERSION}_linux_${arch}.tgz"
if [ -s "$dist" ]; then
  print_result "$dist"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "building CoreDNS needs Go 1.24 or newer on PATH: install it from https://go.dev/dl/"
command -v python3 >/dev/null 2>&1 || die "reading CoreDNS's module records needs python3"

rm -rf "$CACHE"/coredns/.work.* 2>/dev/null || true
work=$(mktemp -d "$CACHE/coredns/.work.XXXXXX")
# shellcheck disable=SC2064
trap "rm -rf '$work'" EXIT

export GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/pkg/mod" GOCACHE="$CACHE/go/build-cache"
export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0 GOOS=linux GOARCH=$arch
export GOPROXY=${GOPROXY:-https://proxy.golang.org}
go_version=$(go env GOVERSION) || die "go env failed"
log "using $go_version ($(command -v go)), GOPROXY=$(go env GOPROXY)"

log "fetching github.com/coredns/coredns@v$COREDNS_VERSION from the module proxy"
info=$(cd "$work" && go mod download -json "github.com/coredns/coredns@v$COREDNS_VERSION") \
  || die "the module proxy did not serve github.com/coredns/coredns@v$COREDNS_VERSION"
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]) or "")' "$1" <<<"$info"; }
gomod=$(json_field GoMod)
info_file=$(json_field Info)
[ -f "$gomod" ] || die "go mod download gave no go.mod for CoreDNS v$COREDNS_VERSION"
module_time=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("Time") or "")' "$info_file" 2>/dev/null || true)
module_time=${module_time:-1980-01-01T00:00:00Z}
commit=$(python3 -c 'import json,sys; print((json.load(sys.stdin).get("Origin") or {}).get("Hash") or "")' <<<"$info")
need_go=$(go mod edit -json "$gomod" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("Go") or "")')

mod="$work/mod"
mkdir -p "$mod"
cd "$mod"
go mod init cms.testbed/coredns-build >/dev/null 2>&1
go mod edit -go="${need_go:-1.24.0}"
# CoreDNS's own replace directives, if any, so its dependency graph is the one it was released with.
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
[ "${#replaces[@]}" -eq 0 ] || go mod edit "${replaces[@]}"
log "go get -tool github.com/coredns/coredns@v$COREDNS_VERSION (resolving and downloading dependencies)"
go get -tool "github.com/coredns/coredns@v$COREDNS_VERSION" >&2 || die "go get -tool github.com/coredns/coredns@v$COREDNS_VERSION failed"

ldflags="-s -w"
[ -z "$commit" ] || ldflags="$ldflags -X github.com/coredns/coredns/coremain.GitCommit=${commit:0:7}"
mkdir -p "$work/out"
log "compiling coredns (CGO_ENABLED=0, -trimpath)"
build_started=$(date +%s)
go build -trimpath -ldflags "$ldflags" -o "$work/out/coredns" github.com/coredns/coredns >&2 || die "go build github.com/coredns/coredns failed"
log "compiled in $(( $(date +%s) - build_started )) s: $(du -m "$work/out/coredns" | cut -f1) MiB"
chmod 0755 "$work/out/coredns"

epoch=$(python3 -c 'import sys, datetime; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).timestamp()))' "$module_time")
tar -C "$work/out" --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -cf - coredns | gzip -6 -n >"$work/dist.tgz"

mkdir -p "$work/verify"
tar -xzf "$work/dist.tgz" -C "$work/verify"
[ "$(cd "$work/verify" && ls -A)" = coredns ] || die "the archive holds $(cd "$work/verify" && ls -A | tr '\n' ' '), not just coredns"
out=$("$work/verify/coredns" -version 2>&1) || die "coredns -version failed: $out"
grep -q "^CoreDNS-$COREDNS_VERSION\$" <<<"$out" || die "coredns -version does not report $COREDNS_VERSION: $out"
"$work/verify/coredns" -plugins 2>&1 | grep -Eqx '[[:space:]]*(dns\.)?kubernetes' || die "the built coredns has no kubernetes plugin"
log "verified: $(tr '\n' ' ' <<<"$out")"

mv "$work/dist.tgz" "$dist"
cd /
rm -rf "$work"
trap - EXIT
log "CoreDNS release ready: $dist ($(stat -c %s "$dist") bytes)"
print_result "$dist"
