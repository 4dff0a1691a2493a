package com.facekit.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * Runs the detector only when the reuse policy says so (a port of exporter/reuse.py FrameReuseScheduler).
 * The reasons to run are checked in the reference's order in {@link #reasonToRun}: a new reason is one more check there.
 */
public final class FrameReuseScheduler {
    /** Frame (RGB) to faces in image pixels: the full model. */
    public interface Detector {
        List<Face> detect(RgbImage frame);
    }

    private final Detector detector;
    private final ReuseConfig config;
    private int index = -1;
    private int sinceFull = 0;
    private float[] reference;
    private List<Face> faces = new ArrayList<Face>();
    private List<Track> tracks = new ArrayList<Track>();
    private int nextId = 1;
    private double change;
    private float[][] pendingMoves;

    public FrameReuseScheduler(Detector detector, ReuseConfig config) {
        this.detector = detector;
        this.config = config;
    }

    /** Processes the next frame: runs the model or reuses, and says what was done. */
    public FrameDecision step(RgbImage frame) {
        index++;
        float[] thumb = Thumbnail.of(frame, config.thumb);
        String reason = reasonToRun(thumb, frame.width, frame.height);
        if (reason != null) {
            List<Face> detected = detector.detect(frame);
            if (config.tracking()) {
                updateTracks(detected);
            } else {
                faces = new ArrayList<Face>(detected);
            }
            reference = thumb;
            sinceFull = 0;
        } else {
            sinceFull++;
            if (pendingMoves != null) {
                applyMoves();
            }
        }
        int[] ids = new int[config.tracking() ? tracks.size() : 0];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tracks.get(i).id;
        }
        return new FrameDecision(index, reason != null, reason == null ? "static" : reason, change,
                Collections.unmodifiableList(new ArrayList<Face>(faces)), ids);
    }

    /** Why the model must run on this frame, or null to reuse (tracking then moves the tracks). */
    private String reasonToRun(float[] thumb, int width, int height) {
        pendingMoves = null;
        change = 0;
        if (reference == null) {
            return "first";
        }
        change = Thumbnail.regionChange(thumb, reference, config.thumb, config.blocks,
                config.tracking() ? trackedCells(width, height) : null);
        if (ReuseConfig.EVERY_FRAME.equals(config.policy)) {
            return "every-frame";
        }
        if (sinceFull >= config.maxReuse) {
            return "max-reuse";
        }
        if (ReuseConfig.SKIP_N.equals(config.policy)) {
            return sinceFull + 1 >= config.skip ? "period" : null;
        }
        if (change > config.regionThreshold) {
            return "scene-change";
        }
        if (config.tracking()) {
            return faceChange(thumb, width, height);
        }
        return null;
    }

    /** "face-change" when a tracked face's region still differs after its best shift; else the moves to apply. */
    private String faceChange(float[] thumb, int width, int height) {
        float[][] moves = new float[tracks.size()][];
        for (int i = 0; i < moves.length; i++) {
            int[] region = Thumbnail.region(tracks.get(i).start.box, width, height, config.thumb);
            double[] shift = Thumbnail.bestShift(reference, thumb, config.thumb, region, config.search);
            if (shift[2] > config.faceThreshold) {
                return "face-change";
            }
            moves[i] = new float[] {(float) (shift[0] * width / config.thumb), (float) (shift[1] * height / config.thumb)};
        }
        pendingMoves = moves;
        return null;
    }

    private void applyMoves() {
        List<Face> moved = new ArrayList<Face>();
        for (int i = 0; i < tracks.size(); i++) {
            Track track = tracks.get(i);
            track.face = track.start.moved(pendingMoves[i][0], pendingMoves[i][1]);
            moved.add(track.smoothed());
        }
        faces = moved;
    }

    /** Cells a tracked face may cover since the last full run (its boxes then and now, widened by the search). */
    private boolean[] trackedCells(int width, int height) {
        int size = config.thumb;
        boolean[] mask = new boolean[size * size];
        for (Track track : tracks) {
            for (float[] box : new float[][] {track.face.box, track.start.box}) {
                int[] r = Thumbnail.region(box, width, height, size);
                for (int y = Math.max(r[1] - config.search, 0); y < Math.min(r[3] + config.search, size); y++) {
                    for (int x = Math.max(r[0] - config.search, 0); x < Math.min(r[2] + config.search, size); x++) {
                        mask[y * size + x] = true;
                    }
                }
            }
        }
        return mask;
    }

    /** Continues tracks with new detections (greedy IoU, best score first); starts tracks for the rest. */
    private void updateTracks(List<Face> detected) {
        List<Face> byScore = new ArrayList<Face>(detected);
        Collections.sort(byScore, new Comparator<Face>() {
            @Override
            public int compare(Face a, Face b) {
                return Double.compare(b.score, a.score);
            }
        });
        List<Track> free = new ArrayList<Track>(tracks);
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
            Track track;
            if (best >= 0 && bestIou >= (float) config.matchIou) {
                track = free.remove(best);
                track.age = (1 - a) * track.age + a * (Double.isNaN(face.age) ? 0 : face.age);
                track.female = (1 - a) * track.female + a * (Double.isNaN(face.female) ? 0 : face.female);
                track.face = face;
                track.start = face;
            } else {
                track = new Track(nextId++, face);
            }
            updated.add(track);
        }
        Collections.sort(updated, new Comparator<Track>() {
            @Override
            public int compare(Track x, Track y) {
                return x.id - y.id;
            }
        });
        tracks = updated;
        List<Face> smoothed = new ArrayList<Face>();
        for (Track track : tracks) {
            smoothed.add(track.smoothed());
        }
        faces = smoothed;
    }
}
