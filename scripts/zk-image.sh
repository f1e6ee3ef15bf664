#!/usr/bin/env bash
# Builds a local ZooKeeper 3.8 Docker image from Debian packages, for machines
# that cannot pull the official `zookeeper:3.8` image from a registry.
#
# The image honours the official image's contract, so the test harness has one
# code path for both: config at /conf/zoo.cfg, data in /data (myid at
# /data/myid), transaction logs in /datalog, and `zkServer.sh start-foreground`
# on the PATH runs the server in the foreground, logging to the console.
#
# Idempotent: exits at once if the image already exists. Needs root, a running
# dockerd and `mmdebstrap` (apt-get install -y docker.io mmdebstrap).
#
# Environment:
#   RXZK_ZK_IMAGE   image to produce        (default rxzk/zookeeper:3.8-local)
#   RXZK_ZK_CACHE   where the rootfs is kept (default /var/cache/rxzk)
#   RXZK_ZK_ROOTFS  an existing mmdebstrap tarball to reuse
#                   (default $RXZK_ZK_CACHE/rootfs-bookworm-zookeeper.tar)
#   RXZK_ZK_SUITE   Debian suite             (default bookworm: ZooKeeper 3.8)
set -euo pipefail

IMAGE="${RXZK_ZK_IMAGE:-rxzk/zookeeper:3.8-local}"
CACHE="${RXZK_ZK_CACHE:-/var/cache/rxzk}"
ROOTFS="${RXZK_ZK_ROOTFS:-$CACHE/rootfs-bookworm-zookeeper.tar}"
SUITE="${RXZK_ZK_SUITE:-bookworm}"
BASE_IMAGE="rxzk/zookeeper-rootfs:${SUITE}"

log() { printf '[zk-image] %s\n' "$*" >&2; }

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "image $IMAGE already exists; nothing to do"
  exit 0
fi

command -v docker >/dev/null || { log "docker CLI not found"; exit 1; }
docker info >/dev/null 2>&1 || { log "docker daemon not reachable"; exit 1; }

start=$SECONDS

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "reusing base image $BASE_IMAGE"
else
  if [[ -s "$ROOTFS" ]]; then
    log "reusing rootfs tarball $ROOTFS"
  else
    command -v mmdebstrap >/dev/null || { log "mmdebstrap not found (apt-get install -y mmdebstrap)"; exit 1; }
    mkdir -p "$(dirname "$ROOTFS")"
    log "building $SUITE rootfs with openjdk-17-jre-headless + zookeeper into $ROOTFS"
    # mmdebstrap picks the output format from the file name, so the partial
    # file must still end in .tar. Docs and translations are never read inside
    # a test container (man pages stay: openjdk's postinst links into man1).
    partial="${ROOTFS%.tar}.partial.tar"
    rm -rf "$partial"
    mmdebstrap --variant=apt \
      --include=openjdk-17-jre-headless,zookeeper \
      --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      "$SUITE" "$partial"
    mv "$partial" "$ROOTFS"
  fi
  log "importing $ROOTFS as $BASE_IMAGE"
  docker import "$ROOTFS" "$BASE_IMAGE" >/dev/null
fi

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/conf" "$ctx/rootfs/data" \
  "$ctx/rootfs/datalog" "$ctx/rootfs/logs"

cat >"$ctx/rootfs/usr/local/bin/zkServer.sh" <<'WRAPPER'
#!/bin/sh
# Minimal stand-in for the official image's `zkServer.sh start-foreground`.
set -e
ZOO_CONF_DIR="${ZOO_CONF_DIR:-/conf}"
ZOO_DATA_DIR="${ZOO_DATA_DIR:-/data}"
ZOO_DATA_LOG_DIR="${ZOO_DATA_LOG_DIR:-/datalog}"
ZOO_LOG_DIR="${ZOO_LOG_DIR:-/logs}"

case "${1:-}" in
  start-foreground) ;;
  *) echo "usage: zkServer.sh start-foreground [zoo.cfg]" >&2; exit 2 ;;
esac
cfg="${2:-$ZOO_CONF_DIR/zoo.cfg}"

mkdir -p "$ZOO_CONF_DIR" "$ZOO_DATA_DIR" "$ZOO_DATA_LOG_DIR" "$ZOO_LOG_DIR"
# Like the official entrypoint: a plain `docker run` gets a standalone server.
if [ ! -f "$cfg" ]; then
  cat >"$cfg" <<CFG
dataDir=$ZOO_DATA_DIR
dataLogDir=$ZOO_DATA_LOG_DIR
tickTime=2000
initLimit=5
syncLimit=2
clientPort=2181
admin.enableServer=false
4lw.commands.whitelist=*
CFG
fi
if [ ! -f "$ZOO_DATA_DIR/myid" ] && [ -n "${ZOO_MY_ID:-}" ]; then
  echo "$ZOO_MY_ID" >"$ZOO_DATA_DIR/myid"
fi

# zookeeper.jar's manifest Class-Path names its runtime deps; slf4j needs a
# binding, and Debian's log4j.properties routes to the console appender.
CP="/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"
# shellcheck disable=SC2086 # JVMFLAGS are word-split on purpose, as upstream does
exec java \
  -Dzookeeper.log.dir="$ZOO_LOG_DIR" \
  -Dzookeeper.root.logger="${ZOO_LOG4J_PROP:-INFO,CONSOLE}" \
  -Dlog4j.configuration=file:/etc/zookeeper/conf_example/log4j.properties \
  ${JVMFLAGS:-} ${SERVER_JVMFLAGS:-} \
  -cp "$CP" org.apache.zookeeper.server.quorum.QuorumPeerMain "$cfg"
WRAPPER
chmod 0755 "$ctx/rootfs/usr/local/bin/zkServer.sh"

# create + cp + commit instead of `docker build`: needs no builder (legacy or BuildKit), no
# registry and no network, on old and new Docker engines alike.
log "building $IMAGE from $BASE_IMAGE"
cid="$(docker create "$BASE_IMAGE" /bin/true)"
trap 'docker rm -f "$cid" >/dev/null 2>&1 || true; rm -rf "$ctx"' EXIT
docker cp "$ctx/rootfs/." "$cid:/"
docker commit \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV ZOO_CONF_DIR=/conf ZOO_DATA_DIR=/data ZOO_DATA_LOG_DIR=/datalog ZOO_LOG_DIR=/logs' \
  --change 'WORKDIR /' \
  --change 'EXPOSE 2181 2888 3888' \
  --change 'CMD ["zkServer.sh", "start-foreground"]' \
  "$cid" "$IMAGE" >/dev/null

log "built $IMAGE in $((SECONDS - start)) s"
