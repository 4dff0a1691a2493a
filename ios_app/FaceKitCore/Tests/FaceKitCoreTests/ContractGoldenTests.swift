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
        let decoder = contract.decoder
        for golden in contract.cases {
            let faces = try decoder.decode(GoldenFiles.outputs(golden.outputs, contract))
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
}
