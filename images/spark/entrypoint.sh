#!/usr/bin/env bash
# StreamLab spark image entry point: the role is the command.
#   master   standalone master            (SPARK_MASTER_HOST, SPARK_MASTER_PORT, SPARK_MASTER_WEBUI_PORT)
#   worker   standalone worker            (SPARK_MASTER_URL, SPARK_WORKER_CORES, SPARK_WORKER_MEMORY,
#                                          SPARK_WORKER_DIR)
#   job      the StreamLab job driver     (SPARK_MASTER = yarn | spark://... | local[N])
#   anything else runs as given (spark-submit, pyspark, bash ...), with the rendered config.
# Environment (defaults in brackets):
#   SPARK_DRIVER_HOST [hostname]   name executors use to reach the driver
#   SPARK_DRIVER_MEMORY [768m]  SPARK_EXECUTOR_MEMORY [768m]  SPARK_EXECUTOR_CORES [1]
#   SPARK_EXECUTOR_INSTANCES [1] (yarn)  SPARK_CORES_MAX [unset] (standalone)
#   SPARK_YARN_AM_MEMORY [512m]  SPARK_EXECUTOR_PYTHON [/opt/venv/bin/python]
#   HDFS_NAMENODE_URI [unset]: hdfs://namenode:9000; renders core-site.xml for HDFS clients
#   YARN_RESOURCEMANAGER_HOST [unset]: renders yarn-site.xml for SPARK_MASTER=yarn
#   SPARKJOB_READY_FILE [unset]: the job writes it once every query has processed a batch
set -euo pipefail

render_hadoop_conf() {
  if [ -n "${HDFS_NAMENODE_URI:-}" ]; then
    cat >"${HADOOP_CONF_DIR}/core-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <property><name>fs.defaultFS</name><value>${HDFS_NAMENODE_URI}</value></property>
</configuration>
XML
    cat >"${HADOOP_CONF_DIR}/hdfs-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <!-- DataNodes register by their container name; clients must connect by that name. -->
  <property><name>dfs.client.use.datanode.hostname</name><value>true</value></property>
</configuration>
XML
  fi
  if [ -n "${YARN_RESOURCEMANAGER_HOST:-}" ]; then
    cat >"${HADOOP_CONF_DIR}/yarn-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <property><name>yarn.resourcemanager.hostname</name><value>${YARN_RESOURCEMANAGER_HOST}</value></property>
</configuration>
XML
  fi
}

render_spark_defaults() {
  local file="${SPARK_CONF_DIR}/spark-defaults.conf"
  {
    echo "spark.master                      ${SPARK_MASTER:-local[2]}"
    echo "spark.submit.deployMode           client"
    echo "spark.driver.host                 ${SPARK_DRIVER_HOST:-$(hostname)}"
    echo "spark.driver.bindAddress          0.0.0.0"
    echo "spark.driver.memory               ${SPARK_DRIVER_MEMORY:-768m}"
    echo "spark.executor.memory             ${SPARK_EXECUTOR_MEMORY:-768m}"
    echo "spark.executor.cores              ${SPARK_EXECUTOR_CORES:-1}"
    echo "spark.executor.instances          ${SPARK_EXECUTOR_INSTANCES:-1}"
    echo "spark.yarn.am.memory              ${SPARK_YARN_AM_MEMORY:-512m}"
    echo "spark.pyspark.driver.python       /opt/venv/bin/python"
    echo "spark.pyspark.python              ${SPARK_EXECUTOR_PYTHON:-/opt/venv/bin/python}"
    echo "spark.submit.pyFiles              /opt/streamlab/executor-deps.zip"
    echo "spark.ui.port                     4040"
    if [ -n "${SPARK_CORES_MAX:-}" ]; then
      echo "spark.cores.max                   ${SPARK_CORES_MAX}"
    fi
  } >"${file}"
}

run_master() {
  exec spark-class org.apache.spark.deploy.master.Master \
    --host "${SPARK_MASTER_HOST:-$(hostname)}" \
    --port "${SPARK_MASTER_PORT:-7077}" \
    --webui-port "${SPARK_MASTER_WEBUI_PORT:-8080}"
}

run_worker() {
  exec spark-class org.apache.spark.deploy.worker.Worker \
    --cores "${SPARK_WORKER_CORES:-1}" \
    --memory "${SPARK_WORKER_MEMORY:-1g}" \
    --webui-port "${SPARK_WORKER_WEBUI_PORT:-8081}" \
    --work-dir "${SPARK_WORKER_DIR:-/opt/streamlab/work/worker}" \
    "${SPARK_MASTER_URL:-spark://spark-master:7077}"
}

run_job() {
  if [ "${SPARK_MASTER:-}" = "yarn" ] && [ -z "${YARN_RESOURCEMANAGER_HOST:-}" ]; then
    echo "entrypoint: SPARK_MASTER=yarn needs YARN_RESOURCEMANAGER_HOST (e.g. resourcemanager)" >&2
    exit 2
  fi
  if [ -n "${SPARKJOB_READY_FILE:-}" ]; then
    rm -f "${SPARKJOB_READY_FILE}"  # a restarted container is ready again only once processing
  fi
  echo "entrypoint: submitting the StreamLab job to ${SPARK_MASTER:-local[2]}"
  exec spark-submit /opt/streamlab/submit_job.py
}

render_hadoop_conf
render_spark_defaults
case "${1:-job}" in
  master) run_master ;;
  worker) run_worker ;;
  job) run_job ;;
  *) exec "$@" ;;
esac
