#!/usr/bin/env bash
# Builds the Kubernetes binaries cms tests run, from the Go module proxy, into one reproducible archive
# (kubernetes-v<ver>-linux-<arch>.tgz holding bin/kube-apiserver, kube-controller-manager, kube-scheduler,
# kubelet, kube-proxy, kubectl; mode 0755), verified, and cached; a warm run takes about a second and needs no Go.
#
# Why a build: no release site or container registry is reachable here, the Go module proxy is. It serves
# k8s.io/kubernetes and every k8s.io staging module at the matching v0.Y.Z. k8s.io/kubernetes's own go.mod points
# its staging modules at ./staging/... (not in the download), so: a wrapper module of our own that replaces each of
# them (the list is its go.mod's replace block) with the published v0.Y.Z, names the six cmd packages as Go tools
# (Go 1.24 `tool` directives keep `go mod tidy` honest), then `CGO_ENABLED=0 go build -trimpath` with the version
# variables of k8s.io/component-base/version and k8s.io/client-go/pkg/version set as Kubernetes' own release build
# sets them (without them everything reports v0.0.0 and version-skew checks misfire).
#
# Why v1.34 (see TESTBED-FACTS): 1.35's kubelet refuses cgroup v1 by default and Docker here is cgroup v1;
# 1.36+ drops containerd 1.x and Debian bookworm ships containerd 1.6.
#
# Requires: Go >= the version Kubernetes' go.mod names (1.24 for v1.34), reaching a Go module proxy (GOPROXY,
# default proxy.golang.org) and the checksum database; python3; flock.
# Cold: ~14 minutes of compiling on a loaded 2-core machine (one `go build` for all six shares the packages);
# module and build caches live under the cache folder, so a rebuild after the archive was removed is quick.
# Run it under `nice -n 19` on a shared machine.
#
# stdout carries only shell assignments for `eval "$(bash scripts/k8s-dist.sh)"`:
#   CMS_K8S_DIST=/abs/path/kubernetes-v<ver>-linux-<arch>.tgz
#   CMS_K8S_VERSION=v<ver>
# Progress goes to stderr. Settings (environment):
#   CMS_TESTBED_CACHE         cache folder (default ~/.cache/cms-testbed)
#   CMS_TESTBED_K8S_VERSION   Kubernetes release to build (default below; v1.34.x is what this testbed runs)
set -euo pipefail

K8S_VERSION=${CMS_TESTBED_K8S_VERSION:-v1.34.2}
CACHE=${CMS_TESTBED_CACHE:-${HOME:-/root}/.cache/cms-testbed}
COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

started=$(date +%s%N)
log() { printf 'k8s-dist [%6.1fs]: %s\n' "$(( ($(date +%s%N) - started) / 1000000 ))e-3" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $K8S_VERSION =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || die "CMS_TESTBED_K8S_VERSION must look like v1.34.2, not '$K8S_VERSION'"
minor=${BASH_REMATCH[1]}
patch=${BASH_REMATCH[2]}
# The staging modules are published as v0.<minor>.<patch> alongside k8s.io/kubernetes v1.<minor>.<patch>.
STAGING_VERSION="v0.$minor.$patch"

mkdir -p "$CACHE/kubernetes"
CACHE=$(cd "$CACHE" && pwd -P)
# Our own lock: other testbed scripts may hold theirs while calling this one.
exec 7>"$CACHE/.k8s-dist.lock"
flock -w 3600 7 || die "another scripts/k8s-dist.sh has held $CACHE/.k8s-dist.lock for an hour"

print_result() {
  printf 'CMS_K8S_DIST=%q\nCMS_K8S_VERSION=%q\n' "$1" "$K8S_VERSION"
}

# The platform: the machine's own (test hosts are containers on it).
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported machine architecture $(uname -m)" ;;
esac
dist="$CACHE/kubernetes/kubernetes-$K8S_VERSION-linux-$arch.tgz"
if [ -s "$dist" ]; then
  print_result "$dist"
  exit 0
fi

# --- Requirements ------------------------------------------------------------------------------------------

command -v go >/dev/null 2>&1 \
  || die "building Kubernetes needs Go 1.24 or newer on PATH (Debian bookworm's golang 1.19 is too old): install it from https://go.dev/dl/"
command -v python3 >/dev/null 2>&1 || die "reading Kubernetes' go.mod needs python3"

rm -rf "$CACHE"/kubernetes/.work.* 2>/dev/null || true
work=$(mktemp -d "$CACHE/kubernetes/.work.XXXXXX")
# shellcheck disable=SC2064
trap "rm -rf '$work'" EXIT

# Module and build caches of our own (shared with the other testbed builds), so a rebuild downloads and compiles
# nothing twice and nothing of the user's Go setup leaks in; -modcacherw keeps the module cache removable.
export GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/pkg/mod" GOCACHE="$CACHE/go/build-cache"
export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0 GOOS=linux GOARCH=$arch
export GOPROXY=${GOPROXY:-https://proxy.golang.org}
go_version=$(go env GOVERSION) || die "go env failed"
log "using $go_version ($(command -v go)), GOPROXY=$(go env GOPROXY)"

# Versions like go1.26.8 / go1.25rc1 -> comparable "1 26 8".
version_ge() { # version_ge HAVE WANT: is Go HAVE at least WANT
  local have want i
  read -r -a have <<<"$(sed -E 's/^go//; s/(rc|beta).*$//; s/\./ /g' <<<"$1")"
  read -r -a want <<<"$(sed -E 's/^go//; s/(rc|beta).*$//; s/\./ /g' <<<"$2")"
  for i in 0 1 2; do
    if [ "${have[$i]:-0}" -gt "${want[$i]:-0}" ]; then return 0; fi
    if [ "${have[$i]:-0}" -lt "${want[$i]:-0}" ]; then return 1; fi
  done
  return 0
}
version_ge "$go_version" 1.24 || die "Go $go_version is too old: the build needs Go 1.24+ (tool directives); install Go from https://go.dev/dl/"

# --- Kubernetes' module and its go.mod -----------------------------------------------------------------------

log "fetching k8s.io/kubernetes@$K8S_VERSION from the module proxy"
info=$(cd "$work" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION") \
  || die "the module proxy did not serve k8s.io/kubernetes@$K8S_VERSION"
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]) or "")' "$1" <<<"$info"; }
gomod=$(json_field GoMod)
info_file=$(json_field Info)
[ -f "$gomod" ] || die "go mod download gave no go.mod for k8s.io/kubernetes $K8S_VERSION"
# The tag's time and commit, from the proxy's records: the archive's timestamps and the version's build date.
module_time=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("Time") or "")' "$info_file" 2>/dev/null || true)
module_time=${module_time:-1970-01-01T00:00:01Z}
commit=$(python3 -c 'import json,sys; print((json.load(sys.stdin).get("Origin") or {}).get("Hash") or "")' <<<"$info")

need_go=$(go mod edit -json "$gomod" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("Go") or "")')
if [ -n "$need_go" ] && ! version_ge "$go_version" "$need_go"; then
  die "Kubernetes $K8S_VERSION needs Go $need_go; this machine has $go_version: install a newer Go from https://go.dev/dl/"
fi

# The staging modules: every replace in Kubernetes' go.mod that points into its own ./staging folder.
go mod edit -json "$gomod" | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    if r["New"]["Path"].startswith("./staging/"):
        print(r["Old"]["Path"])
' >"$work/staging"
mapfile -t staging <"$work/staging"
[ "${#staging[@]}" -ge 20 ] || die "expected ~30 staging modules in k8s.io/kubernetes $K8S_VERSION's go.mod, found ${#staging[@]}"

# --- The wrapper module ------------------------------------------------------------------------------------

mod="$work/mod"
mkdir -p "$mod"
cd "$mod"
go mod init cms.testbed/kubernetes-build >/dev/null 2>&1
go mod edit -go="${need_go:-1.24.0}"
replaces=()
for m in "${staging[@]}"; do replaces+=("-replace=$m=$m@$STAGING_VERSION"); done
go mod edit "${replaces[@]}"
log "wrapper module: ${#staging[@]} staging modules replaced with $STAGING_VERSION"

tools=()
for c in "${COMMANDS[@]}"; do tools+=("k8s.io/kubernetes/cmd/$c@$K8S_VERSION"); done
log "go get -tool ${COMMANDS[*]} (resolving and downloading dependencies)"
go get -tool "${tools[@]}" >&2 || die "go get -tool k8s.io/kubernetes/cmd/...@$K8S_VERSION failed"
go mod tidy >&2 || die "go mod tidy failed in the wrapper module"

# The version variables, as Kubernetes' hack/lib/version.sh sets them for a release build.
build_date=$(python3 -c 'import sys, datetime; print(datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$module_time")
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
  [ -z "$commit" ] || ldflags="$ldflags -X $pkg.gitCommit=$commit"
done

pkgs=()
for c in "${COMMANDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
mkdir -p "$work/kubernetes/bin"
log "compiling ${COMMANDS[*]} (CGO_ENABLED=0, -trimpath; ~15 minutes cold on 2 cores)"
build_started=$(date +%s)
go build -trimpath -ldflags "$ldflags" -o "$work/kubernetes/bin/" "${pkgs[@]}" >&2 \
  || die "go build of the Kubernetes commands failed"
log "compiled in $(( $(date +%s) - build_started )) s: $(du -sm "$work/kubernetes/bin" | cut -f1) MiB"
for c in "${COMMANDS[@]}"; do [ -x "$work/kubernetes/bin/$c" ] || die "the build made no $c"; done
chmod 0755 "$work"/kubernetes/bin/*

# --- Pack reproducibly, then verify the archive itself --------------------------------------------------------

epoch=$(python3 -c 'import sys, datetime; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).timestamp()))' "$module_time")
tar -C "$work/kubernetes" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -cf - bin \
  | gzip -6 -n >"$work/dist.tgz"

mkdir -p "$work/verify"
tar -xzf "$work/dist.tgz" -C "$work/verify"
listing=$(cd "$work/verify" && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')
want=$(printf './bin %s' "$(printf './bin/%s\n' "${COMMANDS[@]}" | LC_ALL=C sort | tr '\n' ' ')")
[ "$listing" = "$want" ] || die "the archive holds '$listing', expected '$want'"
out=$("$work/verify/bin/kubectl" version --client 2>&1) || die "kubectl version --client failed: $out"
grep -q "^Client Version: $K8S_VERSION\$" <<<"$out" || die "kubectl version --client does not report $K8S_VERSION: $out"
out2=$("$work/verify/bin/kube-apiserver" --version 2>&1) || die "kube-apiserver --version failed: $out2"
[ "$out2" = "Kubernetes $K8S_VERSION" ] || die "kube-apiserver --version does not report $K8S_VERSION: $out2"
for c in kube-controller-manager kube-scheduler kubelet kube-proxy; do
  o=$("$work/verify/bin/$c" --version 2>&1) || die "$c --version failed: $o"
  [ "$o" = "Kubernetes $K8S_VERSION" ] || die "$c --version does not report $K8S_VERSION: $o"
done
log "verified: $(head -n 1 <<<"$out"); $out2 (every command)"

mv "$work/dist.tgz" "$dist"
cd /
rm -rf "$work"
trap - EXIT
log "Kubernetes binaries ready: $dist ($(stat -c %s "$dist") bytes)"
print_result "$dist"
