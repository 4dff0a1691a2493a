import FaceKitCore
import Foundation
import XCTest

extension ReuseTracesFile {
    /// tests/golden/reuse_traces.json, named by the contract.
    static func golden() throws -> ReuseTracesFile {
        let contract = try GoldenFiles.contract()
        return try ReuseTracesFile.load(from: GoldenFiles.url(contract.reuseTraces))
    }

    /// The clip, inflated by the tests' own decoder (Linux's Foundation cannot; Apple's is checked against it).
    func goldenClip() throws -> [RGBImage] {
        try clip(inflate: Inflate.raw)
    }
}

final class ReuseGoldenTests: XCTestCase {
    func testTheClipInflates() throws {
        let traces = try ReuseTracesFile.golden()
        let clip = try traces.goldenClip()
        XCTAssertEqual(clip.count, traces.frames.count)
        XCTAssertEqual(clip.first?.width, traces.frames.width)
        XCTAssertEqual(clip.first?.height, traces.frames.height)
        #if canImport(Darwin)
        XCTAssertEqual(try traces.clip(), clip, "Foundation's raw DEFLATE and the tests' inflate disagree")
        #endif
    }

    func testThumbnailsAreBitForBit() throws {
        let traces = try ReuseTracesFile.golden()
        let clip = try traces.goldenClip()
        XCTAssertFalse(traces.thumbnails.isEmpty)
        for (index, stored) in traces.thumbnails.enumerated() {
            let thumb = Thumbnail(frame: clip[index], size: traces.thumbnailSize, sampling: traces.sampling)
            XCTAssertEqual(thumb.cells.map(\.bitPattern), stored.flatMap { $0 }.map(\.bitPattern), "thumbnail of frame \(index)")
        }
    }

    func testEveryPolicyReproducesItsTrace() throws {
        let traces = try ReuseTracesFile.golden()
        let clip = try traces.goldenClip()
        XCTAssertFalse(traces.policies.isEmpty)
        for policy in traces.policies {
            var current = 0
            let scheduler = try FrameReuseScheduler(config: policy.config, sampling: traces.sampling) { _ in
                traces.detections[current].map(\.face)
            }
            XCTAssertEqual(policy.trace.count, clip.count)
            for (index, want) in policy.trace.enumerated() {
                current = index
                let got = try scheduler.step(clip[index])
                let label = "\(policy.config.policy.rawValue) frame \(index)"
                XCTAssertEqual(got.index, want.index, label)
                XCTAssertEqual(got.ranModel, want.ranModel, label)
                XCTAssertEqual(got.reason.rawValue, want.reason, label)
                XCTAssertEqual([got.motion.dx, got.motion.dy], want.motion, label)
                XCTAssertEqual(got.trackIDs, want.trackIDs, label)
                XCTAssertEqual(got.change, want.change, accuracy: 1e-5, label)
                XCTAssertEqual(got.faces.count, want.faces.count, label)
                for (face, wanted) in zip(got.faces, want.faces) {
                    let numbers = face.box + face.keypoints.flatMap { [$0.x, $0.y] } + [face.score, face.female ?? .nan]
                    let expected = wanted.box + wanted.keypoints.flatMap { $0 } + [wanted.score, wanted.female ?? .nan]
                    XCTAssertEqual(numbers.count, expected.count, label)
                    for (a, b) in zip(numbers, expected) {
                        XCTAssertEqual(a, b, accuracy: 1e-5, label)
                    }
                    XCTAssertEqual(face.age ?? .nan, wanted.age ?? .nan, accuracy: 1e-3, label)
                }
            }
        }
    }

    func testTheConfidenceIsReadAsTheReferenceReadsTheScore() {
        XCTAssertEqual(Track.confidence(of: 0.52), 520)
        XCTAssertEqual(Track.confidence(of: 0.9), 900)
        XCTAssertEqual(Track.confidence(of: 0.5199), 519)
    }

    func testSettingsOutOfRangeAreRefused() throws {
        let traces = try ReuseTracesFile.golden()
        guard var config = traces.policies.first?.config else { return XCTFail("no policy") }
        config.thumb = config.blocks * ReuseConfig.edgeSegment + 1
        XCTAssertThrowsError(try config.validated())
    }
}
