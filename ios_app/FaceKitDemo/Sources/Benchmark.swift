import FaceKitCore
import Foundation
import ImageIO
import UIKit

/// The benchmark's bundled media: the contract's test photos (tests/golden) and the frame-reuse clip.
enum BenchmarkMedia {
    /// The parts of tests/golden/contract.json the app reads.
    struct ContractIndex: Decodable {
        struct Case: Decodable {
            let name: String
            let source: String
        }

        let cases: [Case]
        let reuseTraces: String
        let secondLook: SecondLook

        enum CodingKeys: String, CodingKey {
            case cases
            case reuseTraces = "reuse_traces"
            case secondLook = "second_look"
        }
    }

    static func index(in folder: URL) throws -> ContractIndex {
        let url = folder.appendingPathComponent("contract.json")
        do {
            return try JSONDecoder().decode(ContractIndex.self, from: Data(contentsOf: url))
        } catch let error as DecodingError {
            throw ManifestError.invalid(url.path, error.fieldDescription)
        }
    }

    /// The contract's source photos, decoded.
    static func images(in folder: URL) throws -> [(name: String, image: RGBImage)] {
        try index(in: folder).cases.map { golden in
            let url = folder.appendingPathComponent(golden.source)
            guard let source = CGImageSourceCreateWithURL(url as CFURL, nil),
                  let image = CGImageSourceCreateImageAtIndex(source, 0, nil) else {
                throw DemoError.unreadableImage(golden.source)
            }
            return (name: golden.name, image: try RGBImage(cgImage: image))
        }
    }
}

/// How many runs the benchmark makes (the warm-up runs are not timed).
struct BenchmarkSettings {
    var warmupRuns = 10
    var timedRunsPerImage = 50
    var clipRepeats = 5
}

/// exporter/schemas/phone_bench.schema.json, written by the app and read by `facekit bench --import`.
struct PhoneBenchReport: Encodable {
    struct Device: Encodable {
        let model: String
        let os: String
        let cores: Int
    }

    struct App: Encodable {
        let platform: String
        let version: String
    }

    struct Timing: Encodable {
        let median: Double
        let p90: Double

        /// Median and 90th percentile (nearest rank) of some times.
        init(_ times: [Double]) {
            let sorted = times.sorted()
            let middle = sorted.count / 2
            median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
            p90 = sorted[max(Int((0.9 * Double(sorted.count)).rounded(.up)) - 1, 0)]
        }
    }

    struct LatencyRow: Encodable {
        let backend: String
        let delegate: String
        let threads: Int
        let runs: Int
        let preMs: Timing
        let inferMs: Timing
        let postMs: Timing

        enum CodingKeys: String, CodingKey {
            case backend, delegate, threads, runs
            case preMs = "pre_ms"
            case inferMs = "infer_ms"
            case postMs = "post_ms"
        }
    }

    struct ReuseRow: Encodable {
        let policy: String
        let frames: Int
        let modelRuns: Int
        let meanMs: Double

        enum CodingKeys: String, CodingKey {
            case policy, frames
            case modelRuns = "model_runs"
            case meanMs = "mean_ms"
        }
    }

    let schema = "facekit-phone-bench/1"
    let created: String
    let device: Device
    let app: App
    let modelSHA256: String?
    let latency: [LatencyRow]
    let reuse: [ReuseRow]

    enum CodingKeys: String, CodingKey {
        case schema, created, device, app, latency, reuse
        case modelSHA256 = "model_sha256"
    }

    /// Pretty JSON, keys sorted.
    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

/// Every compute-unit choice over the bundled photos, then each reuse policy over the bundled clip.
struct BenchmarkRunner {
    let resources: DemoResources
    var settings = BenchmarkSettings()

    func run(progress: (String) -> Void) throws -> PhoneBenchReport {
        let images = try BenchmarkMedia.images(in: resources.contractFolder).map(\.image)
        guard !images.isEmpty else {
            throw DemoError.missingResource("a test photo", "golden/contract.json lists no cases")
        }
        var latency: [PhoneBenchReport.LatencyRow] = []
        for choice in ComputeChoice.allCases {
            progress("Latency: \(choice.title)")
            let model = try CoreMLFaceModel(contentsOf: resources.compiledModelURL, manifest: resources.manifest,
                                              computeUnits: choice.units)
            let pipeline = FacePipeline(manifest: resources.manifest, infer: model.infer)
            for run in 0..<settings.warmupRuns {
                _ = try pipeline.detect(images[run % images.count])
            }
            var times: [StageTimes] = []
            for _ in 0..<settings.timedRunsPerImage {
                for image in images {
                    times.append(try pipeline.detect(image).times)
                }
            }
            latency.append(PhoneBenchReport.LatencyRow(
                backend: choice.backend(precision: resources.coreMLModel.precision), delegate: choice.delegate,
                threads: ProcessInfo.processInfo.activeProcessorCount, runs: times.count,
                preMs: .init(times.map(\.pre)), inferMs: .init(times.map(\.infer)), postMs: .init(times.map(\.post))))
        }
        progress("Frame reuse on the bundled clip")
        let reuse = try reuseRows()
        let formatter = ISO8601DateFormatter()
        let version = Bundle.main.object(forInfoDictionaryKey: "CFBundleShortVersionString") as? String ?? "0"
        return PhoneBenchReport(
            created: formatter.string(from: Date()),
            device: .init(model: Self.machineIdentifier(), os: "iOS \(UIDevice.current.systemVersion)",
                          cores: ProcessInfo.processInfo.activeProcessorCount),
            app: .init(platform: "ios", version: version), modelSHA256: resources.coreMLModel.sha256,
            latency: latency, reuse: reuse)
    }

    /// Each policy of reuse_traces.json, with its settings, over the clip repeated; model on all compute units (the
    /// entry with a second look is a golden of the look, not a policy of its own).
    private func reuseRows() throws -> [PhoneBenchReport.ReuseRow] {
        let model = try CoreMLFaceModel(contentsOf: resources.compiledModelURL, manifest: resources.manifest,
                                          computeUnits: ComputeChoice.all.units)
        let pipeline = FacePipeline(manifest: resources.manifest, infer: model.infer)
        let clip = try resources.reuse.clip()
        guard let first = clip.first else {
            throw DemoError.missingResource("a clip frame", "golden/reuse_traces.json holds no frames")
        }
        _ = try pipeline.detect(first)  // warm-up
        return try resources.reuse.policies.filter { $0.secondLook == nil }.map { policy in
            var runs = 0
            let scheduler = try FrameReuseScheduler(config: policy.config, sampling: resources.reuse.sampling) { frame in
                runs += 1
                return try pipeline.detect(frame).faces
            }
            let start = DispatchTime.now().uptimeNanoseconds
            var frames = 0
            for _ in 0..<settings.clipRepeats {
                for frame in clip {
                    _ = try scheduler.step(frame)
                    frames += 1
                }
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            return .init(policy: policy.config.policy.rawValue, frames: frames, modelRuns: runs, meanMs: elapsed / Double(frames))
        }
    }

    /// "iPhone15,2" style identifier of the device.
    static func machineIdentifier() -> String {
        var info = utsname()
        uname(&info)
        return withUnsafeBytes(of: &info.machine) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Writes the report into Documents (shown in the Files app) and returns its URL.
    static func save(_ report: PhoneBenchReport) throws -> URL {
        let documents = try FileManager.default.url(for: .documentDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
        let stamp = report.created.replacingOccurrences(of: ":", with: "-")
        let url = documents.appendingPathComponent("facekit-phone-bench-\(stamp).json")
        try report.encoded().write(to: url, options: .atomic)
        return url
    }
}
