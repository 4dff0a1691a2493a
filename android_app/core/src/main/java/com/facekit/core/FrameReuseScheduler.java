package com.facekit.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * Runs the detector only when the reuse policy says so (a port of exporter/reuse.py FrameReuseScheduler: its module
 * docstring specifies the algorithm). motion-gated+tracking takes steps 1-9 of that docstring in order in
 * {@link #tracked}, one method per step; every decision is taken on exact integers, so the port matches bit for bit.
 * With a second look, small tracks that are new or due are looked at again after a full run ({@link #lookAgain}).
 */
public final class FrameReuseScheduler {
    /** Frame (RGB) to faces in image pixels: the full model. */
    public interface Detector {
        List<Face> detect(RgbImage frame);
    }

    /** Frame and a tracked face to the face found on the square around it (null: none): the second look. */
    public interface Look {
        Face look(RgbImage frame, Face face);
    }

    private static final int[] STILL = {0, 0};

    private final Detector detector;
    private final ReuseConfig config;
    private final SecondLook secondLook;
    private final Look look;
    private int index = -1;
    private int sinceFull = 0;
    /** Summed-area table of the luma samples at the last full run (tracking). */
    private long[] reference;
    /** Cell sums at the last full run (null before the first). */
    private long[] referenceCells;
    /** Column and row sums of the samples at the last full run (tracking). */
    private long[][] referenceProfiles;
    private List<Face> faces = new ArrayList<Face>();
    private List<Track> tracks = new ArrayList<Track>();
    private int nextId = 1;

    /** What the tracking steps of one frame found so far (the locals of reuse.FrameReuseScheduler._tracked). */
    private static final class Frame {
        final int[] luma;
        final long[] cells;
        final int width;
        final int height;
        /** |cells - reference|, camera compensated once step 2 keeps a shift. */
        long[] diff;
        long total;
        /** Cells compared (null: every cell, a still camera). */
        boolean[] compared;
        /** Cells compared. */
        long n;
        /** The camera's shift in samples, and in whole cells. */
        int gx;
        int gy;
        int cx;
        int cy;
        /** (sum, cells) of the largest regional change, and of the border segment, outside the tracked faces. */
        long[] change;
        long[] border;

        Frame(int[] luma, long[] cells, int width, int height) {
            this.luma = luma;
            this.cells = cells;
            this.width = width;
            this.height = height;
        }

        int[] motion() {
            return new int[] {gx, gy};
        }
    }

    /** Why the model runs (null: reuse), the decision's change and the camera's shift. */
    private static final class Verdict {
        final String reason;
        final double change;
        final int[] motion;

        Verdict(String reason, double change, int[] motion) {
            this.reason = reason;
            this.change = change;
            this.motion = motion;
        }
    }

    /** A scheduler without a second look. */
    public FrameReuseScheduler(Detector detector, ReuseConfig config) {
        this(detector, config, null, null);
    }

    /** A scheduler whose tracking refreshes small tracks with look (secondLook null: no second look). */
    public FrameReuseScheduler(Detector detector, ReuseConfig config, SecondLook secondLook, Look look) {
        if (secondLook != null && look == null) {
            throw new IllegalArgumentException("a scheduler with a second look needs a look function (frame, face -> "
                    + "face or null)");
        }
        this.detector = detector;
        this.config = config;
        this.secondLook = secondLook;
        this.look = look;
    }

    /** Processes the next frame: runs the model or reuses, and says what was done (reuse.FrameReuseScheduler.step). */
    public FrameDecision step(RgbImage frame) {
        index++;
        boolean tracking = config.tracking();
        String reason;
        double change = 0;
        int[] motion = STILL;
        int[] luma = null;
        long[] cells = null;
        int[] looked = new int[0];
        if (ReuseConfig.EVERY_FRAME.equals(config.policy) || ReuseConfig.SKIP_N.equals(config.policy)) {
            // counting only: nothing is computed on the picture
            if (index == 0) {
                reason = "first";
            } else if (ReuseConfig.EVERY_FRAME.equals(config.policy)) {
                reason = "every-frame";
            } else if (sinceFull >= config.maxReuse) {
                reason = "max-reuse";
            } else {
                reason = sinceFull + 1 >= config.skip ? "period" : null;
            }
        } else {
            luma = Thumbnail.lumaSamples(frame, config.thumb);
            cells = Thumbnail.cellSums(luma, config.thumb);
            Verdict verdict;
            if (referenceCells == null) {
                verdict = new Verdict("first", 0, STILL);
            } else if (tracking) {
                verdict = tracked(new Frame(luma, cells, frame.width, frame.height));
            } else {
                verdict = gated(cells);
            }
            reason = verdict.reason;
            change = verdict.change;
            motion = verdict.motion;
        }
        if (reason != null) {
            List<Face> detected = detector.detect(frame);
            if (tracking) {
                updateTracks(detected, "cut".equals(reason));
                looked = lookAgain(frame);
                int n = config.thumb * Thumbnail.SAMPLES;
                reference = CameraMotion.integral(luma, n);
                referenceProfiles = CameraMotion.profiles(luma, n);
            } else {
                faces = new ArrayList<Face>(detected);
            }
            referenceCells = cells;
            sinceFull = 0;
        } else {
            sinceFull++;
        }
        return new FrameDecision(index, reason != null, reason == null ? "static" : reason, change,
                Collections.unmodifiableList(new ArrayList<Face>(faces)), ids(shownTracks()), motion.clone(), looked);
    }

    /** motion-gated: run when a region changed (no camera compensation, no tracks) (reuse._gated). */
    private Verdict gated(long[] cells) {
        long[] change = Thumbnail.regionChange(absDiff(cells, referenceCells), config.thumb, config.blocks, null);
        if (sinceFull >= config.maxReuse) {
            return new Verdict("max-reuse", Thumbnail.change(change), STILL);
        }
        return new Verdict(Thumbnail.exceeds(change[0], change[1], config.regionThreshold) ? "scene-change" : null,
                Thumbnail.change(change), STILL);
    }

    /** motion-gated+tracking: steps 1-9 of the reference's docstring, in order (reuse._tracked). */
    private Verdict tracked(Frame f) {
        if (maxReuse()) { // 1. max-reuse
            return new Verdict("max-reuse", 0, STILL);
        }
        cameraMotion(f); // 2. camera motion
        if (cut(f)) { // 3. cut
            return new Verdict("cut", Thumbnail.change(new long[] {f.total, Math.max(f.n, 1)}), f.motion());
        }
        if (edge(f)) { // 4. edge
            return new Verdict("edge", 0, f.motion());
        }
        double change = Thumbnail.change(f.change);
        if (sceneChange(f)) { // 5. scene-change
            return new Verdict("scene-change", change, f.motion());
        }
        if (recheck()) { // 6. recheck
            return new Verdict("recheck", change, f.motion());
        }
        if (lowConfidence()) { // 7. low-confidence
            return new Verdict("low-confidence", change, f.motion());
        }
        float[][] moves = faceMoves(f); // 8. face-change
        if (moves == null) {
            return new Verdict("face-change", change, f.motion());
        }
        reuse(moves); // 9. reuse: the tracks move
        return new Verdict(null, change, f.motion());
    }

    /** Step 1: max_reuse frames reused in a row. */
    private boolean maxReuse() {
        return sinceFull >= config.maxReuse;
    }

    /**
     * Step 2: the cell difference to the reference, camera compensated when the picture changed and the camera's
     * shift explains it better than a still camera; sets the frame's diff, total, compared cells and shift.
     */
    private void cameraMotion(Frame f) {
        int size = config.thumb;
        int all = size * size;
        f.diff = absDiff(f.cells, referenceCells);
        f.total = sum(f.diff);
        f.compared = null;
        f.n = all;
        if (Thumbnail.exceeds(f.total, all, config.stillThreshold)) { // the picture changed: did the camera move?
            int n = size * Thumbnail.SAMPLES;
            int[] shift = CameraMotion.globalShift(CameraMotion.profiles(f.luma, n), referenceProfiles,
                    config.motionSearch);
            boolean[] moved = new boolean[all];
            long[] expected = CameraMotion.shiftedCells(reference, n, shift[0], shift[1], moved);
            long[] movedDiff = new long[all];
            long movedTotal = 0;
            long movedCount = 0;
            for (int k = 0; k < all; k++) {
                if (moved[k]) {
                    movedDiff[k] = Math.abs(f.cells[k] - expected[k]);
                    movedTotal += movedDiff[k];
                    movedCount++;
                }
            }
            if (movedTotal * all < f.total * movedCount) { // the shift explains the picture better
                f.diff = movedDiff;
                f.total = movedTotal;
                f.compared = moved;
                f.n = movedCount;
                f.gx = shift[0];
                f.gy = shift[1];
            }
        }
        f.cx = CameraMotion.roundCells(f.gx);
        f.cy = CameraMotion.roundCells(f.gy);
    }

    /** Step 3: the compared cells changed by more than cut_threshold, or fewer than half the cells are compared. */
    private boolean cut(Frame f) {
        return 2 * f.n < (long) config.thumb * config.thumb || Thumbnail.exceeds(f.total, f.n, config.cutThreshold);
    }

    /**
     * Step 4: the camera's shift reaches edge_shift samples, or a border segment changed by more than edge_threshold
     * over its compared cells outside the tracked faces. Sets the frame's regional and border changes (used by step 5).
     */
    private boolean edge(Frame f) {
        int size = config.thumb;
        boolean[] faceCells = faceCells(f.width, f.height, f.cx, f.cy);
        boolean[] keep = new boolean[size * size];
        for (int k = 0; k < keep.length; k++) {
            keep[k] = (f.compared == null || f.compared[k]) && !faceCells[k];
        }
        f.change = Thumbnail.regionChange(f.diff, size, config.blocks, keep);
        f.border = Thumbnail.borderChange(f.diff, size, keep);
        return Math.max(Math.abs(f.gx), Math.abs(f.gy)) >= config.edgeShift
                || Thumbnail.exceeds(f.border[0], f.border[1], config.edgeThreshold);
    }

    /** Step 5: a region changed outside the tracked faces by more than region_threshold (empty_threshold: no track). */
    private boolean sceneChange(Frame f) {
        return Thumbnail.exceeds(f.change[0], f.change[1],
                tracks.isEmpty() ? config.emptyThreshold : config.regionThreshold);
    }

    /** Step 6: the last full run missed a tracked face. */
    private boolean recheck() {
        for (Track track : tracks) {
            if (track.missed > 0) {
                return true;
            }
        }
        return false;
    }

    /** Step 7: a track's confidence less confidence_decay per frame since the last full run is below min_confidence. */
    private boolean lowConfidence() {
        long age = sinceFull + 1;
        for (Track track : tracks) {
            if (track.confidence - config.confidenceDecay * age < config.minConfidence) {
                return true;
            }
        }
        return false;
    }

    /**
     * Step 8: each track's best cell shift around the camera's; null (face-change) when a face's cells still differ by
     * more than face_threshold or no shift fits in the grid, else each track's move in image pixels.
     */
    private float[][] faceMoves(Frame f) {
        int size = config.thumb;
        float[][] moves = new float[tracks.size()][];
        for (int i = 0; i < moves.length; i++) {
            int[] region = Thumbnail.region(tracks.get(i).start.box, f.width, f.height, size);
            long[] best = Thumbnail.bestShift(referenceCells, f.cells, size, region, config.search, f.cx, f.cy);
            long area = (long) (region[2] - region[0]) * (region[3] - region[1]);
            if (best[2] < 0 || Thumbnail.exceeds(best[2], area, config.faceThreshold)) {
                return null;
            }
            moves[i] = new float[] {(float) ((double) (best[0] * f.width) / size),
                    (float) ((double) (best[1] * f.height) / size)};
        }
        return moves;
    }

    /** Step 9: the results are reused; each track's box and keypoints move by its best shift. */
    private void reuse(float[][] moves) {
        for (int i = 0; i < tracks.size(); i++) {
            Track track = tracks.get(i);
            track.face = track.start.moved(moves[i][0], moves[i][1]);
        }
        faces = shownFaces();
    }

    /** Cells a tracked face may cover: its box at the last run, moved by the camera (cells), widened by the search. */
    private boolean[] faceCells(int width, int height, int dx, int dy) {
        int size = config.thumb;
        int s = config.search;
        boolean[] mask = new boolean[size * size];
        for (Track track : tracks) {
            int[] r = Thumbnail.region(track.start.box, width, height, size);
            int yHi = Math.min(Math.max(r[3] + dy + s, 0), size);
            int xHi = Math.min(Math.max(r[2] + dx + s, 0), size);
            for (int y = Math.max(r[1] + dy - s, 0); y < yHi; y++) {
                for (int x = Math.max(r[0] + dx - s, 0); x < xHi; x++) {
                    mask[y * size + x] = true;
                }
            }
        }
        return mask;
    }

    /**
     * Continues tracks with the new detections (greedy IoU with their last box, best score first; none after a cut);
     * starts tracks for the rest; a track no detection continues is missed, kept for recheck runs; a looked track's age
     * and P(female) are not smoothed (reuse._update_tracks).
     */
    private void updateTracks(List<Face> detected, boolean cut) {
        List<Face> byScore = new ArrayList<Face>(detected);
        Collections.sort(byScore, new Comparator<Face>() {
            @Override
            public int compare(Face a, Face b) {
                return Double.compare(b.score, a.score);
            }
        });
        List<Track> free = cut ? new ArrayList<Track>() : new ArrayList<Track>(tracks);
        List<Track> updated = new ArrayList<Track>();
        double a = config.smoothing;
        for (Face face : byScore) {
            int best = -1;
            float bestIou = 0f;
            for (int i = 0; i < free.size(); i++) {
                float iou = Boxes.iou(face.box, free.get(i).face.box);
                if (best < 0 || iou > bestIou) {
                    best = i;
                    bestIou = iou;
                }
            }
            int confidence = (int) Math.floor(1000 * face.score);
            Track track;
            if (best >= 0 && bestIou >= (float) config.matchIou) {
                track = free.remove(best);
                if (!track.looked) { // a second look's answer is kept until the next look
                    track.age = (1 - a) * track.age + a * (Double.isNaN(face.age) ? 0 : face.age);
                    track.female = (1 - a) * track.female + a * (Double.isNaN(face.female) ? 0 : face.female);
                }
                track.face = face;
                track.start = face;
                track.confidence = confidence;
                track.missed = 0;
            } else {
                track = new Track(nextId++, face, confidence);
            }
            updated.add(track);
        }
        for (Track track : free) { // tracks not found: hidden, looked for again on the next frames, then dropped
            track.missed++;
            if (track.missed <= config.recheck) {
                updated.add(track);
            }
        }
        Collections.sort(updated, new Comparator<Track>() {
            @Override
            public int compare(Track x, Track y) {
                return x.id - y.id;
            }
        });
        tracks = updated;
        faces = shownFaces();
    }

    /**
     * Second looks at the shown tracks that are small in the frame and new or last looked at refreshEvery or more
     * frames ago, at most maxFaces, highest confidence first, then lowest id; a look that finds a face replaces the
     * track's age and P(female) for good, one that finds none leaves it. Returns the ids looked at (_look_again).
     */
    private int[] lookAgain(RgbImage frame) {
        if (secondLook == null) {
            return new int[0];
        }
        List<Track> due = new ArrayList<Track>();
        for (Track track : shownTracks()) {
            if (secondLook.wants(track.face, frame.width, frame.height)
                    && (track.lookedAt < 0 || index - track.lookedAt >= secondLook.refreshEvery)) {
                due.add(track);
            }
        }
        Collections.sort(due, new Comparator<Track>() {
            @Override
            public int compare(Track x, Track y) {
                return x.confidence != y.confidence ? y.confidence - x.confidence : x.id - y.id;
            }
        });
        due = due.subList(0, Math.min(secondLook.maxFaces, due.size()));
        for (Track track : due) {
            Face seen = look.look(frame, track.face);
            track.lookedAt = index;
            if (seen != null) {
                track.age = Double.isNaN(seen.age) ? 0 : seen.age;
                track.female = Double.isNaN(seen.female) ? 0 : seen.female;
                track.looked = true;
            }
        }
        faces = shownFaces();
        return ids(due);
    }

    private static int[] ids(List<Track> tracks) {
        int[] out = new int[tracks.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = tracks.get(i).id;
        }
        return out;
    }

    /** The tracks the last full run found (hidden ones left out; none unless tracking). */
    private List<Track> shownTracks() {
        List<Track> out = new ArrayList<Track>();
        for (Track track : tracks) {
            if (track.missed == 0) {
                out.add(track);
            }
        }
        return out;
    }

    /** The tracks' faces as reported (hidden ones left out). */
    private List<Face> shownFaces() {
        List<Face> out = new ArrayList<Face>();
        for (Track track : shownTracks()) {
            out.add(track.shown());
        }
        return out;
    }

    private static long[] absDiff(long[] a, long[] b) {
        long[] out = new long[a.length];
        for (int k = 0; k < a.length; k++) {
            out[k] = Math.abs(a[k] - b[k]);
        }
        return out;
    }

    private static long sum(long[] values) {
        long total = 0;
        for (long v : values) {
            total += v;
        }
        return total;
    }
}
