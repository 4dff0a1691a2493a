package com.facekit.core;

/**
 * Maps faces from the pixels of the upright frame the model saw to a view showing that frame scaled to fill it
 * (centre crop, as a camera preview), mirrored for a front camera (the preview of a front camera is a mirror).
 */
public final class ViewTransform {
    private final int frameWidth;
    private final boolean mirror;
    private final float scale;
    private final float offsetX;
    private final float offsetY;

    public ViewTransform(int frameWidth, int frameHeight, boolean mirror, int viewWidth, int viewHeight) {
        this.frameWidth = frameWidth;
        this.mirror = mirror;
        this.scale = Math.max((float) viewWidth / frameWidth, (float) viewHeight / frameHeight);
        this.offsetX = (viewWidth - scale * frameWidth) / 2;
        this.offsetY = (viewHeight - scale * frameHeight) / 2;
    }

    /** A frame x to the view. */
    public float x(float frameX) {
        return (mirror ? frameWidth - frameX : frameX) * scale + offsetX;
    }

    /** A frame y to the view. */
    public float y(float frameY) {
        return frameY * scale + offsetY;
    }

    /** A face in frame pixels to view pixels (the box stays [left, top, right, bottom] when mirrored). */
    public Face map(Face face) {
        float left = x(face.box[0]);
        float right = x(face.box[2]);
        float[] box = {Math.min(left, right), y(face.box[1]), Math.max(left, right), y(face.box[3])};
        float[] keypoints = new float[face.keypoints.length];
        for (int i = 0; i < keypoints.length; i += 2) {
            keypoints[i] = x(face.keypoints[i]);
            keypoints[i + 1] = y(face.keypoints[i + 1]);
        }
        return new Face(box, keypoints, face.score, face.age, face.female);
    }
}
