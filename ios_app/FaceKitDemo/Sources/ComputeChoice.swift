import CoreML
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
