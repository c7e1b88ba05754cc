#!/bin/sh
# The cp-kafka contract (ZooKeeper mode): KAFKA_ZOOKEEPER_CONNECT and KAFKA_ADVERTISED_LISTENERS
# are required; every other KAFKA_<NAME> variable becomes the broker property <name> lower-cased
# with `_` -> `.`, `__` -> `_` and `___` -> `-` (KAFKA_BROKER_ID -> broker.id,
# KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR -> offsets.topic.replication.factor), except the JVM
# and logging variables (KAFKA_HEAP_OPTS, KAFKA_OPTS, ...), which go to the JVM. log.dirs
# defaults to /var/lib/kafka/data. Logs go to stdout (`docker logs`).
set -eu
: "${KAFKA_ZOOKEEPER_CONNECT:?KAFKA_ZOOKEEPER_CONNECT is required}"
: "${KAFKA_ADVERTISED_LISTENERS:?KAFKA_ADVERTISED_LISTENERS is required}"
mkdir -p /var/lib/kafka/data /etc/kafka
props=/etc/kafka/kafka.properties
{
  echo "log.dirs=${KAFKA_LOG_DIRS:-/var/lib/kafka/data}"
  env | grep '^KAFKA_' | while IFS='=' read -r name value; do
    case "$name" in
      KAFKA_VERSION|KAFKA_HEAP_OPTS|KAFKA_OPTS|KAFKA_LOG4J_OPTS|KAFKA_JMX_OPTS|KAFKA_JMX_PORT|\
      KAFKA_JMX_HOSTNAME|KAFKA_JVM_PERFORMANCE_OPTS|KAFKA_GC_LOG_OPTS|KAFKA_LOG4J_ROOT_LOGLEVEL|\
      KAFKA_LOG4J_LOGGERS|KAFKA_TOOLS_LOG4J_LOGLEVEL|KAFKA_LOG_DIRS) continue;;
    esac
    key=$(echo "${name#KAFKA_}" | tr 'A-Z' 'a-z' | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
    echo "$key=$value"
  done
} >"$props"
cat >/etc/kafka/log4j.properties <<LOG
log4j.rootLogger=${KAFKA_LOG4J_ROOT_LOGLEVEL:-INFO}, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
LOG
echo "===> kafka.properties"; cat "$props"
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xmx1g} -Djava.awt.headless=true \
  ${KAFKA_LOG4J_OPTS:--Dlog4j.configuration=file:/etc/kafka/log4j.properties} ${KAFKA_OPTS:-} \
  -cp '/opt/kafka/libs/*' kafka.Kafka "$props"
