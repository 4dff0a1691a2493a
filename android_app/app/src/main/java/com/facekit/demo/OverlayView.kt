package com.facekit.demo

import android.content.Context
import android.graphics.Canvas
import android.graphics.Color
import android.graphics.Paint
import android.util.AttributeSet
import android.view.View
import com.facekit.core.Face
import com.facekit.core.ViewTransform

/** Draws the faces (box, keypoints, age and gender) over the preview, and the status lines at the top. */
class OverlayView(context: Context, attrs: AttributeSet?) : View(context, attrs) {
    private val boxPaint = Paint().apply {
        style = Paint.Style.STROKE
        strokeWidth = 4f
        color = Color.GREEN
    }
    private val pointPaint = Paint().apply { color = Color.YELLOW }
    private val textPaint = Paint().apply {
        color = Color.WHITE
        textSize = 36f
        setShadowLayer(4f, 0f, 0f, Color.BLACK)
    }
    private var faces: List<Face> = emptyList()
    private var frameWidth = 1
    private var frameHeight = 1
    private var mirrored = false
    private var status: List<String> = emptyList()

    /** New faces (in pixels of a frameWidth x frameHeight upright frame) and status lines; call on the UI thread. */
    fun show(faces: List<Face>, frameWidth: Int, frameHeight: Int, mirrored: Boolean, status: List<String>) {
        this.faces = faces
        this.frameWidth = frameWidth
        this.frameHeight = frameHeight
        this.mirrored = mirrored
        this.status = status
        invalidate()
    }

    override fun onDraw(canvas: Canvas) {
        super.onDraw(canvas)
        val transform = ViewTransform(frameWidth, frameHeight, mirrored, width, height)
        for (face in faces) {
            val f = transform.map(face)
            canvas.drawRect(f.box[0], f.box[1], f.box[2], f.box[3], boxPaint)
            var k = 0
            while (k < f.keypoints.size) {
                canvas.drawCircle(f.keypoints[k], f.keypoints[k + 1], 6f, pointPaint)
                k += 2
            }
            canvas.drawText(label(f), f.box[0], f.box[1] - 8f, textPaint)
        }
        var y = 48f
        for (line in status) {
            canvas.drawText(line, 16f, y, textPaint)
            y += 44f
        }
    }

    private fun label(face: Face): String {
        val gender = if (face.female >= 0.5) "F %.0f%%".format(100 * face.female) else "M %.0f%%".format(100 * (1 - face.female))
        return "%.0f y, %s (%.2f)".format(face.age, gender, face.score)
    }
}
