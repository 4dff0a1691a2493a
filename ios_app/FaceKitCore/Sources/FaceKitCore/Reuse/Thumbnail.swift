import Foundation

/// The integer luma of a frame sampled on an n x n grid, n = cells * samples (exporter/reuse.py `luma_samples`):
/// sample i at row floor((2i + 1) * H / (2n)), columns alike, luma 299 R + 587 G + 114 B.
public struct LumaSamples: Sendable, Equatable {
    /// Samples per side.
    public let side: Int
    /// Row-major integer luma.
    public let values: [Int]

    public subscript(row: Int, column: Int) -> Int { values[row * side + column] }

    public init(frame: RGBImage, cells: Int, sampling: Thumbnail.Sampling) {
        let n = cells * sampling.samples
        let rows = (0..<n).map { (2 * $0 + 1) * frame.height / (2 * n) }
        let columns = (0..<n).map { (2 * $0 + 1) * frame.width / (2 * n) }
        let (wr, wg, wb) = (sampling.lumaWeights[0], sampling.lumaWeights[1], sampling.lumaWeights[2])
        var values = [Int](repeating: 0, count: n * n)
        frame.pixels.withUnsafeBufferPointer { pixels in
            for (i, y) in rows.enumerated() {
                for (j, x) in columns.enumerated() {
                    let p = (y * frame.width + x) * 3
                    values[i * n + j] = wr * Int(pixels[p]) + wg * Int(pixels[p + 1]) + wb * Int(pixels[p + 2])
                }
            }
        }
        side = n
        self.values = values
    }

    /// Sums of each column and of each row (exporter/reuse.py `profiles`): the camera's motion is read from them.
    public var profiles: (columns: [Int], rows: [Int]) {
        var columns = [Int](repeating: 0, count: side)
        var rows = [Int](repeating: 0, count: side)
        for y in 0..<side {
            for x in 0..<side {
                columns[x] += self[y, x]
                rows[y] += self[y, x]
            }
        }
        return (columns, rows)
    }

    /// Integer sums of samples x samples blocks (exporter/reuse.py `cell_sums`): a thumbnail before division.
    public func cellSums(samples: Int) -> CellGrid {
        let size = side / samples
        var cells = CellGrid(size: size)
        for y in 0..<side {
            for x in 0..<side {
                cells[y / samples, x / samples] += self[y, x]
            }
        }
        return cells
    }
}

/// A square grid of integer cell values, row-major: cell sums, their differences, or counts.
public struct CellGrid: Sendable, Equatable {
    public let size: Int
    public var values: [Int]

    public init(size: Int, values: [Int]? = nil) {
        self.size = size
        self.values = values ?? [Int](repeating: 0, count: size * size)
    }

    public subscript(row: Int, column: Int) -> Int {
        get { values[row * size + column] }
        set { values[row * size + column] = newValue }
    }

    /// |self - other| cell by cell.
    public func absoluteDifference(_ other: CellGrid) -> CellGrid {
        CellGrid(size: size, values: zip(values, other.values).map { abs($0 - $1) })
    }

    /// The sum of every cell.
    public var total: Int { values.reduce(0, +) }
}

/// The grey thumbnail of a frame (exporter/reuse.py `thumbnail`), bit for bit: for display and the stored goldens.
public struct Thumbnail: Sendable, Equatable {
    /// Samples per cell side, weights of the integer luma and its scale (exporter/reuse.py SAMPLES, LUMA_WEIGHTS,
    /// LUMA_SCALE): a cell sum divided by `divisor` is its mean luma in [0, 1].
    public struct Sampling: Codable, Sendable, Equatable {
        public let samples: Int
        public let lumaWeights: [Int]
        public let divisor: Int

        enum CodingKeys: String, CodingKey {
            case samples
            case lumaWeights = "luma_weights"
            case divisor
        }

        public init(samples: Int, lumaWeights: [Int], divisor: Int) {
            self.samples = samples
            self.lumaWeights = lumaWeights
            self.divisor = divisor
        }
    }

    public let size: Int
    public let cells: [Float]

    public subscript(row: Int, column: Int) -> Float { cells[row * size + column] }

    /// Sample the frame, sum each cell's integer luma, divide in float32.
    public init(frame: RGBImage, size: Int, sampling: Sampling) {
        self.init(cellSums: LumaSamples(frame: frame, cells: size, sampling: sampling).cellSums(samples: sampling.samples),
                  divisor: sampling.divisor)
    }

    /// Cell sums divided, in float32, by the sampling's divisor.
    public init(cellSums: CellGrid, divisor: Int) {
        let scale = Float(divisor)
        size = cellSums.size
        cells = cellSums.values.map { Float($0) / scale }
    }

    public init(size: Int, cells: [Float]) {
        self.size = size
        self.cells = cells
    }
}

/// Thumbnail cells (x0, y0, x1, y1), end exclusive.
public struct CellRegion: Sendable, Equatable {
    public let x0: Int
    public let y0: Int
    public let x1: Int
    public let y1: Int

    /// The cells an image-pixel box covers: floor of left/top, ceil of right/bottom edge times size / image side in
    /// double precision, at least one cell, inside the grid (exporter/reuse.py `_region`).
    public init(box: [Float], imageWidth: Int, imageHeight: Int, size: Int) {
        func scaled(_ value: Float, _ extent: Int) -> Double { Double(value) * Double(size) / Double(extent) }
        x0 = min(max(Int(scaled(box[0], imageWidth).rounded(.down)), 0), size - 1)
        y0 = min(max(Int(scaled(box[1], imageHeight).rounded(.down)), 0), size - 1)
        x1 = min(max(Int(scaled(box[2], imageWidth).rounded(.up)), x0 + 1), size)
        y1 = min(max(Int(scaled(box[3], imageHeight).rounded(.up)), y0 + 1), size)
    }

    /// Cells covered.
    public var area: Int { (x1 - x0) * (y1 - y0) }
}
