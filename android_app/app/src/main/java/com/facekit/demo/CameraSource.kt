package com.facekit.demo

import android.annotation.SuppressLint
import android.content.Context
import android.graphics.ImageFormat
import android.graphics.SurfaceTexture
import android.hardware.camera2.CameraCaptureSession
import android.hardware.camera2.CameraCharacteristics
import android.hardware.camera2.CameraDevice
import android.hardware.camera2.CameraManager
import android.hardware.camera2.CaptureRequest
import android.media.Image
import android.media.ImageReader
import android.os.Handler
import android.os.HandlerThread
import android.view.Surface
import com.facekit.core.RgbImage
import com.facekit.core.Yuv420
import java.util.Arrays

/**
 * The framework's camera2: a preview on a SurfaceTexture and YUV frames for analysis, turned upright on the
 * camera thread. The activity is portrait-only, so the turn is the sensor orientation.
 */
class CameraSource(context: Context, private val listener: Listener) {
    /** Receives every analysed frame (upright RGB) on the camera thread. */
    interface Listener {
        fun onFrame(frame: RgbImage, mirrored: Boolean, acquiredNanos: Long)

        fun onError(message: String)
    }

    private val manager = context.getSystemService(Context.CAMERA_SERVICE) as CameraManager
    private val thread = HandlerThread("camera").apply { start() }
    private val handler = Handler(thread.looper)
    private var device: CameraDevice? = null
    private var session: CameraCaptureSession? = null
    private var reader: ImageReader? = null

    /** Opens the front or back camera (the other one when the asked one is missing) onto the preview texture. */
    @SuppressLint("MissingPermission")
    fun open(front: Boolean, preview: SurfaceTexture) {
        close()
        val wanted = if (front) CameraCharacteristics.LENS_FACING_FRONT else CameraCharacteristics.LENS_FACING_BACK
        val ids = manager.cameraIdList
        if (ids.isEmpty()) {
            listener.onError("this device has no camera")
            return
        }
        val id = ids.firstOrNull { manager.getCameraCharacteristics(it).get(CameraCharacteristics.LENS_FACING) == wanted } ?: ids[0]
        val characteristics = manager.getCameraCharacteristics(id)
        val rotation = characteristics.get(CameraCharacteristics.SENSOR_ORIENTATION) ?: 0
        val mirrored = characteristics.get(CameraCharacteristics.LENS_FACING) == CameraCharacteristics.LENS_FACING_FRONT
        preview.setDefaultBufferSize(WIDTH, HEIGHT)
        val imageReader = ImageReader.newInstance(WIDTH, HEIGHT, ImageFormat.YUV_420_888, 2)
        imageReader.setOnImageAvailableListener({ r ->
            val image = r.acquireLatestImage()
            if (image != null) {
                try {
                    val acquired = System.nanoTime()
                    listener.onFrame(toRgb(image, rotation), mirrored, acquired)
                } finally {
                    image.close()
                }
            }
        }, handler)
        reader = imageReader
        manager.openCamera(id, object : CameraDevice.StateCallback() {
            override fun onOpened(camera: CameraDevice) {
                device = camera
                startSession(camera, Surface(preview), imageReader.surface)
            }

            override fun onDisconnected(camera: CameraDevice) {
                camera.close()
            }

            override fun onError(camera: CameraDevice, error: Int) {
                camera.close()
                listener.onError("the camera failed (error $error)")
            }
        }, handler)
    }

    private fun startSession(camera: CameraDevice, preview: Surface, analysis: Surface) {
        camera.createCaptureSession(Arrays.asList(preview, analysis), object : CameraCaptureSession.StateCallback() {
            override fun onConfigured(captureSession: CameraCaptureSession) {
                session = captureSession
                val request = camera.createCaptureRequest(CameraDevice.TEMPLATE_PREVIEW)
                request.addTarget(preview)
                request.addTarget(analysis)
                request.set(CaptureRequest.CONTROL_AF_MODE, CaptureRequest.CONTROL_AF_MODE_CONTINUOUS_VIDEO)
                captureSession.setRepeatingRequest(request.build(), null, handler)
            }

            override fun onConfigureFailed(captureSession: CameraCaptureSession) {
                listener.onError("the camera could not be configured")
            }
        }, handler)
    }

    /** Closes the session, the camera and the reader (the thread stays for the next open). */
    fun close() {
        session?.close()
        session = null
        device?.close()
        device = null
        reader?.close()
        reader = null
    }

    /** Closes everything, the thread too. */
    fun release() {
        close()
        thread.quitSafely()
    }

    companion object {
        /** Analysis (and preview buffer) size, in sensor orientation. */
        const val WIDTH = 640
        const val HEIGHT = 480

        private fun bytes(plane: Image.Plane): ByteArray {
            val buffer = plane.buffer
            val out = ByteArray(buffer.remaining())
            buffer.get(out)
            return out
        }

        /** A YUV_420_888 image to upright RGB (core's integer BT.601 conversion and rotation). */
        fun toRgb(image: Image, rotation: Int): RgbImage {
            val planes = image.planes
            return Yuv420.toRgb(bytes(planes[0]), planes[0].rowStride, bytes(planes[1]), bytes(planes[2]),
                planes[1].rowStride, planes[1].pixelStride, image.width, image.height, rotation)
        }
    }
}
