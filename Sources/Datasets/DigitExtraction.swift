/// Turns a picture of handwritten digits into MNIST-style 28×28 inputs: white ink on black,
/// each digit scaled into a 20×20 box and centred by its centre of mass, as MNIST was made.
public enum DigitExtraction {
    /// The digits of `image`, left to right, each as 784 values in [0, 1] (1 = ink).
    ///
    /// Ink is measured against the paper around it (a photo lit unevenly has paper of many
    /// greys), dark ink on light paper and the reverse both. A 28-pixel-high image whose width is
    /// a multiple of 28 is read as tiles, one digit each; any other image is cut into columns of
    /// ink, and a column run much wider than a digit (touching digits) is split where it holds
    /// the least ink. Every digit, tile or not, is then normalised as MNIST's were.
    public static func digits(in image: GrayImage) -> [[Double]] {
        let ink = inkLevels(image)
        let (width, height) = (image.width, image.height)
        let threshold = 0.25
        if height == 28 && width % 28 == 0 {
            return (0..<(width / 28)).compactMap { tile in
                crop(ink, width: width, columns: (tile * 28)..<((tile + 1) * 28), rows: 0..<28, threshold: threshold)
            }
        }
        let columnInk = (0..<width).map { x in (0..<height).reduce(0.0) { $0 + (ink[$1 * width + x] > threshold ? ink[$1 * width + x] : 0) } }
        var segments: [Range<Int>] = []
        var start: Int?
        for x in 0...width {
            let inky = x < width && columnInk[x] > 0
            if inky, start == nil { start = x }
            if !inky, let s = start {
                segments.append(s..<x)
                start = nil
            }
        }
        var pieces: [Range<Int>] = []
        for segment in segments {
            let rows = inkRows(ink, width: width, height: height, columns: segment, threshold: threshold)
            guard rows.count > 0 else { continue }
            pieces += split(segment, height: rows.count, columnInk: columnInk)
        }
        return pieces.compactMap { columns in crop(ink, width: width, columns: columns, rows: 0..<height, threshold: threshold) }
    }

    /// Ink in [0, 1] per pixel: how much darker (or, on dark paper, lighter) each pixel is than
    /// the paper near it, the paper being the brightest level within a window a quarter of the
    /// picture's height around it, and the darkest ink scaled to 1.
    static func inkLevels(_ image: GrayImage) -> [Double] {
        let (width, height) = (image.width, image.height)
        var border: [Double] = []
        for x in 0..<width { border += [image.pixels[x], image.pixels[(height - 1) * width + x]] }
        for y in 0..<height { border += [image.pixels[y * width], image.pixels[y * width + width - 1]] }
        let lightPaper = border.reduce(0, +) / Double(border.count) > 0.5
        let brightness = lightPaper ? image.pixels : image.pixels.map { 1 - $0 }
        // A 28-high tile strip keeps its plain reading: each tile is its own paper.
        let radius = height == 28 && width % 28 == 0 ? max(width, height) : max(4, min(width, height) / 4)
        let paper = maximumFilter(brightness, width: width, height: height, radius: radius)
        var ink = [Double](repeating: 0, count: brightness.count)
        for i in 0..<ink.count { ink[i] = max(0, paper[i] - brightness[i]) / max(paper[i], 0.05) }
        let strongest = ink.max() ?? 0
        return strongest > 0.1 ? ink.map { min(1, $0 / strongest) } : ink.map { _ in 0 }
    }

    /// The largest value within `radius` of every pixel (separable: rows, then columns).
    static func maximumFilter(_ values: [Double], width: Int, height: Int, radius: Int) -> [Double] {
        func pass(_ input: [Double], along rows: Bool) -> [Double] {
            var output = input
            let (lines, length) = rows ? (height, width) : (width, height)
            for line in 0..<lines {
                func at(_ i: Int) -> Int { rows ? line * width + i : i * width + line }
                // Deque of positions with decreasing values: the window maximum in O(1) per step.
                var queue: [Int] = []
                var head = 0
                for i in 0..<(length + radius) {
                    if i < length {
                        while queue.count > head, input[at(queue[queue.count - 1])] <= input[at(i)] { queue.removeLast() }
                        queue.append(i)
                    }
                    let centre = i - radius
                    guard centre >= 0 else { continue }
                    while queue[head] < centre - radius { head += 1 }
                    output[at(centre)] = input[at(queue[head])]
                }
            }
            return output
        }
        return pass(pass(values, along: true), along: false)
    }

    /// The rows of `columns` that hold ink.
    static func inkRows(_ ink: [Double], width: Int, height: Int, columns: Range<Int>, threshold: Double) -> Range<Int> {
        let rows = (0..<height).filter { y in columns.contains { x in ink[y * width + x] > threshold } }
        guard let top = rows.first, let bottom = rows.last else { return 0..<0 }
        return top..<(bottom + 1)
    }

    /// A run of ink columns cut into as many digits as its width suggests (a digit is at most
    /// about as wide as it is tall), each cut at the column with the least ink near its place.
    static func split(_ segment: Range<Int>, height: Int, columnInk: [Double]) -> [Range<Int>] {
        let count = max(1, Int((Double(segment.count) / (0.9 * Double(height))).rounded(.down)))
        guard count > 1 else { return [segment] }
        var cuts = [segment.lowerBound]
        let piece = Double(segment.count) / Double(count)
        for k in 1..<count {
            let ideal = segment.lowerBound + Int(Double(k) * piece)
            let reach = max(1, Int(piece / 4))
            let window = max(cuts.last! + 1, ideal - reach)..<min(segment.upperBound - 1, ideal + reach + 1)
            cuts.append(window.min { columnInk[$0] < columnInk[$1] } ?? ideal)
        }
        cuts.append(segment.upperBound)
        return zip(cuts, cuts.dropFirst()).compactMap { $0 < $1 ? $0..<$1 : nil }
    }

    /// The digit in `columns` × `rows`, cut to its ink and normalised; nil when it holds no ink.
    static func crop(_ ink: [Double], width: Int, columns: Range<Int>, rows: Range<Int>, threshold: Double) -> [Double]? {
        let inky = rows.filter { y in columns.contains { x in ink[y * width + x] > threshold } }
        let inkyColumns = columns.filter { x in rows.contains { y in ink[y * width + x] > threshold } }
        guard let top = inky.first, let bottom = inky.last, let first = inkyColumns.first, let last = inkyColumns.last else { return nil }
        return normalise(ink, width: width, columns: first..<(last + 1), rows: top..<(bottom + 1))
    }

    /// Scales the crop into a 20×20 box (keeping its aspect) by area averaging and places it in
    /// a 28×28 field with its centre of mass at the centre.
    static func normalise(_ ink: [Double], width: Int, columns: Range<Int>, rows: Range<Int>) -> [Double] {
        let scale = 20 / Double(max(columns.count, rows.count))
        let boxWidth = max(1, Int((Double(columns.count) * scale).rounded()))
        let boxHeight = max(1, Int((Double(rows.count) * scale).rounded()))
        var box = [Double](repeating: 0, count: boxWidth * boxHeight)
        for by in 0..<boxHeight {
            for bx in 0..<boxWidth {
                // The source rectangle this box pixel covers.
                let x0 = columns.lowerBound + bx * columns.count / boxWidth
                let x1 = max(x0 + 1, columns.lowerBound + (bx + 1) * columns.count / boxWidth)
                let y0 = rows.lowerBound + by * rows.count / boxHeight
                let y1 = max(y0 + 1, rows.lowerBound + (by + 1) * rows.count / boxHeight)
                var total = 0.0
                for y in y0..<y1 { for x in x0..<x1 { total += ink[y * width + x] } }
                box[by * boxWidth + bx] = total / Double((x1 - x0) * (y1 - y0))
            }
        }
        var mass = 0.0, cx = 0.0, cy = 0.0
        for y in 0..<boxHeight {
            for x in 0..<boxWidth {
                mass += box[y * boxWidth + x]
                cx += Double(x) * box[y * boxWidth + x]
                cy += Double(y) * box[y * boxWidth + x]
            }
        }
        let offsetX = mass > 0 ? Int((14 - cx / mass).rounded()) : (28 - boxWidth) / 2
        let offsetY = mass > 0 ? Int((14 - cy / mass).rounded()) : (28 - boxHeight) / 2
        var field = [Double](repeating: 0, count: 784)
        for y in 0..<boxHeight {
            for x in 0..<boxWidth {
                let (fx, fy) = (x + offsetX, y + offsetY)
                if (0..<28).contains(fx) && (0..<28).contains(fy) { field[fy * 28 + fx] = min(1, box[y * boxWidth + x]) }
            }
        }
        return field
    }
}
