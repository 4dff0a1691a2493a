import Foundation

/// A shift in samples (the camera's) or in cells (a face's).
public struct GridShift: Sendable, Equatable {
    public var dx: Int
    public var dy: Int

    public init(dx: Int, dy: Int) {
        self.dx = dx
        self.dy = dy
    }

    public static let zero = GridShift(dx: 0, dy: 0)

    /// A shift in samples as whole cells, halves away from zero (exporter/reuse.py `_round_cells`).
    public func inCells(samples: Int) -> GridShift {
        func rounded(_ value: Int) -> Int {
            let cells = (abs(value) + samples / 2) / samples
            return value < 0 ? -cells : cells
        }
        return GridShift(dx: rounded(dx), dy: rounded(dy))
    }
}

/// floor(a / b) for b > 0, as Python's `//`.
func floorDivide(_ a: Int, _ b: Int) -> Int {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}

/// The shift s in samples, |s| <= search, that best maps a reference profile onto the current one, profile[i] ~
/// reference[i - s] (exporter/reuse.py `global_shift`): shifts tried in the order 0, -1, +1, -2, +2, ..., the cost of
/// s the exact sum |difference| over the overlap divided, in double, by its length; the first lowest cost wins.
public func globalShift(profile: [Int], reference: [Int], search: Int) -> Int {
    let n = profile.count
    let search = min(search, n - 1)
    var best = 0
    var bestCost = Double.infinity
    for step in 0..<(2 * search + 1) {
        let s = step % 2 == 1 ? -(step + 1) / 2 : step / 2
        var sum = 0
        for i in max(s, 0)..<min(n, n + s) {
            sum += abs(profile[i] - reference[i - s])
        }
        let cost = Double(sum) / Double(n - abs(s))
        if cost < bestCost {
            best = s
            bestCost = cost
        }
    }
    return best
}

/// Summed-area table of the luma samples, (n + 1) x (n + 1) with a zero first row and column (exporter/reuse.py
/// `integral`): the cell sums of the samples moved by any shift, exactly.
public struct SummedAreaTable: Sendable, Equatable {
    /// Samples per side.
    public let side: Int
    private let table: [Int]

    public init(_ samples: LumaSamples) {
        let stride = samples.side + 1
        var table = [Int](repeating: 0, count: stride * stride)
        for y in 0..<samples.side {
            var row = 0
            for x in 0..<samples.side {
                row += samples[y, x]
                table[(y + 1) * stride + x + 1] = table[y * stride + x + 1] + row
            }
        }
        side = samples.side
        self.table = table
    }

    private subscript(row: Int, column: Int) -> Int { table[row * (side + 1) + column] }

    /// Cells [first, last) whose samples moved by `shift` come wholly from inside the picture (exporter/reuse.py `_inside`).
    private func inside(_ shift: Int, samples: Int) -> Range<Int> {
        let cells = side / samples
        let first = min(max(-floorDivide(-shift, samples), 0), cells)
        let last = max(min(floorDivide(side + shift, samples), cells), 0)
        return first..<max(last, first)
    }

    /// Cell sums of the samples moved by `shift`, and which cells lie wholly inside the moved picture (the others
    /// hold 0) (exporter/reuse.py `shifted_cells`).
    public func shiftedCells(by shift: GridShift, samples: Int) -> (cells: CellGrid, compared: [Bool]) {
        let size = side / samples
        var cells = CellGrid(size: size)
        var compared = [Bool](repeating: false, count: size * size)
        for r in inside(shift.dy, samples: samples) {
            let (top, bottom) = (samples * r - shift.dy, samples * (r + 1) - shift.dy)
            for c in inside(shift.dx, samples: samples) {
                let (left, right) = (samples * c - shift.dx, samples * (c + 1) - shift.dx)
                cells[r, c] = self[bottom, right] - self[top, right] - self[bottom, left] + self[top, left]
                compared[r * size + c] = true
            }
        }
        return (cells, compared)
    }
}
