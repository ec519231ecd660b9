/// Turns a picture of handwritten digits into MNIST-style 28×28 inputs: white ink on black,
/// each digit scaled into a 20×20 box and centred by its centre of mass, as MNIST was made.
public enum DigitExtraction {
    /// The digits of `image`, left to right, each as 784 values in [0, 1] (1 = ink).
    /// A 28-pixel-high image whose width is a multiple of 28 is read as tiles; any other image
    /// is segmented into columns of ink. Dark ink on light paper and the reverse both work.
    public static func digits(in image: GrayImage) -> [[Double]] {
        // Paper is the majority of the border; ink is whatever differs from it.
        var border: [Double] = []
        for x in 0..<image.width { border += [image.pixels[x], image.pixels[(image.height - 1) * image.width + x]] }
        for y in 0..<image.height { border += [image.pixels[y * image.width], image.pixels[y * image.width + image.width - 1]] }
        let lightPaper = border.reduce(0, +) / Double(border.count) > 0.5
        let ink = image.pixels.map { lightPaper ? 1 - $0 : $0 }
        let threshold = 0.25
        if image.height == 28 && image.width % 28 == 0 {
            // Tiles without ink (blank paper) are not digits.
            return (0..<(image.width / 28)).map { tile in
                (0..<784).map { i in ink[(i / 28) * image.width + tile * 28 + i % 28] }
            }.filter { tile in tile.contains { $0 > threshold } }
        }
        let inkyColumns = (0..<image.width).map { x in (0..<image.height).contains { y in ink[y * image.width + x] > threshold } }
        var segments: [Range<Int>] = []
        var start: Int?
        for x in 0...image.width {
            let inky = x < image.width && inkyColumns[x]
            if inky, start == nil { start = x }
            if !inky, let s = start {
                segments.append(s..<x)
                start = nil
            }
        }
        return segments.compactMap { columns in
            let rows = (0..<image.height).filter { y in columns.contains { x in ink[y * image.width + x] > threshold } }
            guard let top = rows.first, let bottom = rows.last else { return nil }
            return normalise(ink, width: image.width, columns: columns, rows: top..<(bottom + 1))
        }
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
