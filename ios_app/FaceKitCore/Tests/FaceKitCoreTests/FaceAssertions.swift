import FaceKitCore
import XCTest

/// Comparing decoded faces with the goldens' stored ones.
extension XCTestCase {
    /// Same faces in the same order: coordinates within `tolerance`, score and P(female) within `probabilityTolerance`.
    func assertSameFaces(_ faces: [Face], _ expected: [StoredFace], tolerance: Float, probabilityTolerance: Float,
                         ageTolerance: Float, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
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
