package com.facekit.demo

import android.os.Build
import org.tensorflow.lite.Delegate
import org.tensorflow.lite.gpu.CompatibilityList
import org.tensorflow.lite.gpu.GpuDelegate

/** Where LiteRT runs the model: the GPU delegate, NNAPI, or the CPU with XNNPACK. */
enum class Accelerator(val reportName: String) {
    GPU("gpu"),
    NNAPI("nnapi"),
    CPU("xnnpack");

    /** The name shown in the settings. */
    fun label(): String = when (this) {
        GPU -> "GPU"
        NNAPI -> if (Build.VERSION.SDK_INT >= ANDROID_15) "NNAPI (deprecated on Android 15+)" else "NNAPI"
        CPU -> "CPU (XNNPACK)"
    }

    /** Why this accelerator cannot run here, or null when it may. */
    fun unavailableReason(): String? = when (this) {
        GPU -> if (CompatibilityList().isDelegateSupportedOnThisDevice) null else "this GPU is not supported by LiteRT"
        NNAPI -> if (Build.VERSION.SDK_INT >= NNAPI_MIN_SDK) null else "NNAPI needs Android 8.1"
        CPU -> null
    }

    /** A new delegate (null for the CPU: XNNPACK is LiteRT's default CPU path). */
    @Suppress("DEPRECATION")
    fun createDelegate(): Delegate? = when (this) {
        GPU -> GpuDelegate()
        NNAPI -> org.tensorflow.lite.nnapi.NnApiDelegate()
        CPU -> null
    }

    companion object {
        private const val NNAPI_MIN_SDK = 27
        private const val ANDROID_15 = 35
    }
}
