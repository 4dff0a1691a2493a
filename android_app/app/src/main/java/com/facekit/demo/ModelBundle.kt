package com.facekit.demo

import android.content.Context
import com.facekit.core.Manifest
import com.facekit.core.SecondLook
import java.io.FileInputStream
import java.io.FileNotFoundException
import java.nio.MappedByteBuffer
import java.nio.channels.FileChannel
import java.security.MessageDigest

/**
 * The export bundle in the app's assets (`make export TARGET=android` installs it): manifest and model files, and the
 * golden contract (tests/golden, bundled by app/build.gradle.kts).
 */
class ModelBundle(private val context: Context) {
    val manifest: Manifest = Manifest.parse(readAsset(MANIFEST))

    /** The TFLite variants of the bundle, in the manifest's order (fp32, fp16, int8-dynamic, int8). */
    val variants: List<Manifest.Model> = manifest.models("tflite")

    /** The second look's settings: the manifest's, else the bundled contract's, else the reference's defaults. */
    val secondLook: SecondLook = manifest.secondLook ?: contractSecondLook() ?: SecondLook.defaults()

    private fun contractSecondLook(): SecondLook? = try {
        Manifest.parse(readAsset(CONTRACT)).secondLook
    } catch (e: FileNotFoundException) {
        null
    }

    /** Memory-maps a model (stored uncompressed in the APK) and checks its sha256 against the manifest. */
    fun map(model: Manifest.Model): MappedByteBuffer {
        val fd = context.assets.openFd(model.file)
        val buffer = FileInputStream(fd.fileDescriptor).channel.use {
            it.map(FileChannel.MapMode.READ_ONLY, fd.startOffset, fd.declaredLength)
        }
        fd.close()
        val digest = MessageDigest.getInstance("SHA-256")
        digest.update(buffer.duplicate())
        val actual = digest.digest().joinToString("") { String.format("%02x", it) }
        if (actual != model.sha256) {
            throw IllegalStateException("${model.file} does not match the manifest (sha256 $actual, expected " +
                "${model.sha256}): run `make export TARGET=android` again and rebuild the app")
        }
        return buffer
    }

    /** A text asset (the manifest, the golden contract and traces the benchmark uses). */
    fun readAsset(name: String): String = readBytes(name).toString(Charsets.UTF_8)

    /** The bytes of an asset. */
    fun readBytes(name: String): ByteArray = context.assets.open(name).use { it.readBytes() }

    companion object {
        const val MANIFEST = "manifest.json"

        /** The golden contract (tests/golden, bundled as assets): its photos are the benchmark's test images. */
        const val CONTRACT = "contract.json"
    }
}
