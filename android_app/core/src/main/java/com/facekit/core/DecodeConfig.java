package com.facekit.core;

/** Thresholds and output scaling that turn raw outputs into faces (the manifest's "decode"). */
public final class DecodeConfig {
    public final float scoreThreshold;
    public final float iouThreshold;
    public final float ageScale;

    public DecodeConfig(float scoreThreshold, float iouThreshold, float ageScale) {
        this.scoreThreshold = scoreThreshold;
        this.iouThreshold = iouThreshold;
        this.ageScale = ageScale;
    }
}
