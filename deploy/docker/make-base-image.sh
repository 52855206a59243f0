#!/usr/bin/env bash
# Builds local stand-ins for the Node base images deploy/docker/Dockerfile uses, without Docker Hub:
#   node:<M.m>-bookworm-slim, node:20-bookworm-slim  Debian bookworm minbase + this machine's Node
#   node:<M.m>-bookworm,      node:20-bookworm       the same + g++, make, python3 (the build stages)
# <M.m> is the host Node's major.minor (e.g. 20.20); build with --build-arg NODE_VERSION=<M.m>.
#
# How: debootstrap --variant=minbase from the Debian mirror apt already uses here, copy the host's
# Node (binary, headers, npm) into /usr/local like the official image, add user/group `node`
# (uid/gid 1000), then `tar | docker import`. Run as root; needs network to the Debian mirror only.
#
#   deploy/docker/make-base-image.sh            # skips tags that already exist
#   FORCE=1 deploy/docker/make-base-image.sh    # rebuilds them
#   DOCKER=/usr/bin/docker DOCKER_HOST=unix:///tmp/d.sock deploy/docker/make-base-image.sh
set -euo pipefail

DOCKER=${DOCKER:-docker}
WORK=${WORK:-/var/tmp/loom-base-image}
SUITE=bookworm
FORCE=${FORCE:-0}

say() { printf '[make-base-image] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot need it)"
command -v node >/dev/null || die "no node on PATH"
"$DOCKER" version >/dev/null 2>&1 || die "no Docker engine answers ($DOCKER, DOCKER_HOST=${DOCKER_HOST:-default})"

NODE_BIN=$(readlink -f "$(command -v node)")
NODE_PREFIX=$(dirname "$(dirname "$NODE_BIN")")          # /usr for Debian/NodeSource, /usr/local for tarballs
NODE_VER=$("$NODE_BIN" -p 'process.versions.node')
NODE_MAJOR=${NODE_VER%%.*}
NODE_MM=$(echo "$NODE_VER" | cut -d. -f1,2)
[ "$NODE_MAJOR" = 20 ] || die "host Node is $NODE_VER; the image wants Node 20"
NPM_DIR=$NODE_PREFIX/lib/node_modules/npm
[ -f "$NODE_PREFIX/include/node/node_api.h" ] || die "no Node headers at $NODE_PREFIX/include/node"
[ -d "$NPM_DIR" ] || die "no npm at $NPM_DIR"

# The Debian mirror apt uses here (deb822 .sources or one-line sources.list).
MIRROR=$(grep -hs -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
[ -n "$MIRROR" ] || MIRROR=$(grep -hs -E '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
  | grep -v security | awk '{for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' | head -1 || true)
[ -n "$MIRROR" ] || die "could not read the Debian mirror from /etc/apt/sources.list*"

have_tag() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
SLIM_TAGS=("node:$NODE_MM-$SUITE-slim" "node:$NODE_MAJOR-$SUITE-slim")
FULL_TAGS=("node:$NODE_MM-$SUITE" "node:$NODE_MAJOR-$SUITE")
if [ "$FORCE" != 1 ]; then
  missing=0
  for t in "${SLIM_TAGS[@]}" "${FULL_TAGS[@]}"; do have_tag "$t" || missing=1; done
  if [ $missing = 0 ]; then say "all of ${SLIM_TAGS[*]} ${FULL_TAGS[*]} exist; FORCE=1 to rebuild"; exit 0; fi
fi

command -v debootstrap >/dev/null || { say "installing debootstrap"; apt-get install -y -q debootstrap >/dev/null; }
mkdir -p "$WORK/cache"

# $1 rootfs dir, $2 extra packages (comma list, may be empty)
make_rootfs() {
  local dir=$1 include=$2
  rm -rf "$dir"
  say "debootstrap --variant=minbase $SUITE $dir $MIRROR ${include:+(+ $include)}"
  debootstrap --variant=minbase --cache-dir="$WORK/cache" ${include:+--include="$include"} \
    "$SUITE" "$dir" "$MIRROR" >"$dir.log" 2>&1 || { tail -20 "$dir.log" >&2; die "debootstrap failed ($dir.log)"; }
  say "copying Node $NODE_VER from $NODE_PREFIX into $dir/usr/local"
  install -D -m 0755 "$NODE_BIN" "$dir/usr/local/bin/node"
  mkdir -p "$dir/usr/local/include" "$dir/usr/local/lib/node_modules"
  cp -a "$NODE_PREFIX/include/node" "$dir/usr/local/include/node"
  cp -a "$NPM_DIR" "$dir/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
  # Like the official image: user and group `node`, uid/gid 1000.
  chroot "$dir" groupadd --gid 1000 node
  chroot "$dir" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # Smaller: no apt lists or package cache in the image.
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
  chroot "$dir" env -i PATH=/usr/local/bin:/usr/bin:/bin /usr/local/bin/node -e 'process.stdout.write(`node ${process.version} runs in the rootfs\n`)' >&2
  chroot "$dir" env -i PATH=/usr/local/bin:/usr/bin:/bin /usr/local/bin/npm --version >/dev/null || die "npm does not run in $dir"
}

# $1 rootfs dir, rest tags
import_rootfs() {
  local dir=$1; shift
  say "docker import $dir as $1"
  tar --numeric-owner -C "$dir" -c . | "$DOCKER" import \
    -c 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c "ENV NODE_VERSION=$NODE_VER" -c 'CMD ["node"]' - "$1" >/dev/null
  local t; for t in "${@:2}"; do "$DOCKER" tag "$1" "$t"; say "tagged $t"; done
}

make_rootfs "$WORK/slim" ""
import_rootfs "$WORK/slim" "${SLIM_TAGS[@]}"
# The build stages need a compiler (engine), make and python3 (node-gyp convention), certificates (npm).
make_rootfs "$WORK/full" "ca-certificates,g++,make,python3"
import_rootfs "$WORK/full" "${FULL_TAGS[@]}"

rm -rf "$WORK/slim" "$WORK/full"
say "done: ${SLIM_TAGS[*]} ${FULL_TAGS[*]}"
say "build with: docker build -f deploy/docker/Dockerfile --build-arg NODE_VERSION=$NODE_MM -t loom:dev ."
