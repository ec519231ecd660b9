"""Makes Examples/example-mnist/sample-2026.png, the picture README's --predict example reads:
"2026" in handwritten digits from the MNIST *test* set (never seen in training), enlarged three
times, dark ink on paper lit unevenly (bright at the top left, a third darker at the bottom
right), the middle two digits touching. Run from the repository root: python3 Examples/example-mnist/make-sample.py
"""
import gzip, struct, zlib

raw = gzip.open("Data/mnist/t10k-images-idx3-ubyte.gz").read()[16:]
labels = gzip.open("Data/mnist/t10k-labels-idx1-ubyte.gz").read()[8:]
# The first test images of each digit wanted, in order: 2, 0, 2 (the next one), 6.
wanted, used, picks = [2, 0, 2, 6], set(), []
for digit in wanted:
    index = next(i for i, label in enumerate(labels) if label == digit and i not in used)
    used.add(index)
    picks.append(raw[index * 784:(index + 1) * 784])
scale, width, height = 3, 4 * 84 + 30 - 20, 84 + 40
offsets = [20, 20 + 84, 20 + 84 + 64, 20 + 84 + 64 + 84]   # the second and third overlap by 20 px
ink = [[0.0] * width for _ in range(height)]
for digit, left in zip(picks, offsets):
    for y in range(84):
        for x in range(84):
            value = digit[(y // scale) * 28 + x // scale] / 255
            if left + x < width:
                ink[y + 20][left + x] = max(ink[y + 20][left + x], value)
rows = []
for y in range(height):
    row = bytearray([0])  # filter: none
    for x in range(width):
        light = 1 - 0.33 * (x / width + y / height) / 2
        row.append(int(255 * light * (1 - 0.85 * ink[y][x])))
    rows.append(bytes(row))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
open("Examples/example-mnist/sample-2026.png", "wb").write(png)
print("Examples/example-mnist/sample-2026.png:", width, "×", height)
