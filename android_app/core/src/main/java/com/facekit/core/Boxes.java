package com.facekit.core;

/** Box geometry shared by NMS and the tracker. */
public final class Boxes {
    private Boxes() {
    }

    /** IoU of two [xmin, ymin, xmax, ymax] boxes in float32, 0 for an empty union (postprocess.box_iou). */
    public static float iou(float[] a, float[] b) {
        float ix = Math.max(Math.min(a[2], b[2]) - Math.max(a[0], b[0]), 0f);
        float iy = Math.max(Math.min(a[3], b[3]) - Math.max(a[1], b[1]), 0f);
        float inter = ix * iy;
        float areaA = Math.max(a[2] - a[0], 0f) * Math.max(a[3] - a[1], 0f);
        float areaB = Math.max(b[2] - b[0], 0f) * Math.max(b[3] - b[1], 0f);
        float union = areaA + areaB - inter;
        return union > 0 ? inter / union : 0f;
    }
}
