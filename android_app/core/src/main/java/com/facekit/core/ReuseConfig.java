package com.facekit.core;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Settings of a frame-reuse policy (exporter/reuse.py ReuseConfig; the defaults are the ones `facekit bench` reports). */
public final class ReuseConfig {
    public static final String EVERY_FRAME = "every-frame";
    public static final String SKIP_N = "skip-N";
    public static final String MOTION_GATED = "motion-gated";
    public static final String TRACKING = "motion-gated+tracking";
    public static final List<String> POLICIES = Arrays.asList(EVERY_FRAME, SKIP_N, MOTION_GATED, TRACKING);

    public final String policy;
    /** skip-N: run on frames 0, N, 2N, ... */
    public final int skip;
    /** Thumbnail side, in cells. */
    public final int thumb;
    /** The change is measured in blocks x blocks regions of the thumbnail. */
    public final int blocks;
    /** Largest mean |change| of a region since the last full run, luma in [0, 1]. */
    public final double regionThreshold;
    /** The same when the last full run found no face. */
    public final double emptyThreshold;
    /** Mean |change| of a face's region after its best shift. */
    public final double faceThreshold;
    /** Mean |change| of the whole (camera-compensated) picture: a cut. */
    public final double cutThreshold;
    /** Mean |change| of a border segment: something entering. */
    public final double edgeThreshold;
    /** New content (in samples) the camera may bring. */
    public final int edgeShift;
    /** Camera: below this mean |change| of the whole picture it is taken as still. */
    public final double stillThreshold;
    /** Camera: largest shift tried, in samples. */
    public final int motionSearch;
    /** Tracking: largest face shift tried around the camera's, in thumbnail cells. */
    public final int search;
    /** A result is reused on at most this many frames in a row. */
    public final int maxReuse;
    /** Thousandths: a reused face's decayed confidence must stay at least this. */
    public final int minConfidence;
    /** Thousandths per reused frame. */
    public final int confidenceDecay;
    /** Tracking: a face the model lost is looked for on this many following frames. */
    public final int recheck;
    /** Tracking: a detection continues a track above this IoU. */
    public final double matchIou;
    /** Tracking: weight of a new age/gender observation. */
    public final double smoothing;

    /** Every field of the reference's ReuseConfig, in its order. */
    public ReuseConfig(String policy, int skip, int thumb, int blocks, double regionThreshold, double emptyThreshold,
                       double faceThreshold, double cutThreshold, double edgeThreshold, int edgeShift,
                       double stillThreshold, int motionSearch, int search, int maxReuse, int minConfidence,
                       int confidenceDecay, int recheck, double matchIou, double smoothing) {
        if (!POLICIES.contains(policy)) {
            throw new IllegalArgumentException("unknown reuse policy \"" + policy + "\"; choose one of " + POLICIES);
        }
        if (skip < 1 || maxReuse < 0 || search < 0 || motionSearch < 0 || blocks < 1 || thumb % blocks != 0
                || thumb < 2 * Thumbnail.EDGE_RING || thumb % Thumbnail.EDGE_SEGMENT != 0) {
            throw new IllegalArgumentException("skip >= 1, max_reuse, search and motion_search >= 0, and a thumb side "
                    + "divisible by blocks and by " + Thumbnail.EDGE_SEGMENT + " are required");
        }
        this.policy = policy;
        this.skip = skip;
        this.thumb = thumb;
        this.blocks = blocks;
        this.regionThreshold = regionThreshold;
        this.emptyThreshold = emptyThreshold;
        this.faceThreshold = faceThreshold;
        this.cutThreshold = cutThreshold;
        this.edgeThreshold = edgeThreshold;
        this.edgeShift = edgeShift;
        this.stillThreshold = stillThreshold;
        this.motionSearch = motionSearch;
        this.search = search;
        this.maxReuse = maxReuse;
        this.minConfidence = minConfidence;
        this.confidenceDecay = confidenceDecay;
        this.recheck = recheck;
        this.matchIou = matchIou;
        this.smoothing = smoothing;
    }

    /** The reference's default settings for a policy. */
    public static ReuseConfig defaults(String policy) {
        return new ReuseConfig(policy, 3, 32, 4, 0.04, 0.01, 0.05, 0.08, 0.15, 12, 0.01, 12, 2, 10, 500, 10, 2, 0.3, 0.3);
    }

    /** From a JSON object with the reference's field names (the golden traces' "config"). */
    public static ReuseConfig fromJson(Map<String, Object> json) {
        return new ReuseConfig(Json.string(json, "policy"), Json.integer(json, "skip"), Json.integer(json, "thumb"),
                Json.integer(json, "blocks"), Json.number(json, "region_threshold"),
                Json.number(json, "empty_threshold"), Json.number(json, "face_threshold"),
                Json.number(json, "cut_threshold"), Json.number(json, "edge_threshold"), Json.integer(json, "edge_shift"),
                Json.number(json, "still_threshold"), Json.integer(json, "motion_search"), Json.integer(json, "search"),
                Json.integer(json, "max_reuse"), Json.integer(json, "min_confidence"),
                Json.integer(json, "confidence_decay"), Json.integer(json, "recheck"), Json.number(json, "match_iou"),
                Json.number(json, "smoothing"));
    }

    /** Whether the policy follows faces between full runs. */
    public boolean tracking() {
        return TRACKING.equals(policy);
    }
}
