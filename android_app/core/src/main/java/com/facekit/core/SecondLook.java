package com.facekit.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The second look (a port of exporter/second_look.py: its module docstring is the specification): a face that is small
 * in the input is cut square from the image and run through the same letterbox and model once more; the age and
 * P(female) of the face nearest the crop's centre replace the first ones, box, keypoints and score stay. The geometry
 * is on integers and on doubles of the same values in the same order, so the port matches bit for bit.
 */
public final class SecondLook {
    /** The model on an image: letterbox, inference and decoding, faces in that image's pixels. */
    public interface Model {
        List<Face> run(RgbImage image);
    }

    /** A look to take: which face (index in the first look's list) and the square to cut, in image pixels. */
    public static final class Planned {
        public final int faceIndex;
        public final int left;
        public final int top;
        public final int side;

        Planned(int faceIndex, int[] square) {
            this.faceIndex = faceIndex;
            this.left = square[0];
            this.top = square[1];
            this.side = square[2];
        }
    }

    /** Look again when the box side is below this share of the image's longer side. */
    public final double maxFaceFraction;
    /** Crop side / box side. */
    public final double cropScale;
    /** At most this many faces per image, the highest scores first. */
    public final int maxFaces;
    /** Video: a tracked face is looked at again after this many frames (see FrameReuseScheduler). */
    public final int refreshEvery;

    /** Every field of the reference's SecondLook, in its order; settings it refuses are refused. */
    public SecondLook(double maxFaceFraction, double cropScale, int maxFaces, int refreshEvery) {
        if (!(maxFaceFraction > 0 && maxFaceFraction <= 1) || !(cropScale >= 1) || maxFaces < 0 || refreshEvery < 1) {
            throw new IllegalArgumentException("a second look needs max_face_fraction in (0, 1], crop_scale >= 1, "
                    + "max_faces >= 0 and refresh_every >= 1, got " + maxFaceFraction + ", " + cropScale + ", "
                    + maxFaces + ", " + refreshEvery);
        }
        this.maxFaceFraction = maxFaceFraction;
        this.cropScale = cropScale;
        this.maxFaces = maxFaces;
        this.refreshEvery = refreshEvery;
    }

    /** The reference's default settings (the ones the apps ship with: the contract's "second_look"). */
    public static SecondLook defaults() {
        return new SecondLook(0.6, 1.25, 4, 30);
    }

    /** From a JSON object with the reference's field names (the contract's and the golden traces' "second_look"). */
    public static SecondLook fromJson(Map<String, Object> json) {
        return new SecondLook(Json.number(json, "max_face_fraction"), Json.number(json, "crop_scale"),
                Json.integer(json, "max_faces"), Json.integer(json, "refresh_every"));
    }

    /** floor(value + 0.5): the rounding every port uses (not round-half-even). */
    public static int roundHalfUp(double value) {
        return (int) Math.floor(value + 0.5);
    }

    /** {left, top, side} in image pixels of the square around a face box (crop_square). */
    public int[] cropSquare(float[] box) {
        double x0 = box[0];
        double y0 = box[1];
        double x1 = box[2];
        double y1 = box[3];
        int side = Math.max(1, roundHalfUp(cropScale * Math.max(x1 - x0, y1 - y0)));
        return new int[] {roundHalfUp((x0 + x1) / 2 - side / 2.0), roundHalfUp((y0 + y1) / 2 - side / 2.0), side};
    }

    /** The side x side square of the image at (left, top), black where it lies outside the image (cut_square). */
    public static RgbImage cutSquare(RgbImage image, int left, int top, int side) {
        RgbImage out = RgbImage.black(side, side);
        int x0 = Math.max(left, 0);
        int y0 = Math.max(top, 0);
        int x1 = Math.min(left + side, image.width);
        int y1 = Math.min(top + side, image.height);
        for (int y = y0; x1 > x0 && y < y1; y++) {
            System.arraycopy(image.rgb, (y * image.width + x0) * 3, out.rgb, ((y - top) * side + x0 - left) * 3,
                    (x1 - x0) * 3);
        }
        return out;
    }

    /** Whether a face (image pixels) is small enough in the input to be looked at again (wants_second_look). */
    public boolean wants(Face face, int width, int height) {
        double side = Math.max((double) (face.box[2] - face.box[0]), (double) (face.box[3] - face.box[1]));
        return side < maxFaceFraction * Math.max(width, height);
    }

    /** The small faces with an age, highest score first (ties: list order), at most maxFaces (plan_looks). */
    public List<Planned> plan(final List<Face> faces, int width, int height) {
        List<Integer> small = new ArrayList<Integer>();
        for (int i = 0; i < faces.size(); i++) {
            if (!Double.isNaN(faces.get(i).age) && wants(faces.get(i), width, height)) {
                small.add(i);
            }
        }
        Collections.sort(small, new Comparator<Integer>() {
            @Override
            public int compare(Integer a, Integer b) {
                return Double.compare(faces.get(b).score, faces.get(a).score); // stable: ties keep list order
            }
        });
        List<Planned> out = new ArrayList<Planned>();
        for (int i : small.subList(0, Math.min(maxFaces, small.size()))) {
            out.add(new Planned(i, cropSquare(faces.get(i).box)));
        }
        return out;
    }

    /** Index of the face whose box centre is nearest the centre of a side x side crop; -1 when there is none. */
    public static int nearestToCentre(List<Face> faces, int side) {
        double centre = side / 2.0;
        int best = -1;
        double bestDistance = 0;
        for (int i = 0; i < faces.size(); i++) {
            float[] b = faces.get(i).box;
            double dx = (double) (b[0] + b[2]) / 2 - centre;
            double dy = (double) (b[1] + b[3]) / 2 - centre;
            double distance = dx * dx + dy * dy;
            if (best < 0 || distance < bestDistance) { // ties: the first
                best = i;
                bestDistance = distance;
            }
        }
        return best;
    }

    /** The face the model finds nearest the centre of the square around face (crop pixels), or null (look_at). */
    public Face lookAt(RgbImage image, Face face, Model model) {
        int[] square = cropSquare(face.box);
        List<Face> found = model.run(cutSquare(image, square[0], square[1], square[2]));
        int best = nearestToCentre(found, square[2]);
        return best < 0 ? null : found.get(best);
    }

    /** The faces with age and P(female) from a second look where the face is small (look_again; extra runs: plan). */
    public List<Face> lookAgain(RgbImage image, List<Face> faces, Model model) {
        List<Face> out = new ArrayList<Face>(faces);
        for (Planned p : plan(faces, image.width, image.height)) {
            Face first = faces.get(p.faceIndex);
            Face seen = lookAt(image, first, model);
            if (seen != null) {
                out.set(p.faceIndex, first.withAttributes(seen.age, seen.female));
            }
        }
        return out;
    }
}
