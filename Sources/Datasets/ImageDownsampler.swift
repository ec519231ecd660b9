/// Collects an image's rows as they are decoded and averages them down by a whole factor when
/// the image holds more than ``GrayImage/pixelBudget`` pixels, so that a huge picture (a
/// 65 KB PNG may declare 8192×8192) never exists at full size in memory: each output pixel is
/// the mean of a factor × factor box (smaller at the right and bottom edges).
struct ImageDownsampler {
    let width, height, factor: Int
    let outputWidth, outputHeight: Int
    private var sums: [Double]
    private var rowSamples: [Int]

    init(width: Int, height: Int, budget: Int = GrayImage.pixelBudget) {
        var factor = 1
        while ((width + factor - 1) / factor) * ((height + factor - 1) / factor) > budget { factor += 1 }
        (self.width, self.height, self.factor) = (width, height, factor)
        (outputWidth, outputHeight) = ((width + factor - 1) / factor, (height + factor - 1) / factor)
        (sums, rowSamples) = ([], [])
    }

    /// Adds row `y` (`width` brightness values).
    mutating func add(row y: Int, _ value: (Int) throws(DatasetError) -> Double) throws(DatasetError) {
        // Allocated with the first row, so that a file whose data ends before it costs nothing.
        if sums.isEmpty {
            sums = [Double](repeating: 0, count: outputWidth * outputHeight)
            rowSamples = [Int](repeating: 0, count: outputHeight)
        }
        let out = (y / factor) * outputWidth
        rowSamples[y / factor] += 1
        for x in 0..<width { sums[out + x / factor] += try value(x) }
    }

    /// The averaged image.
    func image() -> GrayImage {
        var pixels = sums
        for oy in 0..<outputHeight {
            for ox in 0..<outputWidth {
                let columns = Swift.min(factor, width - ox * factor)
                pixels[oy * outputWidth + ox] /= Double(columns * rowSamples[oy])
            }
        }
        return GrayImage(width: outputWidth, height: outputHeight, pixels: pixels)
    }
}
