import FaceKitCore
import XCTest

extension ReuseTracesFile {
    /// tests/golden/reuse_traces.json, named by the contract.
    static func golden() throws -> ReuseTracesFile {
        let contract = try GoldenFiles.contract()
        return try ReuseTracesFile.load(from: GoldenFiles.url(contract.reuseTraces))
    }
}

final class ReuseGoldenTests: XCTestCase {
    func testThumbnailsAreBitForBit() throws {
        let traces = try ReuseTracesFile.golden()
        XCTAssertFalse(traces.thumbnails.isEmpty)
        for (index, stored) in traces.thumbnails.enumerated() {
            let thumb = Thumbnail(frame: try traces.frame(index), size: traces.thumbnailSize, sampling: traces.sampling)
            XCTAssertEqual(thumb.cells.map(\.bitPattern), stored.flatMap { $0 }.map(\.bitPattern), "thumbnail of frame \(index)")
        }
    }

    func testEveryPolicyReproducesItsTrace() throws {
        let traces = try ReuseTracesFile.golden()
        XCTAssertFalse(traces.policies.isEmpty)
        for policy in traces.policies {
            var current = 0
            let scheduler = try FrameReuseScheduler(config: policy.config, sampling: traces.sampling) { _ in
                traces.detections[current].map(\.face)
            }
            XCTAssertEqual(policy.trace.count, traces.frames.dataBase64.count)
            for (index, want) in policy.trace.enumerated() {
                current = index
                let got = try scheduler.step(try traces.frame(index))
                let label = "\(policy.config.policy.rawValue) frame \(index)"
                XCTAssertEqual(got.index, want.index, label)
                XCTAssertEqual(got.ranModel, want.ranModel, label)
                XCTAssertEqual(got.reason.rawValue, want.reason, label)
                XCTAssertEqual(got.trackIDs, want.trackIDs, label)
                XCTAssertEqual(got.change, want.change, accuracy: 1e-5, label)
                XCTAssertEqual(got.faces.count, want.faces.count, label)
                for (face, wanted) in zip(got.faces, want.faces) {
                    let numbers = face.box + face.keypoints.flatMap { [$0.x, $0.y] } + [face.score, face.female ?? .nan]
                    let expected = wanted.box + wanted.keypoints.flatMap { $0 } + [wanted.score, wanted.female ?? .nan]
                    for (a, b) in zip(numbers, expected) {
                        XCTAssertEqual(a, b, accuracy: 1e-5, label)
                    }
                    XCTAssertEqual(face.age ?? .nan, wanted.age ?? .nan, accuracy: 1e-3, label)
                }
            }
        }
    }
}
