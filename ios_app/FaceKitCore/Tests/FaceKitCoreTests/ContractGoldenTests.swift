import FaceKitCore
import XCTest

/// The letterbox, normalisation and decoding of the Python reference, checked on tests/golden/contract.json.
final class ContractGoldenTests: XCTestCase {
    func testAnchorCountMatchesTheContract() throws {
        let contract = try GoldenFiles.contract()
        XCTAssertEqual(AnchorTable(spec: contract.anchors).count, contract.anchors.count)
        let regressors = try XCTUnwrap(contract.outputs.first { $0.name == OutputRole.regressors.rawValue })
        XCTAssertEqual(regressors.shape, OutputRole.expectedShape(.regressors, anchorCount: contract.anchors.count ?? -1,
                                                                  keypointCount: contract.keypoints.count))
    }

    func testLetterboxIsBitForBitTheSquarePNG() throws {
        let contract = try GoldenFiles.contract()
        XCTAssertFalse(contract.cases.isEmpty)
        for golden in contract.cases {
            let source = try GoldenFiles.png(golden.source)
            XCTAssertEqual([source.width, source.height], [golden.width, golden.height], golden.name)
            let (square, geometry) = Letterbox.apply(source, size: contract.input.size)
            let expected = try GoldenFiles.png(golden.square)
            XCTAssertEqual([square.width, square.height], [expected.width, expected.height], golden.name)
            let differing = zip(square.pixels, expected.pixels).filter { $0 != $1 }.count
            XCTAssertEqual(differing, 0, "\(golden.name): \(differing) bytes differ from \(golden.square)")
            XCTAssertEqual([geometry.padX, geometry.padY, geometry.side],
                           [golden.letterbox.padX, golden.letterbox.padY, golden.letterbox.side], golden.name)
        }
    }

    func testNormalisedInputHasTheGoldenSHA256() throws {
        let contract = try GoldenFiles.contract()
        let normalisation = contract.input.normalisation
        for golden in contract.cases {
            let square = try GoldenFiles.png(golden.square)
            let bytes = normalisation.apply(square).flatMap { value -> [UInt8] in
                let bits = value.bitPattern
                return [UInt8(bits & 0xff), UInt8(bits >> 8 & 0xff), UInt8(bits >> 16 & 0xff), UInt8(bits >> 24)]
            }
            XCTAssertEqual(sha256Hex(bytes), golden.floatInputSHA256, golden.name)
        }
    }

    func testDecodingTheCommittedOutputsGivesTheStoredFaces() throws {
        let contract = try GoldenFiles.contract()
        let decoder = FaceDecoder(anchors: contract.anchors, keypointCount: contract.keypoints.count, config: contract.decode)
        for golden in contract.cases {
            let raw = try GoldenFiles.floats(golden.outputs)
            var outputs: [OutputRole: [Float]] = [:]
            var offset = 0
            for output in contract.outputs {
                let count = output.shape.reduce(1, *)
                let role = try XCTUnwrap(OutputRole(rawValue: output.name), "unknown output \(output.name)")
                outputs[role] = Array(raw[offset..<(offset + count)])
                offset += count
            }
            XCTAssertEqual(offset, raw.count, "\(golden.outputs) holds more values than the contract's output shapes")
            let faces = try decoder.decode(outputs)
            let tolerance = contract.tolerances.decode
            assertSameFaces(faces, golden.facesInput, tolerance: tolerance, probabilityTolerance: tolerance,
                            ageTolerance: contract.tolerances.ageYears, golden.name + " (input)")
            let geometry = LetterboxGeometry(width: golden.width, height: golden.height, padX: golden.letterbox.padX,
                                             padY: golden.letterbox.padY, side: golden.letterbox.side)
            // In image pixels the same normalised tolerance scales with the letterbox side.
            assertSameFaces(faces.map { $0.toImage(geometry) }, golden.faces, tolerance: tolerance * golden.letterbox.side,
                            probabilityTolerance: tolerance, ageTolerance: contract.tolerances.ageYears, golden.name + " (image)")
        }
    }

    /// Same faces in the same order: coordinates within `tolerance`, score and P(female) within `probabilityTolerance`.
    private func assertSameFaces(_ faces: [Face], _ expected: [StoredFace], tolerance: Float, probabilityTolerance: Float,
                                 ageTolerance: Float, _ label: String,
                                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(faces.count, expected.count, "\(label): face count", file: file, line: line)
        for (index, (face, want)) in zip(faces, expected).enumerated() {
            let got = face.box + face.keypoints.flatMap { [$0.x, $0.y] }
            let wanted = want.box + want.keypoints.flatMap { $0 }
            XCTAssertEqual(got.count, wanted.count, "\(label) face \(index): values", file: file, line: line)
            for (a, b) in zip(got, wanted) {
                XCTAssertEqual(a, b, accuracy: tolerance, "\(label) face \(index): box/keypoints", file: file, line: line)
            }
            XCTAssertEqual(face.score, want.score, accuracy: probabilityTolerance, "\(label) face \(index): score", file: file, line: line)
            if let age = want.age {
                XCTAssertEqual(face.age ?? .nan, age, accuracy: ageTolerance, "\(label) face \(index): age", file: file, line: line)
            }
            if let female = want.female {
                XCTAssertEqual(face.female ?? .nan, female, accuracy: probabilityTolerance, "\(label) face \(index): P(female)",
                               file: file, line: line)
            }
        }
    }
}
