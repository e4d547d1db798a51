# Sourced by the entrypoint and by hadoop-tool: the JVM options every Hadoop JVM of this
# image gets, and its classpath (the conf folder first, so its files win over any jar's).
# shellcheck shell=bash

# shellcheck disable=SC2034 # used by the scripts that source this file
HADOOP_CLASSPATH_ALL="${HADOOP_CONF_DIR:-/etc/hadoop}:${HADOOP_HOME:-/opt/hadoop}/lib/*"

# Hadoop 3.4.1's launch scripts predate Java 17 support: the list below is the one Hadoop
# itself adds on Java 17+ (HADOOP-19310, hadoop-functions.sh, after 3.4.1). HDFS runs
# without it; YARN's Guice web apps fail with InaccessibleObjectException on java.lang.
HADOOP_JAVA17_OPENS=()
for package in java.io java.lang java.lang.reflect java.math java.net java.text java.util \
  java.util.concurrent java.util.zip sun.security.util sun.security.x509; do
  HADOOP_JAVA17_OPENS+=("--add-opens=java.base/$package=ALL-UNNAMED")
done
unset package

# As Hadoop's launcher: IPv4, and the system properties its code and log4j config read.
hadoop_common_java_opts() {
  local name="$1" logger="$2"
  printf '%s\n' \
    "${HADOOP_JAVA17_OPENS[@]}" \
    -Djava.net.preferIPv4Stack=true \
    "-Dproc_$name" \
    -Dhadoop.log.dir=/var/log/hadoop \
    -Dyarn.log.dir=/var/log/hadoop \
    "-Dhadoop.log.file=$name.log" \
    "-Dyarn.log.file=$name.log" \
    "-Dhadoop.home.dir=${HADOOP_HOME:-/opt/hadoop}" \
    "-Dyarn.home.dir=${HADOOP_HOME:-/opt/hadoop}" \
    "-Dhadoop.id.str=$(id -un 2>/dev/null || id -u)" \
    "-Dhadoop.root.logger=$logger" \
    "-Dyarn.root.logger=$logger" \
    -Dhadoop.policy.file=hadoop-policy.xml
}
