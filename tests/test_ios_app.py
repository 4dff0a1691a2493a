"""Checks of the iOS sample app that run without Xcode: Swift syntax, project and package layout, Info.plist, and the
agreement of the Swift code with the model contract and the saved Core ML spec (no Swift toolchain or macOS here)."""

from __future__ import annotations

import dataclasses
import json
import plistlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from exporter.export.formats import FORMATS
from exporter.reuse import ReuseConfig
from exporter.second_look import SecondLook

tree_sitter = pytest.importorskip("tree_sitter", reason="tree-sitter is pinned in requirements.lock; `make test` installs it")
tree_sitter_swift = pytest.importorskip("tree_sitter_swift", reason="tree-sitter-swift is pinned in requirements.lock")

REPO = Path(__file__).resolve().parents[1]
IOS_APP = REPO / "ios_app"
CORE = IOS_APP / "FaceKitCore"
DEMO = IOS_APP / "FaceKitDemo"
CORE_SOURCES = CORE / "Sources" / "FaceKitCore"
# the sources; build folders of `swift test` and Xcode (.build, .swiftpm) are left out
SWIFT_FILES = sorted(p for p in IOS_APP.rglob("*.swift")
                     if not any(part.startswith(".") for part in p.relative_to(IOS_APP).parts))
COREML = FORMATS["coreml"]


# --- reading Swift with tree-sitter -------------------------------------------------------------------------------

def parse(source: bytes):
    """The tree-sitter tree of Swift source."""
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language())).parse(source)


def walk(node):
    """Every node under `node`, depth first."""
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def syntax_errors(tree) -> list[str]:
    """'line:column: what' for every error or missing node (1-based positions)."""
    found = []
    for node in walk(tree.root_node):
        if node.is_error or node.is_missing:
            line, column = node.start_point
            what = f"missing {node.type}" if node.is_missing else "unexpected " + node.text.decode(errors="replace")[:60]
            found.append(f"{line + 1}:{column + 1}: {what}")
    return found


def declarations(path: Path, kind: str) -> dict[str, object]:
    """Type declarations of one kind ('enum', 'struct', 'class') in a Swift file, by name."""
    found = {}
    for node in walk(parse(path.read_bytes()).root_node):
        if node.type == "class_declaration" and node.child_by_field_name("declaration_kind").type == kind:
            found[node.child_by_field_name("name").text.decode()] = node
    return found


def enum_cases(enum) -> dict[str, str]:
    """The cases of an enum in order, by name: the raw value where one is written, else the case name."""
    cases, name = {}, ""
    for entry in (n for n in enum.child_by_field_name("body").children if n.type == "enum_entry"):
        for child in entry.children:
            if child.type == "simple_identifier":
                name = child.text.decode().strip("`")
                cases[name] = name
            elif child.type == "line_string_literal":
                cases[name] = child.child_by_field_name("text").text.decode()
    return cases


def enum_values(enum) -> list[str]:
    """The cases of an enum as strings: the raw value where one is written, else the case name."""
    return list(enum_cases(enum).values())


def init_defaults(node) -> dict[str, float]:
    """The number literals a type's first init gives its parameters as defaults, by parameter name."""
    init = next(n for n in walk(node) if n.type == "init_declaration")
    defaults, name = {}, ""
    for child in init.children:
        if child.type == "parameter":
            name = child.children[0].text.decode()
        elif child.type in {"integer_literal", "real_literal"}:
            defaults[name] = float(child.text.decode())
    return defaults


def inherits(node) -> set[str]:
    """The protocols and classes a Swift type declaration names after its colon."""
    return {n.text.decode() for n in node.children if n.type == "inheritance_specifier"}


def coding_keys(path: Path) -> set[str]:
    """Every JSON key the Codable types of a Swift file read: its CodingKey enums' values, and the stored
    properties of the Codable structs that have no CodingKeys."""
    keys = set()
    for enum in declarations(path, "enum").values():
        if "CodingKey" in inherits(enum):
            keys.update(enum_values(enum))
    for struct in declarations(path, "struct").values():
        if inherits(struct) & {"Decodable", "Codable"}:
            keys.update(encoded_keys(struct))
    return keys


def json_keys(data) -> set[str]:
    """Every object key anywhere in parsed JSON."""
    found, stack = set(), [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.update(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def expected_shapes(anchor_count: int, keypoint_count: int) -> dict[str, list[int]]:
    """OutputRole.expectedShape of Decoding.swift, evaluated for the given counts (read from the source)."""
    function = next(n for n in walk(parse((CORE_SOURCES / "Decoding.swift").read_bytes()).root_node)
                    if n.type == "function_declaration" and n.child_by_field_name("name").text.decode() == "expectedShape")
    shapes = {}
    for entry in (n for n in walk(function) if n.type == "switch_entry"):
        literal = next(n for n in walk(entry) if n.type == "array_literal").text.decode()
        assert re.fullmatch(r"[\[\]\d\s,+*a-zA-Z]+", literal), f"expectedShape returns {literal}: not a plain array"
        value = eval(literal, {"__builtins__": {}}, {"anchorCount": anchor_count, "keypointCount": keypoint_count})
        for pattern in (n for n in entry.children if n.type == "switch_pattern"):
            shapes[pattern.text.decode().lstrip(".")] = value
    return shapes


def output_roles() -> list[str]:
    """The cases of OutputRole in Decoding.swift: the output names the Swift code asks the model for."""
    return enum_values(declarations(CORE_SOURCES / "Decoding.swift", "enum")["OutputRole"])


# --- every Swift file parses ----------------------------------------------------------------------------------------

def test_there_are_swift_files_in_the_package_the_tests_and_the_app():
    assert {p.relative_to(IOS_APP).parts[:2] for p in SWIFT_FILES} >= {
        ("FaceKitCore", "Sources"), ("FaceKitCore", "Tests"), ("FaceKitDemo", "Sources")}


@pytest.mark.parametrize("path", SWIFT_FILES, ids=lambda p: str(p.relative_to(IOS_APP)))
def test_swift_file_parses(path):
    errors = syntax_errors(parse(path.read_bytes()))
    assert not errors, f"{path.relative_to(REPO)}:\n  " + "\n  ".join(errors)


def test_a_syntax_error_is_found_with_its_line():
    errors = syntax_errors(parse(b"struct A {\n    let x: Int = (1 +\n}\n"))
    assert errors and errors[0].split(":")[0] in {"2", "3"}


# --- the Swift package: targets and files ---------------------------------------------------------------------------

def package_declarations() -> dict[str, list[str]]:
    """Names declared in Package.swift per call: {'library': [...], 'target': [...], 'testTarget': [...]}."""
    found: dict[str, list[str]] = {}
    for node in walk(parse((CORE / "Package.swift").read_bytes()).root_node):
        if node.type != "call_expression":
            continue
        callee = node.children[0].text.decode()
        if callee not in {".library", ".target", ".testTarget"}:
            continue
        for argument in (n for n in walk(node) if n.type == "value_argument"):
            label = argument.child_by_field_name("name")
            if label is not None and label.text.decode() == "name":
                found.setdefault(callee[1:], []).append(argument.child_by_field_name("value").text.decode().strip('"'))
                break
    return found


def test_every_package_swift_file_is_in_a_declared_target():
    declared = package_declarations()
    assert declared["library"] == ["FaceKitCore"] and declared["target"] == ["FaceKitCore"]
    assert declared["testTarget"] == ["FaceKitCoreTests"]
    for path in (p for p in SWIFT_FILES if CORE in p.parents and p.name != "Package.swift"):
        folder, target = path.relative_to(CORE).parts[:2]
        wanted = declared["target"] if folder == "Sources" else declared["testTarget"] if folder == "Tests" else []
        assert target in wanted, f"{path.relative_to(REPO)} is in no target of Package.swift"


def test_the_package_core_uses_no_ui_framework():
    for path in CORE_SOURCES.rglob("*.swift"):
        imports = re.findall(r"^import (\w+)", path.read_text(), re.MULTILINE)
        assert not set(imports) & {"UIKit", "SwiftUI", "AppKit"}, f"{path.name} imports {imports}"


# --- the XcodeGen project ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def project() -> dict:
    return yaml.safe_load((DEMO / "project.yml").read_text())


def app_target(project: dict) -> dict:
    return project["targets"]["FaceKitDemo"]


def test_project_paths_exist_or_are_export_outputs(project):
    """Every path the spec names exists, except the optional ones, which are what `make export TARGET=ios` installs."""
    app_folder = REPO / COREML.app_folder
    for source in app_target(project)["sources"]:
        path = (DEMO / source["path"]).resolve()
        if source.get("optional"):
            assert path.parent == app_folder, f"{source['path']} is optional but not an export output"
        else:
            assert path.exists(), f"project.yml names {source['path']}, which does not exist"
    assert (DEMO / project["packages"]["FaceKitCore"]["path"] / "Package.swift").is_file()
    plist = app_target(project)["settings"]["base"]["INFOPLIST_FILE"]
    assert (DEMO / plist).is_file()


def test_the_model_and_manifest_are_the_exported_ones(project):
    optional = {(DEMO / s["path"]).resolve() for s in app_target(project)["sources"] if s.get("optional")}
    app_folder = REPO / COREML.app_folder
    assert optional == {app_folder / COREML.artifact_name("fp16"), app_folder / "manifest.json"}
    ignored = subprocess.run(["git", "check-ignore", "-q", str(app_folder / "manifest.json")], cwd=REPO)
    assert ignored.returncode == 0, f"{COREML.app_folder} should be git-ignored (a build output of make export)"


def test_every_app_swift_file_belongs_to_the_app_target(project):
    roots = [(DEMO / s["path"]).resolve() for s in app_target(project)["sources"]]
    for path in (p for p in SWIFT_FILES if DEMO in p.parents):
        assert any(root == path or root in path.parents for root in roots), f"{path.relative_to(REPO)} is in no target"


def test_the_app_depends_on_the_package_product(project):
    products = package_declarations()["library"]
    dependencies = app_target(project)["dependencies"]
    assert {(d["package"], d["product"]) for d in dependencies} == {("FaceKitCore", p) for p in products}


def test_deployment_targets_agree(project):
    package = (CORE / "Package.swift").read_text()
    assert ".iOS(.v16)" in package
    assert project["options"]["deploymentTarget"]["iOS"] == app_target(project)["deploymentTarget"] == "16.0"


def test_the_app_bundles_the_goldens(project):
    golden = [s for s in app_target(project)["sources"] if (DEMO / s["path"]).resolve() == REPO / "tests" / "golden"]
    assert golden and golden[0]["type"] == "folder" and golden[0]["buildPhase"] == "resources"


# --- Info.plist -----------------------------------------------------------------------------------------------------

def test_info_plist_is_valid_with_the_camera_text_and_files_sharing():
    info = plistlib.loads((DEMO / "Info.plist").read_bytes())
    assert isinstance(info["NSCameraUsageDescription"], str) and len(info["NSCameraUsageDescription"]) > 20
    assert info["UIFileSharingEnabled"] is True and info["LSSupportsOpeningDocumentsInPlace"] is True
    assert info["CFBundleShortVersionString"] == "$(MARKETING_VERSION)"


# --- the Swift code against the model contract ----------------------------------------------------------------------

def test_swift_output_roles_are_the_model_outputs_in_order():
    from exporter.spec import OUTPUT_NAMES

    assert output_roles() == list(OUTPUT_NAMES)


def test_swift_expected_shapes_are_the_shipped_models_output_shapes():
    import torch

    from exporter.checkpoint import load_model
    from exporter.data.types import KEYPOINT_NAMES
    from exporter.paths import DEFAULT_CHECKPOINT
    from exporter.spec import FACEKIT, OUTPUT_NAMES

    model, _ = load_model(DEFAULT_CHECKPOINT)
    size = FACEKIT.input.size
    with torch.no_grad():
        outputs = model(torch.zeros(1, 3, size, size))
    shapes = expected_shapes(len(FACEKIT.anchor_table()), len(KEYPOINT_NAMES))
    assert shapes == {name: list(output.shape) for name, output in zip(OUTPUT_NAMES, outputs)}


def test_swift_reuse_config_reads_every_reference_setting():
    swift = coding_keys(CORE_SOURCES / "Reuse" / "ReuseConfig.swift")
    assert swift == {f.name for f in dataclasses.fields(ReuseConfig)}


def test_swift_second_look_reads_every_reference_setting_with_its_default():
    path = CORE_SOURCES / "SecondLook.swift"
    reference = {f.name: f.default for f in dataclasses.fields(SecondLook)}
    assert coding_keys(path) == set(reference)
    keys = enum_cases(declarations(path, "enum")["CodingKeys"])
    swift = init_defaults(declarations(path, "struct")["SecondLook"])
    assert {keys[name]: value for name, value in swift.items()} == reference


def test_every_reuse_traces_key_the_swift_code_reads_exists(tmp_path):
    from exporter.export.reuse_golden import FILE, write_traces

    write_traces(tmp_path)
    data = json.loads((tmp_path / FILE).read_text())
    present = json_keys(data)
    sources = [CORE_SOURCES / "Reuse" / name for name in ("ReuseTracesFile.swift", "Thumbnail.swift", "ReuseConfig.swift")]
    sources.append(CORE_SOURCES / "SecondLook.swift")
    for path in sources:
        missing = coding_keys(path) - present
        assert not missing, f"{path.name} reads {sorted(missing)}, which reuse_traces.json does not have"
    # the second look's entry is read whole: its settings, its look answers and the looked ids of its trace
    looking = [p for p in data["policies"] if "second_look" in p]
    unread = json_keys(looking) - set().union(*map(coding_keys, sources))
    assert looking and {"look_answers", "looked"} <= json_keys(looking) and not unread, f"the Swift code skips {sorted(unread)}"


def test_every_contract_key_the_swift_tests_read_exists():
    contract = REPO / "tests" / "golden" / "contract.json"
    assert contract.is_file(), "tests/golden/contract.json (the frozen goldens the Swift tests read) is missing"
    data = json.loads(contract.read_text())
    read = coding_keys(CORE / "Tests" / "FaceKitCoreTests" / "GoldenFiles.swift") | coding_keys(CORE_SOURCES / "SecondLook.swift")
    missing = read - json_keys(data)
    assert not missing, f"GoldenFiles.swift and SecondLook.swift read {sorted(missing)}, which contract.json does not have"
    # the second look is read whole: the settings, each case's looks (their faces as StoredFace) and the faces after
    looks = [entry for case in data["cases"] for entry in case["second_look"]]
    faces = encoded_keys(declarations(CORE_SOURCES / "Reuse" / "ReuseTracesFile.swift", "struct")["StoredFace"])
    written = {"second_look", "faces_after_second_look"} | set(data["second_look"]) | json_keys(looks)
    unread = written - read - set(faces)
    assert looks and not unread, f"the Swift tests do not read {sorted(unread)} of the second look in contract.json"


def test_every_contract_key_the_app_reads_exists():
    structs = declarations(DEMO / "Sources" / "Benchmark.swift", "struct")
    read = set(encoded_keys(structs["ContractIndex"])) | set(encoded_keys(structs["Case"]))
    missing = read - json_keys(json.loads((REPO / "tests" / "golden" / "contract.json").read_text()))
    assert "second_look" in read and not missing, f"Benchmark.swift reads {sorted(missing)}, which contract.json does not have"


def test_swift_policies_and_reasons_are_the_references():
    from exporter.reuse import POLICIES, REASONS

    enums = declarations(CORE_SOURCES / "Reuse" / "ReuseConfig.swift", "enum")
    assert enum_values(enums["ReusePolicy"]) == list(POLICIES)
    assert enum_values(enums["ReuseReason"]) == list(REASONS)


def test_no_manifest_constant_is_repeated_in_swift():
    """Thresholds, the input size, the anchor count and the normalisation come from the manifest, never from literals.

    The age scale (100) is not looked for: 100 is also the logit clip of the sigmoid, a constant of the decoding.
    """
    from exporter.postprocess import DecodeConfig
    from exporter.spec import FACEKIT

    constants = {FACEKIT.input.size, len(FACEKIT.anchor_table()), DecodeConfig().score_threshold,
                 DecodeConfig().iou_threshold, FACEKIT.input.mean, FACEKIT.input.std}
    for path in (p for p in SWIFT_FILES if "Tests" not in p.parts):
        literals = {float(n.text.decode().replace("_", "")) for n in walk(parse(path.read_bytes()).root_node)
                    if n.type in {"integer_literal", "real_literal"}}
        assert not literals & constants, f"{path.relative_to(REPO)} repeats {sorted(literals & constants)}"


# --- the benchmark report against exporter/schemas/phone_bench.schema.json -----------------------------------------

def encoded_keys(struct) -> list[str]:
    """JSON keys a Swift Encodable struct writes: its CodingKeys, else its stored instance properties."""
    body = struct.child_by_field_name("body")
    for child in body.children:
        if child.type == "class_declaration" and child.child_by_field_name("name").text.decode() == "CodingKeys":
            return enum_values(child)
    keys = []
    for prop in (c for c in body.children if c.type == "property_declaration"):
        static = any(m.text.decode() == "static" for c in prop.children if c.type == "modifiers" for m in walk(c))
        if not static and not any(c.type == "computed_property" for c in prop.children):
            keys.append(prop.child_by_field_name("name").text.decode())
    return keys


@pytest.fixture(scope="module")
def report_structs() -> dict[str, list[str]]:
    """Keys written by PhoneBenchReport and its nested structs in Benchmark.swift, by struct name."""
    structs = declarations(DEMO / "Sources" / "Benchmark.swift", "struct")
    return {name: encoded_keys(node) for name, node in structs.items()}


PHONE_SCHEMA = json.loads((REPO / "exporter" / "schemas" / "phone_bench.schema.json").read_text())


@pytest.mark.parametrize("struct, schema_part", [
    ("PhoneBenchReport", PHONE_SCHEMA), ("Device", PHONE_SCHEMA["properties"]["device"]),
    ("App", PHONE_SCHEMA["properties"]["app"]), ("LatencyRow", PHONE_SCHEMA["$defs"]["latency_row"]),
    ("Timing", PHONE_SCHEMA["$defs"]["timing"]), ("ReuseRow", PHONE_SCHEMA["$defs"]["reuse_row"])])
def test_benchmark_report_writes_the_schemas_fields(report_structs, struct, schema_part):
    keys = set(report_structs[struct])
    assert set(schema_part["required"]) <= keys <= set(schema_part["properties"]), struct


def test_benchmark_delegates_and_platform_are_the_schemas():
    delegates = PHONE_SCHEMA["$defs"]["latency_row"]["properties"]["delegate"]["enum"]
    source = (DEMO / "Sources" / "ComputeChoice.swift").read_bytes()
    function = next(n for n in walk(parse(source).root_node)
                    if n.type == "property_declaration" and n.child_by_field_name("name").text.decode() == "delegate")
    written = {n.child_by_field_name("text").text.decode() for n in walk(function) if n.type == "line_string_literal"}
    assert written and written <= set(delegates)
    benchmark = (DEMO / "Sources" / "Benchmark.swift").read_text()
    assert 'platform: "ios"' in benchmark and f'let schema = "{PHONE_SCHEMA["properties"]["schema"]["const"]}"' in benchmark


# --- the saved Core ML spec (from one `export all` of the shipped checkpoint) ---------------------------------------

# Importing coremltools pulls TensorFlow (~40 s); its protos alone, loaded as a package of their own, take a second.
SPEC_READER = r"""
import importlib.util, json, sys
from pathlib import Path
proto_dir = Path(importlib.util.find_spec("coremltools").submodule_search_locations[0]) / "proto"
spec = importlib.util.spec_from_file_location("coreml_proto", proto_dir / "__init__.py",
                                              submodule_search_locations=[str(proto_dir)])
package = importlib.util.module_from_spec(spec)
sys.modules["coreml_proto"] = package
spec.loader.exec_module(package)
mlpackage = Path(sys.argv[1])
info = json.loads((mlpackage / "Manifest.json").read_text())
root = info["itemInfoEntries"][info["rootModelIdentifier"]]["path"]
model = package.Model_pb2.Model()
model.ParseFromString((mlpackage / "Data" / root).read_bytes())
inputs = [{"name": i.name, "type": i.type.WhichOneof("Type"), "width": i.type.imageType.width,
           "height": i.type.imageType.height} for i in model.description.input]
outputs = [{"name": o.name, "shape": list(o.type.multiArrayType.shape)} for o in model.description.output]
print(json.dumps({"inputs": inputs, "outputs": outputs}))
"""


def saved_spec_io(mlpackage: Path) -> dict:
    """Input and output names and shapes from a saved .mlpackage's spec (Core ML's protos, no coremltools import)."""
    result = subprocess.run([sys.executable, "-c", SPEC_READER, str(mlpackage)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def installed(exported) -> tuple[dict, dict]:
    """(manifest, spec io) of what `export` installed into the app folder."""
    models = exported[2] / COREML.app_folder
    manifest = json.loads((models / "manifest.json").read_text())
    return manifest, saved_spec_io(models / COREML.artifact_name("fp16"))


def test_coreml_input_is_the_image_the_swift_code_feeds(installed):
    manifest, spec = installed
    coreml = next(m for m in manifest["models"] if m["format"] == "coreml")
    size = manifest["input"]["size"]
    # Swift: BundleManifest.Model.inputNames (the keys of io.inputs) -> one image of input.size squared
    assert [(i["name"], i["type"], i["width"], i["height"]) for i in spec["inputs"]] == [
        (name, "imageType", size, size) for name in sorted(coreml["io"]["inputs"])]


def test_coreml_outputs_are_the_swift_roles_with_the_swift_shapes(installed):
    manifest, spec = installed
    shapes = expected_shapes(manifest["anchors"]["count"], len(manifest["keypoints"]))
    assert [o["name"] for o in spec["outputs"]] == [o["name"] for o in manifest["outputs"]] == output_roles()
    assert {o["name"]: o["shape"] for o in spec["outputs"]} == shapes


def test_every_manifest_key_the_swift_code_reads_exists(installed):
    manifest, _ = installed
    present = json_keys(manifest)
    for name in ("Manifest.swift", "Anchors.swift", "Decoding.swift"):
        missing = coding_keys(CORE_SOURCES / name) - present
        assert not missing, f"{name} reads {sorted(missing)}, which the manifest does not have"
