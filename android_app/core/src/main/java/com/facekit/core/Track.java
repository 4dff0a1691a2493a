package com.facekit.core;

/** A face followed across frames (reuse.Track): its box now, its smoothed attributes, and the face at the last full run. */
public final class Track {
    public final int id;
    /** Box and keypoints in image pixels, at the current frame. */
    Face face;
    double age;
    double female;
    /** The face as the model saw it at the last full run. */
    Face start;
    /** floor(1000 * score) at the last full run. */
    int confidence;
    /** Full runs in a row that did not find the face (then it is hidden, kept to be re-checked). */
    int missed;
    /** Frame index of its last second look; -1: never looked at. */
    int lookedAt = -1;
    /** Age and P(female) come from a second look (later full runs do not smooth them). */
    boolean looked;

    Track(int id, Face face, int confidence) {
        this.id = id;
        this.face = face;
        this.age = Double.isNaN(face.age) ? 0 : face.age;
        this.female = Double.isNaN(face.female) ? 0 : face.female;
        this.start = face;
        this.confidence = confidence;
        this.missed = 0;
    }

    /** The face as reported: current box, smoothed age and P(female) (reuse.Track.shown). */
    public Face shown() {
        return face.withAttributes(age, female);
    }
}
