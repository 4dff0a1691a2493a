package com.facekit.core;

/** One face: box [xmin, ymin, xmax, ymax], keypoints [x0, y0, ...] (normalised or pixels), score, age, P(female). */
public final class Face {
    public final float[] box;
    public final float[] keypoints;
    public final double score;
    /** Years; NaN when the model has no age output. */
    public final double age;
    /** Probability of female; NaN when the model has no gender output. */
    public final double female;

    public Face(float[] box, float[] keypoints, double score, double age, double female) {
        this.box = box;
        this.keypoints = keypoints;
        this.score = score;
        this.age = age;
        this.female = female;
    }

    /** The same face moved by (dx, dy) in float32, as reuse.py's _moved. */
    public Face moved(float dx, float dy) {
        float[] b = {box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy};
        float[] k = new float[keypoints.length];
        for (int i = 0; i < k.length; i += 2) {
            k[i] = keypoints[i] + dx;
            k[i + 1] = keypoints[i + 1] + dy;
        }
        return new Face(b, k, score, age, female);
    }

    /** The same face with other age and P(female). */
    public Face withAttributes(double newAge, double newFemale) {
        return new Face(box, keypoints, score, newAge, newFemale);
    }
}
