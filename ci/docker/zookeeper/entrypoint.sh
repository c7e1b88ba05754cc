#!/bin/sh
# The cp-zookeeper contract, for a single node: every ZOOKEEPER_<NAME> variable becomes the
# zoo.cfg key <name> in camelCase (ZOOKEEPER_CLIENT_PORT -> clientPort, ZOOKEEPER_TICK_TIME ->
# tickTime, ZOOKEEPER_CLIENT_PORT_ADDRESS -> clientPortAddress); KAFKA_HEAP_OPTS and KAFKA_OPTS
# go to the JVM as with zookeeper-server-start. Logs go to stdout (`docker logs`).
set -eu
: "${ZOOKEEPER_CLIENT_PORT:?ZOOKEEPER_CLIENT_PORT is required}"
data=/var/lib/zookeeper/data
mkdir -p "$data" /etc/kafka
cfg=/etc/kafka/zookeeper.properties
{
  echo "dataDir=$data"
  env | grep '^ZOOKEEPER_' | while IFS='=' read -r name value; do
    case "$name" in ZOOKEEPER_VERSION|ZOOKEEPER_SERVER_ID|ZOOKEEPER_SERVERS) continue;; esac
    key=$(echo "${name#ZOOKEEPER_}" | tr 'A-Z' 'a-z' | awk -F_ '{ s=$1; for (i=2;i<=NF;i++) s=s toupper(substr($i,1,1)) substr($i,2); print s }')
    echo "$key=$value"
  done
} >"$cfg"
cat >/etc/kafka/log4j.properties <<'LOG'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
LOG
echo "===> zoo.cfg"; cat "$cfg"
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xmx256m} -Djava.awt.headless=true \
  -Dlog4j.configuration=file:/etc/kafka/log4j.properties ${KAFKA_OPTS:-} \
  -cp '/opt/kafka/libs/*' org.apache.zookeeper.server.quorum.QuorumPeerMain "$cfg"
