import Dispatch
import Foundation

/// Milliseconds spent in each stage of one frame.
public struct StageTimes: Sendable, Equatable {
    public var pre: Double
    public var infer: Double
    public var post: Double

    public init(pre: Double, infer: Double, post: Double) {
        self.pre = pre
        self.infer = infer
        self.post = post
    }

    public var total: Double { pre + infer + post }
}

/// Letterbox -> a model runner -> decode -> image pixels (exporter/detector.py Detector), with stage times.
public final class FacePipeline {
    /// Runs the model on a size x size square and returns each output flattened, by role.
    public typealias Infer = (RGBImage) throws -> [OutputRole: [Float]]

    public let inputSize: Int
    public var decoder: FaceDecoder
    private let infer: Infer

    public init(manifest: BundleManifest, infer: @escaping Infer) {
        inputSize = manifest.input.size
        decoder = FaceDecoder(manifest: manifest)
        self.infer = infer
    }

    /// Faces in image pixels from one run of the model (the first look) and the time of each stage.
    public func detect(_ image: RGBImage) throws -> (faces: [Face], times: StageTimes) {
        let start = DispatchTime.now().uptimeNanoseconds
        let (square, geometry) = Letterbox.apply(image, size: inputSize)
        let prepared = DispatchTime.now().uptimeNanoseconds
        let outputs = try infer(square)
        let inferred = DispatchTime.now().uptimeNanoseconds
        let faces = try decoder.decode(outputs).map { $0.toImage(geometry) }
        let done = DispatchTime.now().uptimeNanoseconds
        func ms(_ from: UInt64, _ to: UInt64) -> Double { Double(to - from) / 1e6 }
        return (faces, StageTimes(pre: ms(start, prepared), infer: ms(prepared, inferred), post: ms(inferred, done)))
    }

    /// Faces of a photo in image pixels, small ones with age and P(female) from a second look, and the number of
    /// extra model runs it took (exporter/detector.py Detector.with_extra_runs).
    public func detect(_ image: RGBImage, secondLook: SecondLook) throws -> (faces: [Face], extraRuns: Int) {
        try secondLook.lookAgain(image, faces: detect(image).faces) { try detect($0).faces }
    }

    /// The face the model finds on the square around `face` of an image (crop pixels; nil: none): the second look
    /// a FrameReuseScheduler takes on video.
    public func look(at face: Face, in image: RGBImage, secondLook: SecondLook) throws -> Face? {
        try secondLook.lookAt(image, face: face) { try detect($0).faces }
    }
}
