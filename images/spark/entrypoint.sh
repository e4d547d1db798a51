#!/usr/bin/env bash
# StreamLab spark image entry point: the role is the command.
#   master   standalone master            (SPARK_MASTER_HOST, SPARK_MASTER_PORT, SPARK_MASTER_WEBUI_PORT)
#   worker   standalone worker            (SPARK_MASTER_URL, SPARK_WORKER_CORES, SPARK_WORKER_MEMORY,
#                                          SPARK_WORKER_DIR)
#   job      the StreamLab job driver     (SPARK_MASTER = yarn | spark://... | local[N])
#   submit [SPARK-SUBMIT OPTIONS] -- FILE.py [ARGS...]
#            a user's job (./submit.sh): FILE's syntax is checked first (exit 2 naming
#            SUBMIT_FILE_SHOWN [FILE] and the line), then spark-submit runs it
#   anything else runs as given (spark-submit, pyspark, bash ...), with the rendered config.
# Environment (defaults in brackets; [required]: a setting compose passes from settings.env):
#   SPARK_MASTER [required] (job, submit, anything else)
#   SPARK_DRIVER_HOST [hostname]   name executors use to reach the driver
#   SPARK_DRIVER_MEMORY  SPARK_EXECUTOR_MEMORY  SPARK_EXECUTOR_CORES  [required]
#   SPARK_EXECUTOR_INSTANCES [required] (yarn)  SPARK_CORES_MAX [unset] (standalone)
#   SPARK_YARN_AM_MEMORY [512m]  SPARK_EXECUTOR_PYTHON [/opt/venv/bin/python]
#   HDFS_NAMENODE_URI [unset]: hdfs://namenode:9000; renders core-site.xml for HDFS clients
#   HDFS_DATANODES [required with HDFS_NAMENODE_URI]: the files this driver writes get
#                min(3, HDFS_DATANODES) replicas
#   YARN_RESOURCEMANAGER_HOST [unset]: renders yarn-site.xml for SPARK_MASTER=yarn
#   WEBHDFS_URL [unset]: on YARN, the job and submit roles keep Spark's jars as one archive
#                in HDFS (spark.yarn.archive), uploaded once: NodeManagers cache it, so an
#                application does not upload and unpack 450 MB of jars each time
#   SPARKJOB_READY_FILE [unset]: the job writes it once every query has processed a batch
set -euo pipefail

replication() {
  local datanodes="${HDFS_DATANODES:?not set: compose passes it from settings.env}"
  if ! [[ ${datanodes} =~ ^[1-9][0-9]*$ ]]; then
    echo "entrypoint: HDFS_DATANODES must be a whole number of 1 or more, got '${datanodes}'" >&2
    exit 2
  fi
  echo "$((datanodes < 3 ? datanodes : 3))"
}

render_hadoop_conf() {
  if [ -n "${HDFS_NAMENODE_URI:-}" ]; then
    local replicas
    replicas="$(replication)"
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
  <property><name>dfs.replication</name><value>${replicas}</value></property>
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
    echo "spark.master                      ${SPARK_MASTER:?not set: compose passes it from settings.env}"
    echo "spark.submit.deployMode           client"
    echo "spark.driver.host                 ${SPARK_DRIVER_HOST:-$(hostname)}"
    echo "spark.driver.bindAddress          0.0.0.0"
    echo "spark.driver.memory               ${SPARK_DRIVER_MEMORY:?not set: compose passes it from settings.env}"
    echo "spark.executor.memory             ${SPARK_EXECUTOR_MEMORY:?not set: compose passes it from settings.env}"
    echo "spark.executor.cores              ${SPARK_EXECUTOR_CORES:?not set: compose passes it from settings.env}"
    echo "spark.executor.instances          ${SPARK_EXECUTOR_INSTANCES:?not set: compose passes it from settings.env}"
    echo "spark.yarn.am.memory              ${SPARK_YARN_AM_MEMORY:-512m}"
    # Client mode: a second AM attempt can never reach a driver that is gone (Ctrl-C, a
    # killed container); with one attempt the application ends instead of waiting ACCEPTED.
    echo "spark.yarn.maxAppAttempts         1"
    echo "spark.pyspark.driver.python       /opt/venv/bin/python"
    echo "spark.pyspark.python              ${SPARK_EXECUTOR_PYTHON:-/opt/venv/bin/python}"
    echo "spark.submit.pyFiles              /opt/streamlab/executor-deps.zip"
    echo "spark.ui.port                     4040"
    if [ -n "${SPARK_CORES_MAX:-}" ]; then
      echo "spark.cores.max                   ${SPARK_CORES_MAX}"
    fi
  } >"${file}"
}

# spark.yarn.archive: Spark's jars zipped once into HDFS (/user/<user>/.streamlab/, named by
# a digest of the jars), so that applications reuse it and NodeManagers keep it in their
# cache; without it every application uploads SPARK_HOME/jars (450 MB) and every node
# unpacks them again (measured: 100 s of a 2.5 min job on 2 cores). Best effort: on any
# failure Spark uploads the jars itself, as before.
use_yarn_archive() {
  [ "${SPARK_MASTER}" = "yarn" ] && [ -n "${WEBHDFS_URL:-}" ] && [ -n "${HDFS_NAMENODE_URI:-}" ] || return 0
  local path
  if path="$(python3 - "${WEBHDFS_URL}" <<'PY'
import getpass, hashlib, json, os, sys, tempfile, urllib.error, urllib.parse, urllib.request, zipfile

base = sys.argv[1].rstrip("/") + "/webhdfs/v1"
user = getpass.getuser()
jars = os.path.join(os.environ["SPARK_HOME"], "jars")
names = sorted(os.listdir(jars))
listing = "\n".join(f"{n} {os.path.getsize(os.path.join(jars, n))}" for n in names)
path = f"/user/{user}/.streamlab/spark-libs-{hashlib.sha256(listing.encode()).hexdigest()[:16]}.zip"
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(method, hdfs_path, op, data=None, **params):
    query = urllib.parse.urlencode({"op": op, "user.name": user, **params})
    request = urllib.request.Request(f"{base}{hdfs_path}?{query}", data=data, method=method)
    with opener.open(request, timeout=600) as reply:
        body = reply.read()
    return json.loads(body) if body else {}


try:
    call("GET", path, "GETFILESTATUS")
    print(path)
    sys.exit(0)
except urllib.error.HTTPError as error:
    if error.code != 404:
        raise
print(f"entrypoint: zipping Spark's jars into HDFS {path} (once)", file=sys.stderr)
part = f"{path}.{os.uname().nodename}.{os.getpid()}"
with tempfile.TemporaryDirectory() as folder:
    local = os.path.join(folder, "spark-libs.zip")
    with zipfile.ZipFile(local, "w", zipfile.ZIP_STORED) as archive:
        for name in names:
            archive.write(os.path.join(jars, name), name)
    # CREATE answers with the DataNode to send the bytes to (noredirect: as JSON).
    where = call("PUT", part, "CREATE", overwrite="true", noredirect="true")["Location"]
    with open(local, "rb") as data:
        request = urllib.request.Request(where, data=data, method="PUT")
        request.add_header("Content-Length", str(os.path.getsize(local)))
        request.add_header("Content-Type", "application/octet-stream")
        opener.open(request, timeout=600).read()
# Another driver may have won the race: either way the archive is there.
if not call("PUT", part, "RENAME", destination=path).get("boolean"):
    call("DELETE", part, "DELETE")
print(path)
PY
  )"; then
    echo "spark.yarn.archive                ${HDFS_NAMENODE_URI}${path}" >>"${SPARK_CONF_DIR}/spark-defaults.conf"
  else
    echo "entrypoint: could not keep Spark's jars in HDFS (above); Spark uploads them itself" >&2
  fi
}

run_master() {
  exec spark-class org.apache.spark.deploy.master.Master \
    --host "${SPARK_MASTER_HOST:-$(hostname)}" \
    --port "${SPARK_MASTER_PORT:-7077}" \
    --webui-port "${SPARK_MASTER_WEBUI_PORT:-8080}"
}

run_worker() {
  exec spark-class org.apache.spark.deploy.worker.Worker \
    --cores "${SPARK_WORKER_CORES:?not set: compose passes it from settings.env}" \
    --memory "${SPARK_WORKER_MEMORY:?not set: compose passes it from settings.env}" \
    --webui-port "${SPARK_WORKER_WEBUI_PORT:-8081}" \
    --work-dir "${SPARK_WORKER_DIR:-/opt/streamlab/work/worker}" \
    "${SPARK_MASTER_URL:-spark://spark-master:7077}"
}

run_job() {
  if [ "${SPARK_MASTER}" = "yarn" ] && [ -z "${YARN_RESOURCEMANAGER_HOST:-}" ]; then
    echo "entrypoint: SPARK_MASTER=yarn needs YARN_RESOURCEMANAGER_HOST (e.g. resourcemanager)" >&2
    exit 2
  fi
  if [ -n "${SPARKJOB_READY_FILE:-}" ]; then
    rm -f "${SPARKJOB_READY_FILE}"  # a restarted container is ready again only once processing
  fi
  use_yarn_archive
  echo "entrypoint: submitting the StreamLab job to ${SPARK_MASTER}"
  exec spark-submit /opt/streamlab/submit_job.py
}

submit_usage() {
  echo "usage: submit [SPARK-SUBMIT OPTIONS] -- FILE.py [ARGS...]   (run it with ./submit.sh)" >&2
}

check_syntax() {
  # Python's own compile: a syntax error is reported before anything is submitted.
  python3 - "$1" "${SUBMIT_FILE_SHOWN:-$1}" <<'PY'
import sys

path, shown = sys.argv[1], sys.argv[2]
try:
    with open(path, "rb") as source:
        compile(source.read(), shown, "exec")
except SyntaxError as error:
    where = f"{shown}, line {error.lineno}" if error.lineno else shown
    print(f"submit: {where}: {type(error).__name__}: {error.msg}", file=sys.stderr)
    if error.text:
        print(f"    {error.text.rstrip()}", file=sys.stderr)
    print("submit: fix the file and run ./submit.sh again (nothing was submitted)", file=sys.stderr)
    sys.exit(2)
except OSError as error:
    print(f"submit: cannot read {shown}: {error.strerror}", file=sys.stderr)
    sys.exit(2)
PY
}

run_submit() {
  local -a options=()
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
    case "$1" in -h | --help) submit_usage; exit 0 ;; esac
    options+=("$1")
    shift
  done
  if [ "$#" -lt 2 ]; then
    submit_usage
    exit 2
  fi
  local file="$2"
  shift 2
  check_syntax "${file}" || exit 2
  use_yarn_archive
  echo "entrypoint: submitting ${SUBMIT_FILE_SHOWN:-${file}} to ${SPARK_MASTER}"
  exec spark-submit "${options[@]}" "${file}" "$@"
}

render_hadoop_conf
case "${1:-job}" in
  master) run_master ;;
  worker) run_worker ;;
  job) render_spark_defaults; run_job ;;
  submit) shift; render_spark_defaults; run_submit "$@" ;;
  *) render_spark_defaults; exec "$@" ;;
esac
