package com.facekit.core;

/** A face followed across frames: its box now, its smoothed attributes, and the face at the last full run. */
public final class Track {
    public final int id;
    Face face;
    double age;
    double female;
    Face start;

    Track(int id, Face face) {
        this.id = id;
        this.face = face;
        this.age = Double.isNaN(face.age) ? 0 : face.age;
        this.female = Double.isNaN(face.female) ? 0 : face.female;
        this.start = face;
    }

    /** The tracked face with its smoothed age and P(female). */
    public Face smoothed() {
        return face.withAttributes(age, female);
    }
}
