#!/usr/bin/env bash
# Builds (once) and prints the paths of the test-bed servers:
#   KUBE_APISERVER=… ETCD=… NATS_SERVER=… HELM=…
# Everything is built from Go modules into a per-user cache keyed by version, because
# prebuilt downloads are unreachable on the project's machines. Overrides win over the build:
#   KUBEBUILDER_ASSETS (dir with kube-apiserver and etcd), TEST_ASSET_KUBE_APISERVER,
#   TEST_ASSET_ETCD, TEST_ASSET_NATS_SERVER, TEST_ASSET_HELM, TEST_ASSET_NATS_CLI.
# The NATS CLI (`nats`) is built too, so the README's `nats pub` line can be run by a test.
# Only the assignments go to stdout; progress goes to stderr.
set -euo pipefail

KUBE_VERSION="${HOOKSTREAM_KUBE_VERSION:-v1.37.2}"
NATS_VERSION="${HOOKSTREAM_NATS_VERSION:-v2.15.2}"
HELM_VERSION="${HOOKSTREAM_HELM_VERSION:-v3.22.0}"
NATS_CLI_VERSION="${HOOKSTREAM_NATS_CLI_VERSION:-v0.5.1}"
CACHE_ROOT="${HOOKSTREAM_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hookstream/testbed}"

log() { printf '[testbed-bins] %s\n' "$*" >&2; }
die() { printf '[testbed-bins] error: %s\n' "$*" >&2; exit 1; }

need_go() {
  command -v go >/dev/null 2>&1 ||
    die "Go (1.26 or newer) is needed to build the test-bed servers from source. Install it (https://go.dev/doc/install), or point KUBEBUILDER_ASSETS / TEST_ASSET_* at existing binaries."
}

# Runs a build step with a heartbeat on stderr, so a cold build of many minutes is visibly alive.
with_progress() {
  local what="$1"; shift
  local start=$SECONDS
  "$@" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 15
    kill -0 "$pid" 2>/dev/null && log "  still building $what ($((SECONDS - start))s)"
  done
  wait "$pid" || die "building $what failed (see the Go output above)"
  log "  built $what in $((SECONDS - start))s"
}

# kube-apiserver and etcd come from one wrapper module: k8s.io/kubernetes replaces its staging
# modules with local paths, which `go install pkg@version` refuses, so the wrapper replaces each
# with its published v0.X.Y, read from the release's own go.mod.
build_kube() {
  local dir="$CACHE_ROOT/kubernetes-$KUBE_VERSION"
  if [[ -x "$dir/bin/kube-apiserver" && -x "$dir/bin/etcd" ]]; then return; fi
  need_go
  log "building kube-apiserver and etcd $KUBE_VERSION from Go modules into $dir (first time only: several minutes)"
  local work="$dir/src"
  rm -rf "$work"; mkdir -p "$work"
  local gomod
  gomod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -f "$gomod" ]] || die "could not download the go.mod of k8s.io/kubernetes@$KUBE_VERSION"
  local staging_version="v0.${KUBE_VERSION#v1.}"
  {
    echo "module hookstream.local/testbed"
    echo
    echo "go 1.26"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    # Lines like `k8s.io/api => ./staging/src/k8s.io/api` in the release's replace block.
    grep -E '^[[:space:]]+k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" |
      awk -v v="$staging_version" '{ print "\t" $1 " => " $1 " " v }'
    echo ")"
  } >"$work/go.mod"
  cat >"$work/tools.go" <<'EOF'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
EOF
  (cd "$work" && with_progress "module graph" go mod tidy -e)
  local etcd_version
  etcd_version="$(cd "$work" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
  log "  etcd pinned by $KUBE_VERSION: $etcd_version"
  local minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
  local pkg="k8s.io/component-base/version"
  local date; date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  local ldflags="-s -w -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date -X $pkg.gitCommit=$KUBE_VERSION"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
  mkdir -p "$dir/tmp"
  (cd "$work" && CGO_ENABLED=0 with_progress "kube-apiserver $KUBE_VERSION" \
    go build -trimpath -ldflags "$ldflags" -o "$dir/tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
  (cd "$work" && CGO_ENABLED=0 with_progress "etcd $etcd_version" \
    go build -trimpath -ldflags "-s -w" -o "$dir/tmp/etcd" go.etcd.io/etcd/server/v3)
  mkdir -p "$dir/bin"
  mv "$dir/tmp/kube-apiserver" "$dir/tmp/etcd" "$dir/bin/"
  echo "$etcd_version" >"$dir/bin/etcd.version"
  rm -rf "$dir/tmp" "$work"
}

# `go install pkg@version` into a versioned directory.
build_tool() {
  local name="$1" pkg="$2" version="$3" ldflags="${4:-}"
  local dir="$CACHE_ROOT/$name-$version"
  if [[ -x "$dir/bin/$name" ]]; then return; fi
  need_go
  log "building $name $version from Go modules into $dir (first time only)"
  mkdir -p "$dir/tmp"
  GOBIN="$dir/tmp" CGO_ENABLED=0 with_progress "$name $version" \
    go install -trimpath -ldflags "-s -w $ldflags" "$pkg@$version"
  mkdir -p "$dir/bin"
  # go install names the binary after the package path, minus a /vN major-version suffix.
  local built=("$dir"/tmp/*)
  [[ ${#built[@]} == 1 && -x "${built[0]}" ]] || die "expected one binary from go install $pkg, found: ${built[*]}"
  mv "${built[0]}" "$dir/bin/$name"
  rm -rf "$dir/tmp"
}

mkdir -p "$CACHE_ROOT"
# One builder at a time per cache: parallel test runs wait rather than race.
exec 9>"$CACHE_ROOT/.lock"
flock 9

kube_apiserver="${TEST_ASSET_KUBE_APISERVER:-}"
etcd="${TEST_ASSET_ETCD:-}"
if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  [[ -z "$kube_apiserver" ]] && kube_apiserver="$KUBEBUILDER_ASSETS/kube-apiserver"
  [[ -z "$etcd" ]] && etcd="$KUBEBUILDER_ASSETS/etcd"
fi
if [[ -z "$kube_apiserver" || -z "$etcd" ]]; then
  build_kube
  kdir="$CACHE_ROOT/kubernetes-$KUBE_VERSION/bin"
  [[ -z "$kube_apiserver" ]] && kube_apiserver="$kdir/kube-apiserver"
  [[ -z "$etcd" ]] && etcd="$kdir/etcd"
fi

nats_server="${TEST_ASSET_NATS_SERVER:-}"
if [[ -z "$nats_server" ]]; then
  build_tool nats-server github.com/nats-io/nats-server/v2 "$NATS_VERSION"
  nats_server="$CACHE_ROOT/nats-server-$NATS_VERSION/bin/nats-server"
fi

helm="${TEST_ASSET_HELM:-}"
if [[ -z "$helm" ]]; then
  build_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" \
    "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  helm="$CACHE_ROOT/helm-$HELM_VERSION/bin/helm"
fi

nats_cli="${TEST_ASSET_NATS_CLI:-}"
if [[ -z "$nats_cli" ]]; then
  build_tool nats github.com/nats-io/natscli/nats "$NATS_CLI_VERSION"
  nats_cli="$CACHE_ROOT/nats-$NATS_CLI_VERSION/bin/nats"
fi

for bin in "$kube_apiserver" "$etcd" "$nats_server" "$helm" "$nats_cli"; do
  [[ -x "$bin" ]] || die "not an executable: $bin"
done

echo "KUBE_APISERVER=$kube_apiserver"
echo "ETCD=$etcd"
echo "NATS_SERVER=$nats_server"
echo "HELM=$helm"
echo "NATS_CLI=$nats_cli"
