package com.facekit.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The letterbox and normalisation against the reference's goldens: bit for bit. */
class LetterboxGoldenTest {
    @Test
    void letterboxIsBitForBitAndTheFloatInputHasTheSameSha256() throws Exception {
        Manifest contract = Manifest.parse(Golden.text("contract.json"));
        for (Object c : Golden.cases()) {
            Map<String, Object> item = Json.asObject(c);
            String name = Json.string(item, "name");
            RgbImage source = Golden.png(Json.string(item, "source"));
            assertEquals((int) Json.number(item, "width"), source.width, name);
            assertEquals((int) Json.number(item, "height"), source.height, name);

            Letterbox.Result result = Letterbox.apply(source, contract.input.size);
            assertArrayEquals(Golden.png(Json.string(item, "square")).rgb, result.square.rgb, name + ": square pixels");
            Map<String, Object> box = Json.obj(item, "letterbox");
            assertEquals(Json.number(box, "pad_x"), result.box.padX, 0.0, name);
            assertEquals(Json.number(box, "pad_y"), result.box.padY, 0.0, name);
            assertEquals(Json.number(box, "side"), result.box.side, 0.0, name);

            int size = contract.input.size;
            ByteBuffer input = ByteBuffer.allocate(size * size * 3 * 4).order(ByteOrder.LITTLE_ENDIAN);
            contract.input.normalise(result.square, input.asFloatBuffer());
            assertEquals(Json.string(item, "float_input_sha256"), hex(MessageDigest.getInstance("SHA-256").digest(input.array())),
                    name + ": float input");
        }
    }

    @Test
    void halvingIsTheRoundedHalfUpBlockMean() {
        RgbImage image = new RgbImage(2, 2, new byte[] {0, 1, 2, 1, 1, 2, 0, 1, (byte) 255, 1, 1, (byte) 255});
        RgbImage half = Letterbox.halve(image);
        // (0+1+0+1+2)/4 = 1, (1+1+1+1+2)/4 = 1, (2+2+255+255+2)/4 = 129
        assertArrayEquals(new int[] {1, 1, 129}, new int[] {half.at(0, 0, 0), half.at(0, 0, 1), half.at(0, 0, 2)});
    }

    static String hex(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        for (byte b : bytes) {
            out.append(String.format("%02x", b & 0xff));
        }
        return out.toString();
    }
}
