#if canImport(CoreML) && canImport(CoreVideo) && canImport(Accelerate)
import CoreML
import Foundation

/// The exported Core ML model on the chosen compute units, checked against its manifest when it loads.
public final class CoreMLFaceModel {
    public let computeUnits: MLComputeUnits
    private let model: MLModel
    private let inputName: String
    private let outputs: [(role: OutputRole, name: String)]

    /// Loads a compiled model (.mlmodelc); its input and output names and shapes must be the manifest's.
    public init(contentsOf compiledModel: URL, manifest: BundleManifest, computeUnits: MLComputeUnits) throws {
        let configuration = MLModelConfiguration()
        configuration.computeUnits = computeUnits
        model = try MLModel(contentsOf: compiledModel, configuration: configuration)
        self.computeUnits = computeUnits
        let entry = try manifest.model(format: "coreml")
        guard entry.inputNames.count == 1, let name = entry.inputNames.first else {
            throw ModelError.mismatch("the manifest lists inputs \(entry.inputNames), want one image")
        }
        let description = model.modelDescription
        let size = manifest.input.size
        guard let image = description.inputDescriptionsByName[name]?.imageConstraint,
              image.pixelsWide == size, image.pixelsHigh == size else {
            throw ModelError.mismatch("input \(name) is not a \(size)x\(size) image")
        }
        inputName = name
        let anchorCount = AnchorTable(spec: manifest.anchors).count
        var roles: [(OutputRole, String)] = []
        for output in manifest.outputs {
            guard let role = OutputRole(rawValue: output.name) else { continue }
            let want = OutputRole.expectedShape(role, anchorCount: anchorCount, keypointCount: manifest.keypoints.count)
            let shape = description.outputDescriptionsByName[output.name]?.multiArrayConstraint?.shape.map(\.intValue)
            guard shape == want else {
                throw ModelError.mismatch("output \(output.name) has shape \(shape.map { "\($0)" } ?? "none"), want \(want)")
            }
            roles.append((role, output.name))
        }
        outputs = roles
    }

    /// Runs the model on a letterboxed square and returns each output flattened in row-major order.
    public func infer(_ square: RGBImage) throws -> [OutputRole: [Float]] {
        let buffer = try square.makeBGRAPixelBuffer()
        let input = try MLDictionaryFeatureProvider(dictionary: [inputName: MLFeatureValue(pixelBuffer: buffer)])
        let result = try model.prediction(from: input)
        var values: [OutputRole: [Float]] = [:]
        for (role, name) in outputs {
            guard let array = result.featureValue(for: name)?.multiArrayValue else {
                throw ModelError.mismatch("the prediction has no \(name) array")
            }
            values[role] = try Self.floats(array)
        }
        return values
    }

    /// The values of a float32 MLMultiArray in row-major order, following its strides.
    static func floats(_ array: MLMultiArray) throws -> [Float] {
        guard array.dataType == .float32 else {
            throw ModelError.mismatch("an output has MLMultiArrayDataType \(array.dataType.rawValue), not float32")
        }
        let shape = array.shape.map(\.intValue)
        let strides = array.strides.map(\.intValue)
        return array.withUnsafeBufferPointer(ofType: Float.self) { storage in
            var values = [Float]()
            values.reserveCapacity(array.count)
            var index = [Int](repeating: 0, count: shape.count)
            for _ in 0..<array.count {
                values.append(storage[zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }])
                var axis = shape.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    if index[axis] < shape[axis] { break }
                    index[axis] = 0
                    axis -= 1
                }
            }
            return values
        }
    }
}

/// A Core ML model that does not fit its manifest.
public enum ModelError: Error, LocalizedError, Equatable {
    case mismatch(String)

    public var errorDescription: String? {
        switch self {
        case let .mismatch(why):
            return "The Core ML model does not match its manifest: \(why). Export both again with `make export TARGET=ios`."
        }
    }
}
#endif
