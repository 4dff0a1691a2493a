package com.facekit.demo

import android.graphics.BitmapFactory
import android.os.Build
import com.facekit.core.FrameReuseScheduler
import com.facekit.core.Json
import com.facekit.core.Manifest
import com.facekit.core.ReuseConfig
import com.facekit.core.RgbImage
import org.json.JSONArray
import org.json.JSONObject
import java.text.SimpleDateFormat
import java.util.Date
import java.util.Locale
import java.util.TimeZone

/**
 * Benchmark mode: every bundled variant on every available accelerator over the bundled test images (the golden
 * contract's photos), warm-up excluded, and each reuse policy over the bundled clip (the golden reuse traces' frames);
 * the report follows exporter/schemas/phone_bench.schema.json.
 */
class BenchmarkRunner(private val bundle: ModelBundle, private val appVersion: String, private val log: (String) -> Unit) {
    private val contract = Json.asObject(Json.parse(bundle.readAsset(ModelBundle.CONTRACT)))

    /** The test images, decoded to RGB. */
    private fun images(): List<RgbImage> = Json.array(contract, "cases").map { case ->
        val name = Json.string(Json.asObject(case), "source")
        val bitmap = bundle.readBytes(name).let { BitmapFactory.decodeByteArray(it, 0, it.size) }
            ?: throw IllegalStateException("cannot decode the bundled test image $name")
        val argb = IntArray(bitmap.width * bitmap.height)
        bitmap.getPixels(argb, 0, bitmap.width, 0, 0, bitmap.width, bitmap.height)
        RgbImage.fromArgb(argb, bitmap.width, bitmap.height)
    }

    /** The short clip: the frames of the golden reuse traces. */
    private fun clip(): List<RgbImage> {
        val traces = Json.asObject(Json.parse(bundle.readAsset(Json.string(contract, "reuse_traces"))))
        val frames = Json.obj(traces, "frames")
        val width = Json.number(frames, "width").toInt()
        val height = Json.number(frames, "height").toInt()
        val data = android.util.Base64.decode(Json.string(frames, "data"), android.util.Base64.DEFAULT)
        return RgbImage.inflateFrames(data, width, height, Json.number(frames, "count").toInt())
    }

    /** Runs everything and returns the report. */
    fun run(): JSONObject {
        val images = images()
        val latency = JSONArray()
        for (model in bundle.variants) {
            val buffer = bundle.map(model)
            for (accelerator in Accelerator.values()) {
                val reason = accelerator.unavailableReason()
                if (reason != null) {
                    log("${model.precision} on ${accelerator.label()}: skipped ($reason)")
                    continue
                }
                for (threads in if (accelerator == Accelerator.CPU) CPU_THREADS else listOf(DELEGATE_THREADS)) {
                    FaceEngine(bundle.manifest, buffer, accelerator, threads).use { engine ->
                        if (engine.fallback != null) {
                            log("${model.precision}: ${engine.fallback}; not reported")
                        } else {
                            latency.put(latencyRow(model, engine, threads, images))
                        }
                    }
                }
            }
        }
        return JSONObject()
            .put("schema", "facekit-phone-bench/1")
            .put("created", now())
            .put("device", JSONObject().put("model", Build.MODEL).put("os", "Android ${Build.VERSION.RELEASE}")
                .put("soc", Build.HARDWARE).put("cores", Runtime.getRuntime().availableProcessors()))
            .put("app", JSONObject().put("platform", "android").put("version", appVersion))
            .put("model_sha256", reuseModel().sha256)
            .put("latency", latency)
            .put("reuse", reuseRows())
    }

    private fun latencyRow(model: Manifest.Model, engine: FaceEngine, threads: Int, images: List<RgbImage>): JSONObject {
        for (i in 0 until WARMUP) {
            engine.detect(images[i % images.size])
        }
        val pre = ArrayList<Double>()
        val infer = ArrayList<Double>()
        val post = ArrayList<Double>()
        for (i in 0 until RUNS) {
            engine.detect(images[i % images.size])
            pre.add(engine.lastTimes.preMs)
            infer.add(engine.lastTimes.inferMs)
            post.add(engine.lastTimes.postMs)
        }
        val row = JSONObject().put("backend", "tflite-${model.precision}").put("delegate", engine.accelerator.reportName)
            .put("threads", threads).put("runs", RUNS)
            .put("pre_ms", timing(pre)).put("infer_ms", timing(infer)).put("post_ms", timing(post))
        log("${row.getString("backend")} ${row.getString("delegate")} x$threads: infer median %.2f ms".format(Summary(infer).median))
        return row
    }

    /** The model the reuse rows run: the full-int8 variant when bundled (the phone target's model), else the last. */
    private fun reuseModel(): Manifest.Model = bundle.variants.firstOrNull { it.precision == "int8" } ?: bundle.variants.last()

    private fun reuseRows(): JSONArray {
        val frames = clip()
        val rows = JSONArray()
        FaceEngine(bundle.manifest, bundle.map(reuseModel()), Accelerator.CPU, CPU_THREADS[0]).use { engine ->
            for (i in 0 until WARMUP) {
                engine.detect(frames[i % frames.size])
            }
            for (policy in ReuseConfig.POLICIES) {
                val scheduler = FrameReuseScheduler(engine, ReuseConfig.defaults(policy))
                var runs = 0
                val start = System.nanoTime()
                for (frame in frames) {
                    if (scheduler.step(frame).ranModel) {
                        runs++
                    }
                }
                val mean = nanosToMs(System.nanoTime() - start) / frames.size
                rows.put(JSONObject().put("policy", policy).put("frames", frames.size).put("model_runs", runs).put("mean_ms", mean))
                log("reuse $policy: $runs of ${frames.size} frames ran the model, %.2f ms a frame".format(mean))
            }
        }
        return rows
    }

    private fun timing(values: List<Double>): JSONObject {
        val summary = Summary(values)
        return JSONObject().put("median", summary.median).put("p90", summary.p90)
    }

    private fun now(): String {
        val format = SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss'Z'", Locale.US)
        format.timeZone = TimeZone.getTimeZone("UTC")
        return format.format(Date())
    }

    companion object {
        private const val WARMUP = 20
        private const val RUNS = 200
        private val CPU_THREADS = listOf(1, 4)
        private const val DELEGATE_THREADS = 4
    }
}
