package com.facekit.core;

import java.util.List;

/** What the scheduler did on one frame (reuse.FrameDecision). */
public final class FrameDecision {
    public final int index;
    public final boolean ranModel;
    /** first, every-frame, period, scene-change, face-change, max-reuse, or static (reused). */
    public final String reason;
    public final double change;
    public final List<Face> faces;
    public final int[] trackIds;

    FrameDecision(int index, boolean ranModel, String reason, double change, List<Face> faces, int[] trackIds) {
        this.index = index;
        this.ranModel = ranModel;
        this.reason = reason;
        this.change = change;
        this.faces = faces;
        this.trackIds = trackIds;
    }
}
