"""The app contract: golden cases a port of the reference pipeline must reproduce, frozen in tests/golden/.

Each case is a real photo (PNG) of a shape that takes another path through the letterbox (portrait, landscape,
larger than 4x the input so the 2x2 halvings run, smaller than the input so the area rule enlarges), its
letterboxed uint8 square (PNG, bit for bit), the sha256 of its float32 input, the raw outputs of the fp32 TFLite
file (float32 little-endian, outputs in contract order) and the decoded faces (normalised to the input and in image
pixels); where a face is small, the second look's square (cut from the photo, letterboxed, PNG), its raw outputs,
the faces found in it (crop pixels), the one chosen and the faces after the look; contract.json indexes them with
the model contract (input spec, anchors, decoding, second look) and the tolerances.
Every export writes the same folder as `contract/` into its bundle; `facekit golden --update` copies the shipped
checkpoint's into tests/golden, and tests compare today's reference code with the committed files.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from exporter.assets import asset_path
from exporter.data.types import KEYPOINT_NAMES
from exporter.detector import Decoder
from exporter.export import reuse_golden
from exporter.image_io import read_rgb
from exporter.jsonio import MB, load_json, write_json
from exporter.postprocess import Face
from exporter.preprocess import letterbox
from exporter.runner import Runner
from exporter.second_look import SecondLook, cut_square, look_again, nearest_to_centre, plan_looks
from exporter.spec import FACEKIT, ModelSpec

INDEX = "contract.json"
VERSION = 2  # 2: the second look
SECOND_LOOK = SecondLook()  # the settings the apps ship with
TOLERANCES = {
    "letterbox": "exact (uint8, bit for bit)",
    "float_input": "exact (float32 bytes, compared by sha256)",
    "decode": 1e-4,  # faces decoded from the committed raw outputs, per box/keypoint coordinate, score, P(female)
    "age_years": 1e-2,
    "raw_outputs_fp32": 1e-5,  # of each output's range: another build of the same fp32 model on another CPU
    "reuse": "exact decisions; numbers as reuse_traces.json says",
}


@dataclass(frozen=True)
class GoldenCase:
    """How one golden photo is made from a fetched sample photo: an optional crop, a resize, a pixel replication."""

    name: str
    asset: str
    size: tuple[int, int]  # (width, height) after the resize (area averaging)
    crop: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 in the asset, before the resize
    replicate: int = 1  # each pixel becomes replicate x replicate (a large photo in few PNG bytes)
    trim: tuple[int, int] | None = None  # (width, height) kept after the replication (odd sizes pad in the letterbox)

    def image(self) -> np.ndarray:
        """The case's RGB photo."""
        image = read_rgb(asset_path(self.asset))
        if self.crop is not None:
            x0, y0, x1, y1 = self.crop
            image = image[y0:y1, x0:x1]
        image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        if self.replicate > 1:
            image = np.kron(image, np.ones((self.replicate, self.replicate, 1), np.uint8))
        if self.trim is not None:
            image = image[:self.trim[1], :self.trim[0]]
        return np.ascontiguousarray(image)


CASES = (
    GoldenCase("portrait", "obama2.jpg", (163, 313)),
    GoldenCase("landscape", "astronaut.png", (241, 151), crop=(30, 20, 510, 320)),
    GoldenCase("large", "obama.jpg", (131, 164), replicate=8, trim=(1043, 1307)),
    GoldenCase("small", "biden.jpg", (93, 97), crop=(380, 200, 780, 620)),
)


def _png(path: Path, image_rgb: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise RuntimeError(f"cannot encode {path.name} as PNG")
    path.write_bytes(data.tobytes())


def float_input_sha256(square: np.ndarray, spec: ModelSpec = FACEKIT) -> str:
    """sha256 of the normalised float32 input (NHWC, little-endian bytes) of a uint8 square."""
    return hashlib.sha256(spec.input.normalise(square).astype("<f4").tobytes()).hexdigest()


def _faces(faces: list[Face]) -> list[dict]:
    return [f.to_dict() for f in faces]


def _write_outputs(path: Path, outputs: list[np.ndarray]) -> None:
    path.write_bytes(b"".join(o.astype("<f4").tobytes() for o in outputs))


def _second_looks(folder: Path, name: str, image: np.ndarray, faces: list[Face], runner: Runner, decoder: Decoder,
                  size: int) -> tuple[list[dict], list[str], list[Face]]:
    """The second looks of one case (files written into folder), the names of those files and the faces after."""
    looks, written, final = [], [], list(faces)
    for p in plan_looks(faces, image.shape, SECOND_LOOK):
        square, box = letterbox(cut_square(image, p.left, p.top, p.side), size)
        outputs = runner(square[None])
        found = [f.to_image(box) for f in decoder.decode(outputs)]
        files = {"square": f"{name}.look{p.face_index}.square.png", "outputs": f"{name}.look{p.face_index}.outputs.bin"}
        _png(folder / files["square"], square)
        _write_outputs(folder / files["outputs"], outputs)
        written += list(files.values())
        chosen = nearest_to_centre(found, p.side)
        if chosen is not None:
            final[p.face_index] = replace(faces[p.face_index], age=found[chosen].age, female=found[chosen].female)
        looks.append({"face": p.face_index, "left": p.left, "top": p.top, "side": p.side, **files,
                      "faces": _faces(found), "chosen": chosen})
    return looks, written, final


def write_contract(folder: Path, runner: Runner, model_file: str, spec: ModelSpec = FACEKIT) -> list[str]:
    """Write the golden cases, the reuse traces and contract.json into folder; return the file names written."""
    folder.mkdir(parents=True, exist_ok=True)
    decoder = Decoder(spec)
    written, cases = [], []
    for case in CASES:
        image = case.image()
        square, box = letterbox(image, spec.input.size)
        outputs = runner(square[None])
        faces = decoder.decode(outputs)
        in_image = [f.to_image(box) for f in faces]
        files = {"source": f"{case.name}.png", "square": f"{case.name}.square.png", "outputs": f"{case.name}.outputs.bin"}
        _png(folder / files["source"], image)
        _png(folder / files["square"], square)
        _write_outputs(folder / files["outputs"], outputs)
        written += list(files.values())
        looks, look_files, final = _second_looks(folder, case.name, image, in_image, runner, decoder, spec.input.size)
        written += look_files
        cases.append({"name": case.name, **files, "recipe": asdict(case), "width": image.shape[1],
                      "height": image.shape[0], "letterbox": {"pad_x": box.pad_x, "pad_y": box.pad_y, "side": box.side},
                      "float_input_sha256": float_input_sha256(square, spec),
                      "faces_input": _faces(faces), "faces": _faces(in_image),
                      "second_look": looks, "faces_after_second_look": _faces(final)})
    written += reuse_golden.write_traces(folder)
    index = {
        "version": VERSION,
        "description": " ".join(__doc__.split("\n\n")[1].split()),
        "model_file": model_file,
        "input": {**asdict(spec.input), "layout": "NHWC", "dtype": "float32"},
        "anchors": {**asdict(spec.anchors), "count": int(len(spec.anchor_table()))},
        "decode": asdict(spec.decode),
        "second_look": asdict(SECOND_LOOK),
        "outputs": [{"name": name, "shape": list(o.shape)} for name, o in zip(spec.output_names, outputs)],
        "keypoints": list(KEYPOINT_NAMES),
        "tolerances": TOLERANCES,
        "cases": cases,
        "reuse_traces": reuse_golden.FILE,
    }
    write_json(folder / INDEX, index)
    return [*written, INDEX]


def read_outputs(folder: Path, case: dict, index: dict) -> list[np.ndarray]:
    """The committed raw outputs of a case, each with its shape."""
    data = np.frombuffer((Path(folder) / case["outputs"]).read_bytes(), "<f4")
    outputs, start = [], 0
    for entry in index["outputs"]:
        count = int(np.prod(entry["shape"]))
        outputs.append(data[start:start + count].reshape(entry["shape"]).astype(np.float32))
        start += count
    if start != data.size:
        raise ValueError(f"{case['outputs']}: {data.size} floats, the output shapes need {start}")
    return outputs


def check_reference(folder: Path, spec: ModelSpec = FACEKIT) -> list[str]:
    """What today's reference code does differently from a contract folder (empty: it reproduces every file)."""
    index = load_json(Path(folder) / INDEX, max_bytes=MB, what="contract index")
    decoder, problems = Decoder(spec), []
    for case in index["cases"]:
        name = case["name"]
        square, box = letterbox(read_rgb(folder / case["source"]), spec.input.size)
        if not np.array_equal(square, read_rgb(folder / case["square"])):
            problems.append(f"{name}: the letterbox gives other pixels than {case['square']}")
        if {"pad_x": box.pad_x, "pad_y": box.pad_y, "side": box.side} != case["letterbox"]:
            problems.append(f"{name}: letterbox geometry {box} differs from {case['letterbox']}")
        if float_input_sha256(square, spec) != case["float_input_sha256"]:
            problems.append(f"{name}: the float input differs (sha256)")
        faces = decoder.decode(read_outputs(folder, case, index))
        problems += [f"{name}: {p}" for p in compare_faces(faces, case["faces_input"])]
        in_image = [f.to_image(box) for f in faces]
        problems += [f"{name} (image pixels): {p}" for p in compare_faces(in_image, case["faces"], scale=box.side)]
        problems += [f"{name} second look: {p}" for p in _check_second_looks(folder, index, case, in_image, decoder, spec)]
    traces = folder / index["reuse_traces"]
    if reuse_golden.replay(traces) != [p["trace"] for p in load_json(traces, max_bytes=4 * MB, what="reuse traces")["policies"]]:
        problems.append("the frame-reuse schedulers take other decisions than reuse_traces.json")
    return problems


def _check_second_looks(folder: Path, index: dict, case: dict, faces: list[Face], decoder: Decoder,
                        spec: ModelSpec) -> list[str]:
    """Replay look_again on a case with the committed crop outputs standing in for the model."""
    image, look = read_rgb(folder / case["source"]), SecondLook(**index["second_look"])
    looks, problems = case["second_look"], []
    planned = [(p.face_index, p.left, p.top, p.side) for p in plan_looks(faces, image.shape, look)]
    if planned != [(e["face"], e["left"], e["top"], e["side"]) for e in looks]:
        return [f"it plans the looks {planned}, the contract has "
                f"{[(e['face'], e['left'], e['top'], e['side']) for e in looks]}"]
    pending = iter(looks)

    def committed_model(crop: np.ndarray, _config: object) -> list[Face]:
        entry = next(pending)
        square, box = letterbox(crop, spec.input.size)
        if not np.array_equal(square, read_rgb(folder / entry["square"])):
            problems.append(f"face {entry['face']}: the cut and letterbox give other pixels than {entry['square']}")
        found = [f.to_image(box) for f in decoder.decode(read_outputs(folder, entry, index))]
        problems.extend(f"face {entry['face']} (crop pixels): {p}" for p in compare_faces(found, entry["faces"], scale=box.side))
        if nearest_to_centre(found, entry["side"]) != entry["chosen"]:
            problems.append(f"face {entry['face']}: another face of the crop is chosen than {entry['chosen']}")
        return found

    final, _ = look_again(image, faces, committed_model, decoder.config, look)
    return problems + [f"after it: {p}" for p in compare_faces(final, case["faces_after_second_look"], scale=max(image.shape[:2]))]


def compare_faces(faces: list[Face], expected: list[dict], scale: float = 1.0) -> list[str]:
    """Differences beyond the contract's tolerances between decoded faces and committed ones (coordinates / scale)."""
    if len(faces) != len(expected):
        return [f"{len(faces)} faces, the contract has {len(expected)}"]
    tol, problems = TOLERANCES["decode"], []
    for i, (face, want) in enumerate(zip(faces, expected)):
        got = face.to_dict()
        coords = np.abs(np.r_[got["box"], np.ravel(got["keypoints"])] - np.r_[want["box"], np.ravel(want["keypoints"])])
        if coords.max() / scale > tol:
            problems.append(f"face {i}: box/keypoints differ by {coords.max():.2e}")
        for key, limit in (("score", tol), ("female", tol), ("age", TOLERANCES["age_years"])):
            if abs(got[key] - want[key]) > limit:
                problems.append(f"face {i}: {key} {got[key]} != {want[key]}")
    return problems
