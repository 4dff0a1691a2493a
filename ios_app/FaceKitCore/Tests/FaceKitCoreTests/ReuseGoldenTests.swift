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

    /// Each entry: a detector returning the stored detections of the current frame and, for the entry with a second
    /// look, a look returning its answer for the k-th call on that frame (a face with that age and P(female), or nil).
    func testEveryPolicyReproducesItsTrace() throws {
        let traces = try ReuseTracesFile.golden()
        let clip = try traces.goldenClip()
        XCTAssertFalse(traces.policies.isEmpty)
        XCTAssertTrue(traces.policies.contains { $0.secondLook != nil }, "no entry of the traces has a second look")
        for policy in traces.policies {
            var current = 0
            var calls = 0
            let answers = policy.lookAnswers ?? []
            func look(_ frame: RGBImage, _ face: Face) throws -> Face? {
                let answer = try XCTUnwrap(answers[current].dropFirst(calls).first, "look call \(calls) on frame \(current)")
                calls += 1
                return answer.map { given in
                    var seen = face
                    seen.age = given.age
                    seen.female = given.female
                    return seen
                }
            }
            let scheduler = try FrameReuseScheduler(config: policy.config, sampling: traces.sampling, secondLook: policy.secondLook,
                                                    look: policy.secondLook == nil ? nil : look) { _ in
                traces.detections[current].map(\.face)
            }
            XCTAssertEqual(policy.trace.count, clip.count)
            if policy.secondLook != nil {
                XCTAssertEqual(answers.count, clip.count, "look_answers: one list per frame")
            }
            for (index, want) in policy.trace.enumerated() {
                current = index
                calls = 0
                let got = try scheduler.step(clip[index])
                let label = "\(policy.config.policy.rawValue)\(policy.secondLook == nil ? "" : " with a second look") frame \(index)"
                XCTAssertEqual(got.index, want.index, label)
                XCTAssertEqual(got.ranModel, want.ranModel, label)
                XCTAssertEqual(got.reason.rawValue, want.reason, label)
                XCTAssertEqual([got.motion.dx, got.motion.dy], want.motion, label)
                XCTAssertEqual(got.trackIDs, want.trackIDs, label)
                XCTAssertEqual(got.looked, want.looked, label)
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

    func testASecondLookNeedsALook() throws {
        let traces = try ReuseTracesFile.golden()
        guard let config = traces.policies.first?.config else { return XCTFail("no policy") }
        XCTAssertThrowsError(try FrameReuseScheduler(config: config, sampling: traces.sampling, secondLook: SecondLook()) { _ in [] })
    }

    func testSettingsOutOfRangeAreRefused() throws {
        let traces = try ReuseTracesFile.golden()
        guard var config = traces.policies.first?.config else { return XCTFail("no policy") }
        config.thumb = config.blocks * ReuseConfig.edgeSegment + 1
        XCTAssertThrowsError(try config.validated())
    }
}
