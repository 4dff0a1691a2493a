import FaceKitCore
import Foundation
import XCTest

/// tests/golden/contract.json: the frozen goldens every app port is checked against (written by the Python reference).
struct Contract: Decodable {
    /// The contract's tolerances that are numbers (the others say "exact").
    struct Tolerances: Decodable {
        let decode: Float
        let ageYears: Float

        enum CodingKeys: String, CodingKey {
            case decode
            case ageYears = "age_years"
        }
    }

    struct OutputShape: Decodable {
        let name: String
        let shape: [Int]
    }

    struct Geometry: Decodable {
        let padX: Float
        let padY: Float
        let side: Float

        enum CodingKeys: String, CodingKey {
            case padX = "pad_x"
            case padY = "pad_y"
            case side
        }
    }

    /// A second look of a case: the face, the square cut around it (image pixels), its letterboxed pixels (PNG) and
    /// raw outputs, the faces found in it (crop pixels) and the one chosen.
    struct Look: Decodable {
        let face: Int
        let left: Int
        let top: Int
        let side: Int
        let square: String
        let outputs: String
        let faces: [StoredFace]
        let chosen: Int?
    }

    struct Case: Decodable {
        let name: String
        let source: String
        let width: Int
        let height: Int
        let letterbox: Geometry
        let square: String
        let floatInputSHA256: String
        let outputs: String
        let facesInput: [StoredFace]
        let faces: [StoredFace]
        let secondLook: [Look]
        let facesAfterSecondLook: [StoredFace]

        enum CodingKeys: String, CodingKey {
            case name, source, width, height, letterbox, square, outputs, faces
            case floatInputSHA256 = "float_input_sha256"
            case facesInput = "faces_input"
            case secondLook = "second_look"
            case facesAfterSecondLook = "faces_after_second_look"
        }
    }

    let version: Int
    let input: BundleManifest.Input
    let tolerances: Tolerances
    let anchors: AnchorSpec
    let decode: DecodeConfig
    let secondLook: SecondLook
    let outputs: [OutputShape]
    let keypoints: [String]
    let cases: [Case]
    let reuseTraces: String

    enum CodingKeys: String, CodingKey {
        case version, input, tolerances, anchors, decode, outputs, keypoints, cases
        case secondLook = "second_look"
        case reuseTraces = "reuse_traces"
    }

    /// The decoder the contract describes.
    var decoder: FaceDecoder {
        FaceDecoder(anchors: anchors, keypointCount: keypoints.count, config: decode)
    }
}

/// Where the goldens are: tests/golden of the repository this package sits in.
enum GoldenFiles {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // FaceKitCoreTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // FaceKitCore
        .deletingLastPathComponent()  // ios_app
        .deletingLastPathComponent()  // the repository
        .appendingPathComponent("tests/golden")

    static func url(_ name: String) -> URL { folder.appendingPathComponent(name) }

    static func contract() throws -> Contract {
        let file = url("contract.json")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw XCTSkip("\(file.path) is missing: the goldens are written by the Python reference and committed in tests/golden")
        }
        return try JSONDecoder().decode(Contract.self, from: Data(contentsOf: file))
    }

    /// The float32 little-endian values of a file.
    static func floats(_ name: String) throws -> [Float] {
        let data = try Data(contentsOf: url(name))
        return stride(from: 0, to: data.count, by: 4).map { offset in
            let bits = UInt32(data[offset]) | UInt32(data[offset + 1]) << 8 | UInt32(data[offset + 2]) << 16
                | UInt32(data[offset + 3]) << 24
            return Float(bitPattern: bits)
        }
    }

    /// The raw outputs stored in a file (float32, the contract's outputs one after the other), by role.
    static func outputs(_ name: String, _ contract: Contract) throws -> [OutputRole: [Float]] {
        let raw = try floats(name)
        let total = contract.outputs.reduce(0) { $0 + $1.shape.reduce(1, *) }
        guard raw.count == total else {
            XCTFail("\(name) holds \(raw.count) values, the contract's output shapes \(total)")
            return [:]
        }
        var outputs: [OutputRole: [Float]] = [:]
        var offset = 0
        for output in contract.outputs {
            let count = output.shape.reduce(1, *)
            let role = try XCTUnwrap(OutputRole(rawValue: output.name), "unknown output \(output.name)")
            outputs[role] = Array(raw[offset..<(offset + count)])
            offset += count
        }
        return outputs
    }

    /// An RGB PNG as stored (no colour management), with the tests' own decoder (no ImageIO: Linux runs it too).
    static func png(_ name: String) throws -> RGBImage {
        try PNGDecoder.decode([UInt8](Data(contentsOf: url(name))))
    }
}

/// SHA-256 (FIPS 180-4) of bytes, lower-case hex: portable, so the tests need no CryptoKit.
func sha256Hex(_ message: [UInt8]) -> String {
    let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
    var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    var data = message
    data.append(0x80)
    while data.count % 64 != 56 {
        data.append(0)
    }
    let bits = UInt64(message.count) * 8
    data.append(contentsOf: (0..<8).reversed().map { UInt8(truncatingIfNeeded: bits >> (8 * UInt64($0))) })
    func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
    var w = [UInt32](repeating: 0, count: 64)
    for chunk in stride(from: 0, to: data.count, by: 64) {
        for i in 0..<16 {
            w[i] = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(data[chunk + 4 * i + $1]) }
        }
        for i in 16..<64 {
            let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
        for i in 0..<64 {
            let t1 = hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
            let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
            (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
        }
        for (i, value) in [a, b, c, d, e, f, g, hh].enumerated() {
            h[i] = h[i] &+ value
        }
    }
    return h.map { String(format: "%08x", $0) }.joined()
}
