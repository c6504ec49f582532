/**
 * JVM options for the Java commands cms runs only to administer a cluster or to hand work over, which exit within
 * seconds: the NameNode's format, dfsadmin and rmadmin, `yarn logs`, spark-submit in YARN cluster mode and Spark's
 * launcher (the small JVM bin/spark-class starts to build the real command line). The C2 compiler's work would be
 * thrown away when they exit, and on a head that is starting daemons or running drivers it takes CPU from them:
 * C1 alone and the serial collector halve their CPU (spark-submit --version: 4.3 s -> 2.2 s of CPU). Daemons,
 * drivers, executors and anything running user code keep the JVM's defaults.
 */
export const SHORT_LIVED_JVM_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'] as const

/** The options as one environment value (HADOOP_OPTS, SPARK_SUBMIT_OPTS, SPARK_LAUNCHER_OPTS). */
export const SHORT_LIVED_JVM_OPTS = SHORT_LIVED_JVM_OPTIONS.join(' ')
