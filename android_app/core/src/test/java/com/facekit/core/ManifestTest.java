package com.facekit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** Reading the manifest's constants, and clear errors for broken ones. */
class ManifestTest {
    private static final String MINIMAL = "{\"input\": {\"size\": 128, \"normalisation\": {\"mean\": 127.5, \"std\": 127.5}},"
            + " \"anchors\": {\"input_size\": 128, \"strides\": [8, 16, 16, 16], \"min_scale\": 0.1484375,"
            + " \"max_scale\": 0.75, \"offset\": 0.5, \"interpolated_scale\": true, \"count\": 896},"
            + " \"decode\": {\"score_threshold\": 0.5, \"iou_threshold\": 0.3, \"age_scale\": 100},"
            + " \"outputs\": [{\"name\": \"regressors\"}, {\"name\": \"scores\"}], \"keypoints\": [\"a\"],"
            + " \"models\": [{\"format\": \"tflite\", \"precision\": \"int8\", \"file\": \"m.tflite\","
            + " \"files\": {\"m.tflite\": \"ab\"}}]}";

    @Test
    void readsTheGoldenContractLikeAManifest() throws Exception {
        Manifest contract = Manifest.parse(Golden.text("contract.json"));
        assertEquals(contract.anchorCount, contract.anchors.centres().length / 2);
        assertEquals(6, contract.keypoints.size());
        assertTrue(contract.outputNames.contains("regressors"));
        assertNotNull(contract.secondLook, "the contract has the second look's settings");
    }

    @Test
    void readsTheExportedManifestTheAppBundles() throws Exception {
        String path = System.getProperty("facekit.manifest");
        assumeTrue(path != null, "no exported manifest given (android_check.sh passes the app's assets/manifest.json)");
        Manifest manifest = Manifest.parse(new String(Files.readAllBytes(new File(path).toPath()), StandardCharsets.UTF_8));
        Manifest contract = Manifest.parse(Golden.text("contract.json"));
        assertEquals(contract.input.size, manifest.input.size);
        assertEquals(contract.input.mean, manifest.input.mean);
        assertEquals(contract.input.std, manifest.input.std);
        assertEquals(contract.anchorCount, manifest.anchorCount);
        assertEquals(contract.outputNames, manifest.outputNames);
        assertEquals(contract.keypoints, manifest.keypoints);
        assertTrue(manifest.models("tflite").size() > 0, "the manifest lists TFLite models");
        for (Manifest.Model model : manifest.models("tflite")) {
            assertTrue(new File(new File(path).getParentFile(), model.file).isFile(), model.file + " is installed beside it");
        }
    }

    @Test
    void readsNestedNormalisationAndModels() {
        Manifest manifest = Manifest.parse(MINIMAL);
        assertEquals(127.5f, manifest.input.std);
        assertEquals("ab", manifest.models("tflite").get(0).sha256);
        assertEquals(1, manifest.outputIndex("scores"));
        assertEquals(0, manifest.models("ncnn").size());
        assertNull(manifest.secondLook, "no \"second_look\": none");
    }

    @Test
    void brokenManifestsSayWhatIsWrong() {
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> Manifest.parse(MINIMAL.replace("896", "895")));
        assertTrue(count.getMessage().contains("896 anchors"), count.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> Manifest.parse(MINIMAL.replace("\"decode\"", "\"other\"")));
        assertTrue(missing.getMessage().contains("\"decode\""), missing.getMessage());
        IllegalArgumentException syntax = assertThrows(IllegalArgumentException.class, () -> Manifest.parse("{\"a\": [1,"));
        assertTrue(syntax.getMessage().contains("offset"), syntax.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Manifest.parse(MINIMAL).outputIndex("age"));
    }
}
