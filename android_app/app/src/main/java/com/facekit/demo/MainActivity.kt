package com.facekit.demo

import android.Manifest.permission
import android.app.Activity
import android.content.Intent
import android.content.pm.PackageManager
import android.graphics.Matrix
import android.graphics.SurfaceTexture
import android.os.Bundle
import android.view.TextureView
import android.view.View
import android.widget.AdapterView
import android.widget.ArrayAdapter
import android.widget.Button
import android.widget.Spinner
import android.widget.TextView
import android.widget.Toast
import com.facekit.core.FrameReuseScheduler
import com.facekit.core.RgbImage
import com.facekit.core.ReuseConfig

/** Live camera: faces, keypoints, age and gender over the preview, each stage's latency and the accelerator on screen. */
class MainActivity : Activity(), CameraSource.Listener {
    private lateinit var bundle: ModelBundle
    private lateinit var camera: CameraSource
    private lateinit var preview: TextureView
    private lateinit var overlay: OverlayView
    private lateinit var variant: Spinner
    private lateinit var accelerator: Spinner
    private lateinit var policy: Spinner
    private lateinit var threads: Spinner
    private var front = true
    private val lock = Any()
    private var engine: FaceEngine? = null
    private var scheduler: FrameReuseScheduler? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        bundle = try {
            ModelBundle(this)
        } catch (e: Exception) { // a missing or malformed bundle: say what to do instead of crashing
            setContentView(TextView(this).apply { text = "The model bundle cannot be read: ${e.message}\n" +
                "Run `make export TARGET=android` and rebuild the app." })
            return
        }
        camera = CameraSource(this, this)
        preview = viewById(R.id.preview)
        overlay = viewById(R.id.overlay)
        variant = choices(R.id.variant, bundle.variants.map { it.precision }, bundle.variants.size - 1)
        accelerator = choices(R.id.accelerator, Accelerator.values().map { it.label() }, Accelerator.CPU.ordinal)
        policy = choices(R.id.policy, ReuseConfig.POLICIES, ReuseConfig.POLICIES.indexOf(ReuseConfig.TRACKING))
        threads = choices(R.id.threads, THREAD_CHOICES.map { "$it threads" }, 1)
        viewById<Button>(R.id.switch_camera).setOnClickListener {
            front = !front
            startCamera()
        }
        viewById<Button>(R.id.benchmark).setOnClickListener {
            startActivity(Intent(this, BenchmarkActivity::class.java))
        }
    }

    private fun choices(id: Int, labels: List<String>, selected: Int): Spinner {
        val spinner = viewById<Spinner>(id)
        spinner.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_dropdown_item, labels)
        spinner.setSelection(selected)
        spinner.onItemSelectedListener = object : AdapterView.OnItemSelectedListener {
            override fun onItemSelected(parent: AdapterView<*>?, view: View?, position: Int, rowId: Long) {
                rebuildEngine()
            }

            override fun onNothingSelected(parent: AdapterView<*>?) {}
        }
        return spinner
    }

    /** A new engine and scheduler from the settings; a delegate that cannot run shows why and falls back to the CPU. */
    private fun rebuildEngine() {
        val model = bundle.variants[variant.selectedItemPosition]
        val created = try {
            FaceEngine(bundle.manifest, bundle.map(model), Accelerator.values()[accelerator.selectedItemPosition],
                THREAD_CHOICES[threads.selectedItemPosition])
        } catch (e: Exception) { // a model that fails its sha256 check or does not load even on the CPU
            Toast.makeText(this, "${model.file}: ${e.message}", Toast.LENGTH_LONG).show()
            return
        }
        synchronized(lock) {
            engine?.close()
            engine = created
            scheduler = created.scheduler(ReuseConfig.defaults(ReuseConfig.POLICIES[policy.selectedItemPosition]),
                bundle.secondLook)
        }
        created.fallback?.let { Toast.makeText(this, it, Toast.LENGTH_LONG).show() }
    }

    override fun onResume() {
        super.onResume()
        if (!::camera.isInitialized) {
            return
        }
        if (checkSelfPermission(permission.CAMERA) != PackageManager.PERMISSION_GRANTED) {
            requestPermissions(arrayOf(permission.CAMERA), CAMERA_REQUEST)
            return
        }
        startCamera()
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        if (requestCode == CAMERA_REQUEST && grantResults.isNotEmpty() && grantResults[0] == PackageManager.PERMISSION_GRANTED) {
            startCamera()
        } else {
            Toast.makeText(this, R.string.camera_denied, Toast.LENGTH_LONG).show()
        }
    }

    private fun startCamera() {
        val texture = preview.surfaceTexture
        if (preview.isAvailable && texture != null) {
            fillPreview()
            camera.open(front, texture)
            return
        }
        preview.surfaceTextureListener = object : TextureView.SurfaceTextureListener {
            override fun onSurfaceTextureAvailable(surface: SurfaceTexture, width: Int, height: Int) {
                fillPreview()
                camera.open(front, surface)
            }

            override fun onSurfaceTextureSizeChanged(surface: SurfaceTexture, width: Int, height: Int) = fillPreview()

            override fun onSurfaceTextureDestroyed(surface: SurfaceTexture): Boolean = true

            override fun onSurfaceTextureUpdated(surface: SurfaceTexture) {}
        }
    }

    /** Scales the portrait preview (the sensor's buffer turned upright) to fill the view, as ViewTransform maps faces. */
    private fun fillPreview() {
        val w = preview.width.toFloat()
        val h = preview.height.toFloat()
        val upright = floatArrayOf(CameraSource.HEIGHT.toFloat(), CameraSource.WIDTH.toFloat())
        val scale = Math.max(w / upright[0], h / upright[1])
        val matrix = Matrix()
        matrix.setScale(scale * upright[0] / w, scale * upright[1] / h, w / 2, h / 2)
        preview.setTransform(matrix)
    }

    override fun onPause() {
        if (::camera.isInitialized) {
            camera.close()
        }
        super.onPause()
    }

    override fun onDestroy() {
        if (::camera.isInitialized) {
            camera.release()
        }
        synchronized(lock) { engine?.close() }
        super.onDestroy()
    }

    /** On the camera thread: the reuse scheduler decides, the engine runs when asked; the overlay shows the result. */
    override fun onFrame(frame: RgbImage, mirrored: Boolean, acquiredNanos: Long) {
        val (current, decision) = try {
            synchronized(lock) {
                val running = engine ?: return
                Pair(running, scheduler!!.step(frame))
            }
        } catch (e: IllegalArgumentException) { // outputs the decoder refuses (NaN or infinite): say so, keep running
            runOnUiThread { overlay.show(emptyList(), frame.width, frame.height, mirrored, listOf(e.message ?: "bad outputs")) }
            return
        }
        val t = current.lastTimes
        val looks = if (decision.looked.isEmpty()) "" else "  (+${decision.looked.size} second look; times of the last run)"
        val stages = if (decision.ranModel) "pre %.1f  infer %.1f  post %.1f ms%s".format(t.preMs, t.inferMs, t.postMs, looks)
        else "reused (${decision.reason})"
        val status = listOf("${current.accelerator.label()}  ${bundle.variants[variant.selectedItemPosition].precision}",
            stages, "frame %.1f ms (camera image to faces)".format(nanosToMs(System.nanoTime() - acquiredNanos))) +
            listOfNotNull(current.fallback)
        runOnUiThread { overlay.show(decision.faces, frame.width, frame.height, mirrored, status) }
    }

    override fun onError(message: String) {
        runOnUiThread { Toast.makeText(this, message, Toast.LENGTH_LONG).show() }
    }

    companion object {
        private const val CAMERA_REQUEST = 1
        private val THREAD_CHOICES = listOf(1, 2, 4)
    }
}
