package com.facekit.demo

import android.app.Activity
import android.os.Bundle
import android.widget.TextView
import java.io.File

/** Runs the benchmark on start and writes phone_bench.json to the app's external files folder (adb can pull it). */
class BenchmarkActivity : Activity() {
    private lateinit var logView: TextView

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_benchmark)
        logView = viewById(R.id.log)
        val folder = getExternalFilesDir(null) ?: filesDir
        val version = packageManager.getPackageInfo(packageName, 0).versionName ?: "unknown"
        Thread {
            try {
                val report = BenchmarkRunner(ModelBundle(this), version) { append(it) }.run()
                val target = File(folder, REPORT)
                val partial = File(folder, "$REPORT.partial")
                partial.writeText(report.toString(1))
                if (!partial.renameTo(target)) {
                    throw IllegalStateException("cannot write $target")
                }
                append("report written: ${target.absolutePath}\nimport it with: facekit bench --import $REPORT")
            } catch (e: Exception) {
                append("benchmark failed: ${e.message}")
            }
        }.start()
    }

    private fun append(line: String) {
        runOnUiThread { logView.append(line + "\n") }
    }

    companion object {
        /** The report's file name (`facekit bench --adb` pulls it). */
        const val REPORT = "phone_bench.json"
    }
}
