package com.facekit.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Camera frames to upright RGB and faces to the view: rotation, mirroring and the fill scale. */
class GeometryTest {
    /** A 3x2 frame whose luma is 10 * index and chroma neutral, in planes with padded strides. */
    private static RgbImage turned(int degrees) {
        byte[] y = new byte[2 * 4];
        for (int row = 0; row < 2; row++) {
            for (int col = 0; col < 3; col++) {
                y[row * 4 + col] = (byte) (10 * (row * 3 + col));
            }
        }
        byte[] uv = {(byte) 128, (byte) 128, (byte) 128, (byte) 128};
        return Yuv420.toRgb(y, 4, uv, uv, 2, 1, 3, 2, degrees);
    }

    @Test
    void neutralChromaGivesGreyAndTheRotationTurnsClockwise() {
        RgbImage upright = turned(0);
        assertEquals(3, upright.width);
        assertEquals(50, upright.at(2, 1, 0));
        assertEquals(50, upright.at(2, 1, 2));
        RgbImage quarter = turned(90);
        assertEquals(2, quarter.width);
        assertEquals(3, quarter.height);
        // clockwise: the bottom-left pixel (0, 1) = 30 goes to the top-left
        assertEquals(30, quarter.at(0, 0, 1));
        assertEquals(50, quarter.at(0, 2, 1));
        assertEquals(20, quarter.at(1, 2, 1));
        assertEquals(50, turned(180).at(0, 0, 1));
        assertEquals(20, turned(270).at(0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> turned(45));
    }

    @Test
    void fullRedChromaSaturates() {
        byte[] y = {(byte) 200};
        RgbImage red = Yuv420.toRgb(y, 1, new byte[] {(byte) 128}, new byte[] {(byte) 255}, 1, 1, 1, 1, 0);
        assertEquals(255, red.at(0, 0, 0));
        assertTrue(red.at(0, 0, 1) < 200);
    }

    @Test
    void viewTransformFillsTheViewAndMirrors() {
        Face face = new Face(new float[] {10, 20, 30, 60}, new float[] {15, 30}, 0.9, 30, 0.5);
        // a 100x200 frame in a 200x200 view: scale 2, the frame's middle 100 rows shown
        Face plain = new ViewTransform(100, 200, false, 200, 200).map(face);
        assertArrayEquals(new float[] {20, -60, 60, 20}, plain.box, 1e-4f);
        Face mirrored = new ViewTransform(100, 200, true, 200, 200).map(face);
        assertArrayEquals(new float[] {140, -60, 180, 20}, mirrored.box, 1e-4f);
        assertArrayEquals(new float[] {170, -40}, mirrored.keypoints, 1e-4f);
    }

    @Test
    void letterboxMapsTheInputBackToTheImage() {
        Letterbox.Result result = Letterbox.apply(RgbImage.black(300, 100), 128);
        assertEquals(300f, result.box.side);
        assertEquals(100f, result.box.padY);
        assertEquals(-100f, result.box.toImageY(0f));
        assertEquals(300f, result.box.toImageX(1f));
    }
}
