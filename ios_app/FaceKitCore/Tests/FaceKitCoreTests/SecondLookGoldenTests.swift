import FaceKitCore
import XCTest

/// The second look of exporter/second_look.py, replayed on each case of tests/golden/contract.json with the committed
/// crop outputs standing in for the model (as exporter/export/contract.py `_check_second_looks` does).
final class SecondLookGoldenTests: XCTestCase {
    func testTheContractsSettingsAreTheDefaults() throws {
        let contract = try GoldenFiles.contract()
        XCTAssertEqual(contract.secondLook, SecondLook())
        XCTAssertEqual(try contract.secondLook.validated(), contract.secondLook)
    }

    func testEachCaseReplaysItsSecondLook() throws {
        let contract = try GoldenFiles.contract()
        let decoder = contract.decoder
        let look = try contract.secondLook.validated()
        let tolerance = contract.tolerances.decode
        XCTAssertTrue(contract.cases.contains { !$0.secondLook.isEmpty }, "no case of the contract has a second look")
        for golden in contract.cases {
            let image = try GoldenFiles.png(golden.source)
            let geometry = LetterboxGeometry(width: golden.width, height: golden.height, padX: golden.letterbox.padX,
                                             padY: golden.letterbox.padY, side: golden.letterbox.side)
            let faces = try decoder.decode(GoldenFiles.outputs(golden.outputs, contract)).map { $0.toImage(geometry) }
            let planned = look.plan(faces, imageWidth: image.width, imageHeight: image.height)
                .map { [$0.faceIndex, $0.left, $0.top, $0.side] }
            let stored = golden.secondLook.map { [$0.face, $0.left, $0.top, $0.side] }
            guard planned == stored else {
                XCTFail("\(golden.name): it plans the looks \(planned), the contract has \(stored)")
                continue
            }
            var pending = golden.secondLook.makeIterator()
            let (after, extraRuns) = try look.lookAgain(image, faces: faces) { crop in
                let entry = try XCTUnwrap(pending.next(), "\(golden.name): more looks than the contract has")
                let label = "\(golden.name) face \(entry.face)"
                let (square, box) = Letterbox.apply(crop, size: contract.input.size)
                let expected = try GoldenFiles.png(entry.square)
                XCTAssertEqual([square.width, square.height], [expected.width, expected.height], label)
                let differing = zip(square.pixels, expected.pixels).filter { $0 != $1 }.count
                XCTAssertEqual(differing, 0, "\(label): the cut and letterbox give \(differing) other bytes than \(entry.square)")
                let found = try decoder.decode(GoldenFiles.outputs(entry.outputs, contract)).map { $0.toImage(box) }
                assertSameFaces(found, entry.faces, tolerance: tolerance * box.side, probabilityTolerance: tolerance,
                                ageTolerance: contract.tolerances.ageYears, label + " (crop pixels)")
                XCTAssertEqual(SecondLook.nearestToCentre(found, side: entry.side), entry.chosen, "\(label): the chosen face")
                return found
            }
            XCTAssertEqual(extraRuns, golden.secondLook.count, golden.name)
            assertSameFaces(after, golden.facesAfterSecondLook, tolerance: tolerance * Float(max(image.width, image.height)),
                            probabilityTolerance: tolerance, ageTolerance: contract.tolerances.ageYears,
                            golden.name + " (after the second look)")
        }
    }

    func testTheCutSquareIsBlackOutsideTheImage() {
        let image = RGBImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(image.cutSquare(left: -1, top: 0, side: 2).pixels, [0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(image.cutSquare(left: 5, top: 5, side: 1).pixels, [0, 0, 0])
    }

    func testRoundingIsHalfUpAndTheFirstNearestFaceIsChosen() {
        XCTAssertEqual([2.5, -2.5, 0.49999, -0.5].map(SecondLook.roundHalfUp), [3, -2, 0, 0])
        let face = { (x: Float) in Face(box: [x, 0, x + 2, 2], keypoints: [], score: 1) }
        XCTAssertEqual(SecondLook.nearestToCentre([face(4), face(0)], side: 6), 0)  // equally far from the centre
        XCTAssertEqual(SecondLook.nearestToCentre([face(4), face(0), face(2)], side: 6), 2)
        XCTAssertNil(SecondLook.nearestToCentre([], side: 6))
    }
}
