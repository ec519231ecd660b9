"""Runs every `swift run -c release PROGRAM ...` command printed in README.md against the release
binaries, with small settings (one epoch, a few iterations), in a scratch folder, so the README
cannot drift from the programs: a command whose flags do not parse (exit code 2, or "unknown
flag") fails the check. Commands that need a file the README assumes you have (a picture of your
own digits) may stop with exit code 1 after parsing their flags; that counts as parsed.

usage: python3 .ci/readme-commands.py BIN_DIR
"""
import os, re, shlex, subprocess, sys, tempfile

bin_dir = os.path.abspath(sys.argv[1])
readme = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")).read()
commands = []
for match in re.finditer(r"swift run -c release ([^`|#\n]*)", readme):
    text = match.group(1).strip()
    if text and text not in commands:
        commands.append(text)

# Small settings per program, added when the command does not set them itself.
small = {
    "example-mnist": ["--epochs", "1"],
    "example-logistic": ["--iterations", "50"],
    "example-moons": ["--iterations", "50"],
    "example-optimizers": ["--iterations", "20"],
    "example-rosenbrock": ["--iterations", "2000"],
    "example-molecules": ["--atoms", "32"],
    "bench": [],
}
work = tempfile.mkdtemp()
failures = 0
for text in commands:
    argv = shlex.split(text)
    program, args = argv[0], argv[1:]
    extra = []
    for flag, value in zip(small.get(program, [])[::2], small.get(program, [])[1::2]):
        if flag in args:
            args[args.index(flag) + 1] = value
        elif "--help" not in args and "--check-gradients" not in args and not (program == "example-mnist" and "--predict" in args):
            extra += [flag, value]
    if program == "bench" and args[:1] == ["mlp"]:
        args = [a if prev != "--epochs" else "1" for prev, a in zip([""] + args, args)] + ([] if "--epochs" in args else ["--epochs", "1"])
    if program == "bench" and args[:1] == ["forces"]:
        args += ["--sizes", "16", "--runs", "1"]
    if program == "bench" and args[:1] == ["fusion"]:
        args += ["--sizes", "1024", "--runs", "1"]
    if program == "bench" and args[:1] == ["sqrt"]:
        args += ["--runs", "1", "--steps", "1000"]
    if program == "bench" and args[:1] == ["second-order"]:
        args += ["--runs", "1"]
    if program == "bench" and args[:1] == ["accuracy"]:
        args += ["--rows", "100000"]
    run = [os.path.join(bin_dir, program)] + args + extra
    try:
        result = subprocess.run(run, cwd=work, capture_output=True, text=True, timeout=300)
        code, output = result.returncode, result.stdout + result.stderr
    except subprocess.TimeoutExpired:
        code, output = "timeout", ""
    parsed = code not in (2, "timeout") and not (isinstance(code, int) and code < 0) and "unknown flag" not in output
    print(f"{'ok  ' if parsed else 'FAIL'} swift run -c release {text}   (ran with {' '.join(args + extra) or 'no flags'}: exit {code})")
    if not parsed:
        failures += 1
        print("     " + output[-400:].replace("\n", "\n     "))
print(f"README commands: {len(commands) - failures} of {len(commands)} parse their flags")
sys.exit(1 if failures else 0)
