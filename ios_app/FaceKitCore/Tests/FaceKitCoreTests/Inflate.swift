/// A small raw DEFLATE decoder (RFC 1951) for the goldens: PNG image data, and the frames of reuse_traces.json on
/// Linux, whose Foundation has no NSData.decompressed(using:).
enum Inflate {
    enum Failure: Error, CustomStringConvertible {
        case corrupt(String)

        var description: String {
            switch self {
            case let .corrupt(what): return "corrupt deflate stream: \(what)"
            }
        }
    }

    /// Reads bits least significant first, as deflate stores them.
    struct BitReader {
        let data: [UInt8]
        var position = 0  // in bits

        mutating func bits(_ count: Int) throws -> Int {
            var value = 0
            for i in 0..<count {
                let byte = position >> 3
                guard byte < data.count else { throw Failure.corrupt("deflate stream ends early") }
                value |= Int(data[byte] >> UInt8(position & 7) & 1) << i
                position += 1
            }
            return value
        }

        mutating func alignToByte() {
            position = (position + 7) & ~7
        }
    }

    /// A canonical Huffman code: symbols by code length, decoded one bit at a time.
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) {
            for length in lengths { counts[length] += 1 }
            counts[0] = 0
            var offsets = [Int](repeating: 0, count: 16)
            for length in 1..<16 { offsets[length] = offsets[length - 1] + counts[length - 1] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, length) in lengths.enumerated() where length > 0 {
                symbols[offsets[length]] = symbol
                offsets[length] += 1
            }
        }

        func decode(_ reader: inout BitReader) throws -> Int {
            var code = 0, first = 0, index = 0
            for length in 1..<16 {
                code |= try reader.bits(1)
                let count = counts[length]
                if code - first < count { return symbols[index + code - first] }
                index += count
                first = (first + count) << 1
                code <<= 1
            }
            throw Failure.corrupt("bad Huffman code")
        }
    }

    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
                             131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
                               2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// Raw deflate (RFC 1951): stored, fixed and dynamic Huffman blocks.
    static func raw(_ data: [UInt8]) throws -> [UInt8] {
        var reader = BitReader(data: data)
        var out: [UInt8] = []
        var last = 0
        while last == 0 {
            last = try reader.bits(1)
            let type = try reader.bits(2)
            if type == 0 {
                reader.alignToByte()
                let byte = reader.position >> 3
                guard byte + 4 <= data.count else { throw Failure.corrupt("stored block header") }
                let length = Int(data[byte]) | Int(data[byte + 1]) << 8
                guard byte + 4 + length <= data.count else { throw Failure.corrupt("stored block") }
                out.append(contentsOf: data[(byte + 4)..<(byte + 4 + length)])
                reader.position = (byte + 4 + length) << 3
                continue
            }
            let literals: Huffman
            let distances: Huffman
            if type == 1 {
                literals = Huffman(lengths: [Int](repeating: 8, count: 144) + [Int](repeating: 9, count: 112)
                                   + [Int](repeating: 7, count: 24) + [Int](repeating: 8, count: 8))
                distances = Huffman(lengths: [Int](repeating: 5, count: 30))
            } else if type == 2 {
                let literalCount = try reader.bits(5) + 257
                let distanceCount = try reader.bits(5) + 1
                let codeLengthCount = try reader.bits(4) + 4
                var codeLengths = [Int](repeating: 0, count: 19)
                for i in 0..<codeLengthCount { codeLengths[codeLengthOrder[i]] = try reader.bits(3) }
                let codeLengthCode = Huffman(lengths: codeLengths)
                var lengths: [Int] = []
                while lengths.count < literalCount + distanceCount {
                    let symbol = try codeLengthCode.decode(&reader)
                    switch symbol {
                    case 0..<16: lengths.append(symbol)
                    case 16:
                        guard let previous = lengths.last else { throw Failure.corrupt("repeat with no length") }
                        lengths += [Int](repeating: previous, count: 3 + (try reader.bits(2)))
                    case 17: lengths += [Int](repeating: 0, count: 3 + (try reader.bits(3)))
                    default: lengths += [Int](repeating: 0, count: 11 + (try reader.bits(7)))
                    }
                }
                literals = Huffman(lengths: Array(lengths[0..<literalCount]))
                distances = Huffman(lengths: Array(lengths[literalCount..<(literalCount + distanceCount)]))
            } else {
                throw Failure.corrupt("block type 3")
            }
            while true {
                let symbol = try literals.decode(&reader)
                if symbol < 256 {
                    out.append(UInt8(symbol))
                } else if symbol == 256 {
                    break
                } else {
                    let index = symbol - 257
                    guard index < lengthBase.count else { throw Failure.corrupt("length symbol \(symbol)") }
                    let length = lengthBase[index] + (try reader.bits(lengthExtra[index]))
                    let code = try distances.decode(&reader)
                    guard code < distanceBase.count else { throw Failure.corrupt("distance symbol \(code)") }
                    let distance = distanceBase[code] + (try reader.bits(distanceExtra[code]))
                    guard distance <= out.count else { throw Failure.corrupt("distance \(distance) before the start") }
                    for _ in 0..<length { out.append(out[out.count - distance]) }
                }
            }
        }
        return out
    }
}
