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
    public final int skip;
    public final int thumb;
    public final int blocks;
    public final double regionThreshold;
    public final double faceThreshold;
    public final int search;
    public final int maxReuse;
    public final double matchIou;
    public final double smoothing;

    public ReuseConfig(String policy, int skip, int thumb, int blocks, double regionThreshold, double faceThreshold,
                       int search, int maxReuse, double matchIou, double smoothing) {
        if (!POLICIES.contains(policy)) {
            throw new IllegalArgumentException("unknown reuse policy \"" + policy + "\"; choose one of " + POLICIES);
        }
        if (skip < 1 || maxReuse < 0 || search < 0 || blocks < 1 || thumb % blocks != 0) {
            throw new IllegalArgumentException(
                    "skip >= 1, max_reuse >= 0, search >= 0 and a thumb side divisible by blocks are required");
        }
        this.policy = policy;
        this.skip = skip;
        this.thumb = thumb;
        this.blocks = blocks;
        this.regionThreshold = regionThreshold;
        this.faceThreshold = faceThreshold;
        this.search = search;
        this.maxReuse = maxReuse;
        this.matchIou = matchIou;
        this.smoothing = smoothing;
    }

    /** The reference's default settings for a policy. */
    public static ReuseConfig defaults(String policy) {
        return new ReuseConfig(policy, 3, 32, 4, 0.04, 0.05, 2, 10, 0.3, 0.3);
    }

    /** From a JSON object with the reference's field names (the golden traces' "config"). */
    public static ReuseConfig fromJson(Map<String, Object> json) {
        return new ReuseConfig(Json.string(json, "policy"), (int) Json.number(json, "skip"),
                (int) Json.number(json, "thumb"), (int) Json.number(json, "blocks"),
                Json.number(json, "region_threshold"), Json.number(json, "face_threshold"),
                (int) Json.number(json, "search"), (int) Json.number(json, "max_reuse"),
                Json.number(json, "match_iou"), Json.number(json, "smoothing"));
    }

    /** Whether the policy follows faces between full runs. */
    public boolean tracking() {
        return TRACKING.equals(policy);
    }
}
