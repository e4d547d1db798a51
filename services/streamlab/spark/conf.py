"""The Spark settings StreamLab's queries run with: the job's, users' jobs' (streamlab.lab)
and the tests' sessions alike."""

# SQL settings the job's queries are tuned for (the benchmark runs with them too).
JOB_SQL_CONF = {
    # HotSpot does not JIT-compile a method over 8000 bytes of bytecode (HugeMethodLimit):
    # whole-stage code for the wide parse and line expressions can exceed it and would
    # then run interpreted, several times slower. Over the limit, Spark generates smaller
    # per-operator code instead, as its documentation recommends for HotSpot.
    "spark.sql.codegen.hugeMethodLimit": "8000",
    # A micro-batch is cached only while its sinks scan it (a few seconds): compressing the
    # cache gathers dictionary statistics on every value first, measured (JFR) at a tenth
    # of the job's CPU, to save memory it does not need.
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
    # A spec's expressions run on every row: under ANSI mode one row's division by zero or
    # bad cast would stop the dataset's query; without it that row's value is null.
    "spark.sql.ansi.enabled": "false",
    # Closing an HDFS file (each checkpoint log entry, each Parquet file) asks the NameNode
    # to complete it, which it does once the DataNode has reported the block: asked too
    # early, the client sleeps 400 ms before asking again (Hadoop's default). Asking again
    # after 20 ms, with as many doublings as it takes to reach the default's patience
    # (20 ms * (2**10 - 1) = 20 s against 400 ms * (2**5 - 1) = 12 s), saves most of that
    # wait on every micro-batch's two log entries (docs/decisions.md, "What a dataset
    # costs the job").
    "spark.hadoop.dfs.client.block.write.locateFollowingBlock.initial.delay.ms": "20",
    "spark.hadoop.dfs.client.block.write.locateFollowingBlock.retries": "10",
}
