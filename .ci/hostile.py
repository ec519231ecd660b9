"""Hostile files and misuse against the release binaries (issue 12's cases): each must end with
a clear message and exit code 1 or 2, never a signal, within its memory bound (peak RSS of that
process, from wait4). Files are made here, in a temporary folder; nothing large is in git.

usage: python3 .ci/hostile.py BIN_DIR [--full]   (--full: the IDX case at the issue's full size,
2,739,000 images, 8 GiB of features and about a minute, instead of a tenth of it)
"""
import gzip, json, os, shutil, signal, struct, sys, tempfile, time, zlib

bin_dir = os.path.abspath(sys.argv[1])
work = tempfile.mkdtemp()
failures = 0


def run(name, argv, expect, codes=(1, 2)):
    rss_run(name, argv, expect, 8192, codes)


def rss_run(name, argv, expect, max_rss_mb, codes=(1, 2), max_seconds=None):
    """As run, measuring the child's peak resident memory with wait4 (and, given max_seconds,
    refusing a run that took longer: a check that must come before the expensive work)."""
    global failures
    start = time.time()
    pid = os.fork()
    if pid == 0:
        os.chdir(work)
        fd = os.open(os.path.join(work, "out.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        try:
            os.execv(os.path.join(bin_dir, argv[0]), argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    text = open(os.path.join(work, "out.txt"), errors="replace").read()
    rss_mb = usage.ru_maxrss / 1024
    problems = []
    if os.WIFSIGNALED(status):
        problems.append(f"killed by signal {signal.Signals(os.WTERMSIG(status)).name}")
    elif os.WEXITSTATUS(status) not in codes:
        problems.append(f"exit code {os.WEXITSTATUS(status)}, expected one of {codes}")
    if expect not in text:
        problems.append(f"no '{expect}' in the output")
    if rss_mb > max_rss_mb:
        problems.append(f"peak memory {rss_mb:.0f} MiB, more than {max_rss_mb:.0f}")
    if max_seconds is not None and time.time() - start > max_seconds:
        problems.append(f"took {time.time() - start:.1f} s, more than {max_seconds} (the check came after the work)")
    verdict = "ok" if not problems else "FAILED: " + "; ".join(problems)
    print(f"{name}: {verdict} (peak {rss_mb:.0f} MiB, bound {max_rss_mb:.0f}; {time.time() - start:.1f} s)")
    if problems:
        failures += 1
        print("  output:", text[-600:].replace("\n", "\n  "))


def path(name):
    return os.path.join(work, name)


def safetensors(file, header, data=b""):
    raw = json.dumps(header).encode() if isinstance(header, dict) else header.encode()
    open(path(file), "wb").write(struct.pack("<Q", len(raw)) + raw + data)


def idx(dims, body):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + body


def mnist_folder(name, train, test, images_gz=None):
    folder = path(name)
    os.makedirs(folder, exist_ok=True)
    for prefix, (count, rows, cols) in (("train", train), ("t10k", test)):
        open(f"{folder}/{prefix}-images-idx3-ubyte", "wb").write(idx([count, rows, cols], bytes(count * rows * cols)))
        open(f"{folder}/{prefix}-labels-idx1-ubyte", "wb").write(idx([count], bytes(count)))
    return folder


# Item 2: checkpoint metadata is checked against the tensors before anything is allocated.
for sizes, expect in [("784,4611686018427387904,10", "more parameters than Int.max"),
                      ("784,99999999999,10", "parameters, more than this machine's"),
                      ("784,-5,10", "not positive"), ("784,0,10", "not positive"),
                      ("784,abc,16,10", "not a list of integers")]:
    safetensors("meta.safetensors", {"__metadata__": {"sizes": sizes, "activation": "relu"}})
    rss_run(f"checkpoint sizes {sizes}", ["example-mnist", "--load", "meta.safetensors"], expect, 100)
safetensors("act.safetensors", {"__metadata__": {"sizes": "784,10", "activation": "leaky-relu:1e300"}})
run("checkpoint activation leaky-relu:1e300", ["example-mnist", "--load", "act.safetensors"], "activation 'leaky-relu:1e300' is unknown")

# Item 4: a 1M-entry header loads in under 1 GB.
entries = ",".join(f'"t{i}":{{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}' for i in range(1_000_000))
safetensors("many.safetensors", "{" + entries + "}")
rss_run("safetensors header of 1M entries (%d MB)" % (os.path.getsize(path("many.safetensors")) >> 20),
        ["example-mnist", "--load", "many.safetensors"], "the metadata does not describe an MLP", 1024)

# Item 4: a gzip IDX declaring 273,900 images decodes into its Float features and nothing else.
folder = path("big")
os.makedirs(folder, exist_ok=True)
count = 2_739_000 if "--full" in sys.argv else 273_900
with gzip.open(f"{folder}/train-images-idx3-ubyte.gz", "wb", compresslevel=1) as f:
    f.write(idx([count, 28, 28], b""))
    block = bytes(28 * 28 * 1000)
    for _ in range(count // 1000):
        f.write(block)
    f.write(bytes(28 * 28 * (count % 1000)))
open(f"{folder}/train-labels-idx1-ubyte", "wb").write(idx([count], bytes(count)))
open(f"{folder}/t10k-images-idx3-ubyte", "wb").write(idx([0, 28, 28], b""))
open(f"{folder}/t10k-labels-idx1-ubyte", "wb").write(idx([0], b""))
features_mb = count * 784 * 4 / 2**20
rss_run(f"gzip IDX of {count} images ({os.path.getsize(folder + '/train-images-idx3-ubyte.gz') >> 10} KB, {features_mb:.0f} MiB of features)",
        ["example-mnist", "--data", folder, "--epochs", "1", "--out", path("big-out")], "the file holds no images",
        1.25 * features_mb)

# Item 5: other image sizes, empty sets.
run("0×0 images", ["example-mnist", "--data", mnist_folder("zero", (5, 0, 0), (3, 0, 0)), "--epochs", "1", "--batch-size", "2"], "hold nothing")
run("train and test sizes differ", ["example-mnist", "--data", mnist_folder("differ", (5, 8, 8), (3, 28, 28)), "--epochs", "1", "--batch-size", "2"],
    "holds images of 64 pixels but")
run("no training images", ["example-mnist", "--data", mnist_folder("empty", (0, 28, 28), (3, 28, 28)), "--epochs", "1"], "holds no images")
run("8×8 images train with 64 inputs", ["example-mnist", "--data", mnist_folder("small", (300, 8, 8), (50, 8, 8)), "--epochs", "1",
    "--hidden", "16", "--save", path("small.safetensors"), "--out", path("small-out")], "test accuracy", codes=(0,))

# Item 7: --save onto a FIFO, a device, a symlink; stale temporaries.
os.mkfifo(path("fifo"))
run("--save onto a FIFO", ["example-mnist", "--epochs", "1", "--hidden", "8", "--save", path("fifo")], "not a regular file")
run("--save /dev/null", ["example-mnist", "--epochs", "1", "--hidden", "8", "--save", "/dev/null"], "not a regular file")
assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
open(path("real.safetensors"), "wb").write(b"old")
os.symlink(path("real.safetensors"), path("link.safetensors"))
open(path(".real.safetensors.4000000.tmp"), "wb").write(b"x" * 1000)
run("--save through a symlink", ["example-mnist", "--epochs", "1", "--hidden", "8", "--batch-size", "1000", "--save",
    path("link.safetensors"), "--out", path("link-out")], "checkpoint: ", codes=(0,))
if not os.path.islink(path("link.safetensors")) or os.path.getsize(path("real.safetensors")) < 1000:
    failures += 1
    print("  FAILED: the link was replaced or its target not written")
if os.path.exists(path(".real.safetensors.4000000.tmp")):
    failures += 1
    print("  FAILED: a dead process's temporary file was left")

# Item 8: accepted values that trapped or aborted.
run("example-optimizers --batch-size larger than the training set",
    ["example-optimizers", "--data", path("small"), "--batch-size", "1000", "--iterations", "1", "--out", path("o")],
    "--batch-size 1000 is larger than the 300 training images")
run("example-mnist --hidden 100000,100000", ["example-mnist", "--hidden", "100000,100000"], "parameters, more than this machine's")
run("bench mlp --sizes 784,100000000,10", ["bench", "mlp", "--sizes", "784,100000000,10"], "parameters, more than this machine's")

# Item 9: silent garbage with exit 0.
run("example-sqrt 1e250", ["example-sqrt", "1e250"], "too large")
nan = struct.pack("<f", float("nan"))
safetensors("nan.safetensors", {"__metadata__": {"sizes": "784,10", "activation": "relu"},
                                "layers.0.weight": {"dtype": "F32", "shape": [784, 10], "data_offsets": [0, 31360]},
                                "layers.0.bias": {"dtype": "F32", "shape": [10], "data_offsets": [31360, 31400]}}, nan * 7850)
open(path("digits.pgm"), "wb").write(b"P5\n112 28\n255\n" + bytes([0 if 10 <= x % 28 <= 17 and 4 <= y <= 23 else 255
                                                                 for y in range(28) for x in range(112)]))
run("--predict with an all-NaN checkpoint", ["example-mnist", "--load", "nan.safetensors", "--predict", "digits.pgm"], "finite weights")
open(path("white.pgm"), "wb").write(b"P5\n112 28\n255\n" + bytes([255] * (112 * 28)))
run("--predict on blank paper", ["example-mnist", "--load", path("real.safetensors"), "--predict", "white.pgm"], "no digits found")
run("example-logistic --compare 1e300", ["example-logistic", "--compare", "1e300", "--iterations", "300", "--out", path("l")],
    "diverged", codes=(0,))

# Item 10: flags, files that are not files.
run("--epochs --hidden 16", ["example-mnist", "--epochs", "--hidden", "16"], "--epochs needs a value")
run("example-sqrt --bogus", ["example-sqrt", "--bogus"], "unknown flag --bogus")
run("--seed 2^64-1", ["example-moons", "--seed", "18446744073709551615", "--iterations", "10", "--out", path("m")], "", codes=(0,))
dirdata = mnist_folder("dirdata", (5, 8, 8), (3, 8, 8))
os.remove(dirdata + "/train-images-idx3-ubyte")
os.makedirs(dirdata + "/train-images-idx3-ubyte")
run("a directory as a data file", ["example-mnist", "--data", dirdata, "--epochs", "1", "--batch-size", "2"], "is a directory, not a file")

# Issue 22, items 11-14.
# 11: a small PNG declaring a huge picture is averaged down while it is decoded.
def png(file, width, height, color, depth):
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    stride = width * channels * depth // 8
    compressor = zlib.compressobj(9)
    paper, ink = b"\x00" + b"\xff" * stride, bytearray(b"\x00" + b"\xff" * stride)
    ink[1 + stride // 3:1 + 2 * stride // 3] = bytes(2 * stride // 3 - stride // 3)
    body = b"".join(compressor.compress(bytes(ink) if height // 3 < y < 2 * height // 3 else paper) for y in range(height))
    body += compressor.flush()
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    open(path(file), "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0))
                                 + chunk(b"IDAT", body) + chunk(b"IEND", b""))
run("an adam checkpoint for the checks below", ["example-mnist", "--epochs", "1", "--hidden", "16", "--batch-size", "1000",
    "--save", path("adam.safetensors"), "--out", path("adam-out")], "checkpoint: ", codes=(0,))
png("huge-gray.png", 8192, 8192, 0, 8)
png("huge-rgba16.png", 4096, 4096, 6, 16)
for name in ["huge-gray.png", "huge-rgba16.png"]:
    rss_run(f"--predict on {name} ({os.path.getsize(path(name)) >> 10} KB)", ["example-mnist", "--load", path("adam.safetensors"),
            "--predict", path(name)], "digit", 300, codes=(0,))

# 12: every tensor and number of a checkpoint's optimizer state is checked, by name.
def edited(file, edit):
    data = open(path("adam.safetensors"), "rb").read()
    (length,) = struct.unpack("<Q", data[:8])
    header, body = json.loads(data[8:8 + length]), bytearray(data[8 + length:])
    edit(header, body)
    safetensors(file, header, bytes(body))
    return path(file)
def first_float(name, value):
    def edit(header, body):
        begin = header[name]["data_offsets"][0]
        body[begin:begin + 4] = struct.pack("<f", value)
    return edit
for case, edit, expect in [
        ("a moment of the transposed shape", lambda h, b: h["optimizer.first.layers.0.weight"].update(shape=[16, 784]),
         "'optimizer.first.layers.0.weight' has shape [16, 784], the parameter 'layers.0.weight' has [784, 16]"),
        ("a NaN moment", first_float("optimizer.first.layers.1.bias", float("nan")), "'optimizer.first.layers.1.bias' holds nan"),
        ("an infinite second moment", first_float("optimizer.second.layers.0.bias", float("inf")), "'optimizer.second.layers.0.bias' holds inf"),
        ("a negative second moment", first_float("optimizer.second.layers.0.bias", -1.0), "must be finite and not negative"),
        ("an unparseable step count", lambda h, b: h["__metadata__"].update({"optimizer.steps": "abc"}), "'optimizer.steps' is 'abc'"),
        ("a negative iteration", lambda h, b: h["__metadata__"].update(iteration="-3"), "'iteration' is '-3'"),
        ("a missing moment", lambda h, b: h.pop("optimizer.second.layers.1.weight"), "lacks 'optimizer.second.layers.1.weight'"),
        ("a tensor of no parameter", lambda h, b: h.update({"layers.7.weight": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}),
         "tensor 'layers.7.weight' belongs to no parameter")]:
    file = edited("edited.safetensors", edit)
    rss_run(f"--load with {case}", ["example-mnist", "--load", file, "--epochs", "1", "--out", path("e")], expect, 1024,
            max_seconds=15)

# 13: --hidden or --activation that contradict the loaded model.
run("--hidden 64 with --load of 784-16-10", ["example-mnist", "--load", path("adam.safetensors"), "--hidden", "64"],
    "--hidden 64 asks for 784-64-10 relu, but")
run("--activation tanh with --load of a relu model", ["example-mnist", "--load", path("adam.safetensors"), "--activation", "tanh"],
    "--activation tanh asks for 784-16-10 tanh, but")

# 14: arguments are checked before the data is read or a step is taken.
for case, target, expect in [("too long a name", path("x" * 300 + ".safetensors"), "more than the 255"),
                             ("a missing folder", path("no/such/folder/m.safetensors"), "does not exist"),
                             ("a read-only place", "/proc/m.safetensors", "cannot write in /proc")]:
    rss_run(f"--save to {case}", ["example-mnist", "--epochs", "1", "--save", target, "--out", path("s")], expect, 200,
            max_seconds=5)
rss_run("--batch-size above the training set after --validation", ["example-mnist", "--batch-size", "59000", "--validation", "0.1",
        "--out", path("b")], "--batch-size 59000 is larger than the 54000 training images", 200, max_seconds=5)

shutil.rmtree(work)
print(f"hostile cases: {'all passed' if failures == 0 else f'{failures} FAILED'}")
sys.exit(1 if failures else 0)
