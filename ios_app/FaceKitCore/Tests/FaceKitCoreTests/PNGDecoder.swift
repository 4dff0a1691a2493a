import FaceKitCore
import Foundation

/// A small PNG reader for the goldens (8-bit RGB or RGBA, not interlaced), so that the golden tests need no
/// ImageIO and also run with a Swift toolchain on Linux. Inflate.swift inflates, the filters follow the PNG spec.
enum PNGDecoder {
    enum Failure: Error, CustomStringConvertible {
        case notPNG
        case unsupported(String)
        case corrupt(String)

        var description: String {
            switch self {
            case .notPNG: return "not a PNG file"
            case let .unsupported(what): return "unsupported PNG: \(what)"
            case let .corrupt(what): return "corrupt PNG: \(what)"
            }
        }
    }

    /// The RGB pixels of a PNG file's bytes (alpha dropped).
    static func decode(_ bytes: [UInt8]) throws -> RGBImage {
        guard bytes.count > 8, Array(bytes[0..<8]) == [137, 80, 78, 71, 13, 10, 26, 10] else {
            throw Failure.notPNG
        }
        var offset = 8
        var width = 0, height = 0, channels = 0
        var compressed: [UInt8] = []
        func uint32(_ at: Int) -> Int {
            Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
        }
        while offset + 8 <= bytes.count {
            let length = uint32(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let start = offset + 8
            guard start + length + 4 <= bytes.count else { throw Failure.corrupt("chunk \(type) runs past the end") }
            if type == "IHDR" {
                width = uint32(start)
                height = uint32(start + 4)
                let (depth, colour, interlace) = (bytes[start + 8], bytes[start + 9], bytes[start + 12])
                guard depth == 8, colour == 2 || colour == 6, interlace == 0 else {
                    throw Failure.unsupported("bit depth \(depth), colour type \(colour), interlace \(interlace)")
                }
                channels = colour == 2 ? 3 : 4
            } else if type == "IDAT" {
                compressed.append(contentsOf: bytes[start..<(start + length)])
            } else if type == "IEND" {
                break
            }
            offset = start + length + 4
        }
        guard width > 0, height > 0, compressed.count > 2 else { throw Failure.corrupt("no IHDR or IDAT") }
        let raw = try Inflate.raw(Array(compressed[2...]))  // after the 2-byte zlib header
        let stride = width * channels
        guard raw.count >= height * (stride + 1) else { throw Failure.corrupt("\(raw.count) bytes of scanlines") }
        var pixels = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            let line = y * (stride + 1) + 1
            for x in 0..<stride {
                let a = x >= channels ? Int(pixels[y * stride + x - channels]) : 0
                let b = y > 0 ? Int(pixels[(y - 1) * stride + x]) : 0
                let c = x >= channels && y > 0 ? Int(pixels[(y - 1) * stride + x - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw Failure.corrupt("filter type \(filter)")
                }
                pixels[y * stride + x] = UInt8(truncatingIfNeeded: Int(raw[line + x]) + predictor)
            }
        }
        if channels == 3 {
            return RGBImage(width: width, height: height, pixels: pixels)
        }
        var rgb = [UInt8]()
        rgb.reserveCapacity(width * height * 3)
        for pixel in 0..<(width * height) {
            rgb.append(contentsOf: pixels[(pixel * 4)..<(pixel * 4 + 3)])
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }
}
