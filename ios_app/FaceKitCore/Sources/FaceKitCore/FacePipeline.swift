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

    /// Faces in image pixels and the time of each stage.
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
}
