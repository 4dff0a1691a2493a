import CoreML
import FaceKitCore
import Foundation

/// Which Core ML compute units run the model, with the names the phone benchmark report uses.
enum ComputeChoice: String, CaseIterable, Identifiable {
    case all
    case cpuAndNeuralEngine
    case cpuAndGPU
    case cpuOnly

    var id: String { rawValue }

    var units: MLComputeUnits {
        switch self {
        case .all: return .all
        case .cpuAndNeuralEngine: return .cpuAndNeuralEngine
        case .cpuAndGPU: return .cpuAndGPU
        case .cpuOnly: return .cpuOnly
        }
    }

    var title: String {
        switch self {
        case .all: return "All (Core ML chooses)"
        case .cpuAndNeuralEngine: return "CPU + Neural Engine"
        case .cpuAndGPU: return "CPU + GPU"
        case .cpuOnly: return "CPU only"
        }
    }

    /// The report's delegate (exporter/schemas/phone_bench.schema.json has no "all": Core ML prefers the
    /// Neural Engine there, and the backend name keeps the two rows apart).
    var delegate: String {
        switch self {
        case .all, .cpuAndNeuralEngine: return "coreml-ane"
        case .cpuAndGPU: return "coreml-gpu"
        case .cpuOnly: return "coreml-cpu"
        }
    }

    /// The report's backend: the format and precision from the manifest, "-all" for Core ML's own choice.
    func backend(precision: String) -> String {
        self == .all ? "coreml-\(precision)-all" : "coreml-\(precision)"
    }
}

/// The exported Core ML model with the compute units chosen, checked against the manifest when it loads.
final class FaceModel {
    let choice: ComputeChoice
    private let model: MLModel
    private let inputName: String
    private let outputs: [(role: OutputRole, name: String)]

    init(resources: DemoResources, choice: ComputeChoice) throws {
        let manifest = resources.manifest
        let configuration = MLModelConfiguration()
        configuration.computeUnits = choice.units
        model = try MLModel(contentsOf: resources.compiledModelURL, configuration: configuration)
        self.choice = choice
        guard resources.coreMLModel.inputNames.count == 1, let name = resources.coreMLModel.inputNames.first else {
            throw DemoError.modelMismatch("the manifest lists inputs \(resources.coreMLModel.inputNames), want one image")
        }
        let description = model.modelDescription
        guard let image = description.inputDescriptionsByName[name]?.imageConstraint,
              image.pixelsWide == manifest.input.size, image.pixelsHigh == manifest.input.size else {
            throw DemoError.modelMismatch("input \(name) is not a \(manifest.input.size)x\(manifest.input.size) image")
        }
        inputName = name
        let anchorCount = AnchorTable(spec: manifest.anchors).count
        var roles: [(OutputRole, String)] = []
        for output in manifest.outputs {
            guard let role = OutputRole(rawValue: output.name) else { continue }
            let want = OutputRole.expectedShape(role, anchorCount: anchorCount, keypointCount: manifest.keypoints.count)
            let shape = description.outputDescriptionsByName[output.name]?.multiArrayConstraint?.shape.map(\.intValue)
            guard shape == want else {
                throw DemoError.modelMismatch("output \(output.name) has shape \(shape.map { "\($0)" } ?? "none"), want \(want)")
            }
            roles.append((role, output.name))
        }
        outputs = roles
    }

    /// Runs the model on a letterboxed square and returns each output flattened in row-major order.
    func infer(_ square: RGBImage) throws -> [OutputRole: [Float]] {
        let buffer = try square.makeBGRAPixelBuffer()
        let input = try MLDictionaryFeatureProvider(dictionary: [inputName: MLFeatureValue(pixelBuffer: buffer)])
        let result = try model.prediction(from: input)
        var values: [OutputRole: [Float]] = [:]
        for (role, name) in outputs {
            guard let array = result.featureValue(for: name)?.multiArrayValue else {
                throw DemoError.modelMismatch("the prediction has no \(name) array")
            }
            values[role] = try Self.floats(array)
        }
        return values
    }

    /// The values of a float32 MLMultiArray in row-major order, following its strides.
    static func floats(_ array: MLMultiArray) throws -> [Float] {
        guard array.dataType == .float32 else {
            throw DemoError.modelMismatch("an output is \(array.dataType.rawValue), not float32")
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
