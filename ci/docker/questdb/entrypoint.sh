#!/bin/sh
# The questdb/questdb contract: QuestDB reads every server.conf key from QDB_<KEY> itself
# (QDB_PG_NET_BIND_TO, QDB_HTTP_NET_BIND_TO, ...); the data root is /var/lib/questdb
# (QUESTDB_DATA_DIR overrides) and JVM_PREPEND adds JVM options. Runs as root: the container's
# filesystem is thrown away with it.
set -eu
root=${QUESTDB_DATA_DIR:-/var/lib/questdb}
mkdir -p "$root/tmp"
export QDB_PACKAGE=${QDB_PACKAGE:-docker}
# QuestDB unpacks its native libraries into java.io.tmpdir.
# shellcheck disable=SC2086
exec java ${JVM_PREPEND:-} -Djava.awt.headless=true -Djava.io.tmpdir="$root/tmp" \
  --add-exports java.base/jdk.internal.math=io.questdb \
  -p /app/questdb.jar -m io.questdb/io.questdb.ServerMain -d "$root"
