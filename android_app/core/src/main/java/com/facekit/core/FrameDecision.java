package com.facekit.core;

import java.util.List;

/** What the scheduler did on one frame (reuse.FrameDecision). */
public final class FrameDecision {
    public final int index;
    public final boolean ranModel;
    /**
     * first, every-frame, period, max-reuse, cut, edge, scene-change, recheck, low-confidence, face-change, or
     * static (reused).
     */
    public final String reason;
    /** Largest regional change since the last full run (tracked faces left out; camera compensated). */
    public final double change;
    public final List<Face> faces;
    public final int[] trackIds;
    /** Tracking: the camera's shift {x, y} since the last full run, in samples. */
    public final int[] motion;
    /** Tracking with a second look: the track ids looked at again on this frame. */
    public final int[] looked;

    FrameDecision(int index, boolean ranModel, String reason, double change, List<Face> faces, int[] trackIds,
                  int[] motion, int[] looked) {
        this.index = index;
        this.ranModel = ranModel;
        this.reason = reason;
        this.change = change;
        this.faces = faces;
        this.trackIds = trackIds;
        this.motion = motion;
        this.looked = looked;
    }
}
