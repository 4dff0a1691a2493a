package com.facekit.demo

/** Milliseconds spent in each stage of one frame. */
class StageTimes(val preMs: Double, val inferMs: Double, val postMs: Double)

/** Median and 90th percentile of a list of milliseconds (nearest rank, as the report schema expects p90 >= median). */
class Summary(values: List<Double>) {
    val median: Double
    val p90: Double

    init {
        require(values.isNotEmpty()) { "no timings to summarise" }
        val sorted = values.sorted()
        median = sorted[(sorted.size - 1) / 2]
        p90 = sorted[Math.ceil(0.9 * sorted.size).toInt() - 1]
    }
}

/** Nanoseconds to milliseconds. */
fun nanosToMs(nanos: Long): Double = nanos / 1e6
