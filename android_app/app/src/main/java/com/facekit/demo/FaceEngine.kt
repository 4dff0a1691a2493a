package com.facekit.demo

import com.facekit.core.Face
import com.facekit.core.FrameReuseScheduler
import com.facekit.core.Letterbox
import com.facekit.core.Manifest
import com.facekit.core.ReuseConfig
import com.facekit.core.RgbImage
import com.facekit.core.SecondLook
import org.tensorflow.lite.DataType
import org.tensorflow.lite.Delegate
import org.tensorflow.lite.Interpreter
import java.io.Closeable
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.MappedByteBuffer

/**
 * One model variant in LiteRT on one accelerator: letterbox (core), inference through the model's signature, decoding
 * (core) and mapping back to the frame. Small faces get a second look (core): the same path on a square cut around
 * the face, for a better age and gender. When the accelerator cannot take the model, it runs on the CPU and says why
 * in [fallback].
 */
class FaceEngine(
    private val manifest: Manifest,
    model: MappedByteBuffer,
    requested: Accelerator,
    threads: Int
) : FrameReuseScheduler.Detector, Closeable {
    val accelerator: Accelerator
    val fallback: String?
    var lastTimes = StageTimes(0.0, 0.0, 0.0)
        private set

    private val delegate: Delegate?
    private val interpreter: Interpreter
    private val signature: String
    private val inputName: String
    private val input: ByteBuffer
    private val inputIsInt8: Boolean
    private val outputs: Map<String, ByteBuffer>
    private val decoder = manifest.decoder()

    /** The second look's model: the same letterbox, inference and decoding as [detect], on the cut square. */
    private val onCrop = SecondLook.Model { detect(it) }

    init {
        var chosen = requested
        var reason = requested.unavailableReason()
        var created: Pair<Interpreter, Delegate?>? = null
        if (reason == null) {
            try {
                created = open(model, requested, threads)
            } catch (e: Exception) {
                reason = e.message ?: e.javaClass.simpleName
            }
        }
        if (created == null) {
            chosen = Accelerator.CPU
            created = open(model, Accelerator.CPU, threads)
        }
        accelerator = chosen
        fallback = if (chosen != requested) "${requested.label()} unavailable ($reason): running on ${chosen.label()}" else null
        interpreter = created.first
        delegate = created.second
        signature = interpreter.signatureKeys[0]
        inputName = interpreter.getSignatureInputs(signature)[0]
        val inputTensor = interpreter.getInputTensorFromSignature(inputName, signature)
        inputIsInt8 = inputTensor.dataType() == DataType.INT8
        input = ByteBuffer.allocateDirect(inputTensor.numBytes()).order(ByteOrder.nativeOrder())
        outputs = manifest.outputNames.associateWith { name ->
            val tensor = interpreter.getOutputTensorFromSignature(name, signature)
            ByteBuffer.allocateDirect(tensor.numBytes()).order(ByteOrder.nativeOrder())
        }
    }

    private fun open(model: MappedByteBuffer, accelerator: Accelerator, threads: Int): Pair<Interpreter, Delegate?> {
        val delegate = accelerator.createDelegate()
        val options = Interpreter.Options().setNumThreads(threads).setUseXNNPACK(accelerator == Accelerator.CPU)
        if (delegate != null) {
            options.addDelegate(delegate)
        }
        try {
            return Pair(Interpreter(model, options), delegate)
        } catch (e: Exception) {
            delegate?.close()
            throw e
        }
    }

    /** Faces in frame pixels; the stage times land in [lastTimes] (those of the last run, a second look's too). */
    override fun detect(frame: RgbImage): List<Face> {
        val t0 = System.nanoTime()
        val letterboxed = Letterbox.apply(frame, manifest.input.size)
        input.rewind()
        if (inputIsInt8) {
            val q = interpreter.getInputTensorFromSignature(inputName, signature).quantizationParams()
            manifest.input.quantise(letterboxed.square, q.scale, q.zeroPoint, input)
        } else {
            manifest.input.normalise(letterboxed.square, input.asFloatBuffer())
        }
        input.rewind()
        val t1 = System.nanoTime()
        for (buffer in outputs.values) {
            buffer.rewind()
        }
        interpreter.runSignature(mapOf<String, Any>(inputName to input), outputs, signature)
        val t2 = System.nanoTime()
        val raw = manifest.outputNames.map { floats(it) }
        val faces = decoder.decode(raw[manifest.outputIndex("regressors")], raw[manifest.outputIndex("scores")],
            raw[manifest.outputIndex("age")], raw[manifest.outputIndex("gender")]).map { letterboxed.box.toImage(it) }
        lastTimes = StageTimes(nanosToMs(t1 - t0), nanosToMs(t2 - t1), nanosToMs(System.nanoTime() - t2))
        return faces
    }

    /** Faces of a still photo: a full run, then a second look at each small face. */
    fun detectPhoto(photo: RgbImage, look: SecondLook): List<Face> = look.lookAgain(photo, detect(photo), onCrop)

    /** A reuse scheduler on this engine; with tracking, a small face gets a second look when new and every so often. */
    fun scheduler(config: ReuseConfig, look: SecondLook): FrameReuseScheduler = FrameReuseScheduler(this, config, look,
        FrameReuseScheduler.Look { frame, face -> look.lookAt(frame, face, onCrop) })

    /** An output as floats (dequantised with the tensor's scale and zero point when it is int8). */
    private fun floats(name: String): FloatArray {
        val tensor = interpreter.getOutputTensorFromSignature(name, signature)
        val buffer = outputs.getValue(name)
        buffer.rewind()
        if (tensor.dataType() != DataType.INT8) {
            val out = FloatArray(tensor.numElements())
            buffer.asFloatBuffer().get(out)
            return out
        }
        val q = tensor.quantizationParams()
        return FloatArray(tensor.numElements()) { (buffer.get(it) - q.zeroPoint) * q.scale }
    }

    override fun close() {
        interpreter.close()
        delegate?.close()
    }
}
