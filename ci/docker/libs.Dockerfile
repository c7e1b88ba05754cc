# The Kafka/ZooKeeper classpath shared by the zookeeper and kafka images (one layer, not two).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY libs/ /opt/kafka/libs/
