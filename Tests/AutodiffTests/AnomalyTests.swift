import Autodiff
import Testing

@Suite("Anomaly detection")
struct AnomalyTests {
    @Test("an injected overflow is reported at the op and the source line that made it")
    func forwardOverflow() {
        let tape = Tape<Double>()
        tape.anomalyDetection = .record
        let x = tape.parameter(Tensor([1.0, 800, 2]))
        let scaled = x * 1.5
        let line: UInt = #line + 1
        let y = exp(scaled)
        _ = y.sum()
        let anomaly = tape.anomaly
        #expect(anomaly?.op == "exp" && anomaly?.phase == .forward, "expected exp in the forward pass, got \(String(describing: anomaly))")
        #expect(anomaly?.element == 1 && anomaly?.value == .infinity)
        #expect(anomaly?.site?.line == line && "\(anomaly?.site?.file ?? "")" == "AutodiffTests/AnomalyTests.swift",
                "expected the call site AnomalyTests.swift:\(line), got \(String(describing: anomaly?.site))")
        #expect(anomaly?.inputShapes == [[3]] && anomaly?.inputMagnitudes == [1200])
        #expect(anomaly?.description.contains("exp recorded at AutodiffTests/AnomalyTests.swift:\(line)") == true)
    }

    @Test("a gradient that overflows in the backward pass names the op, the input and its line")
    func backwardOverflow() {
        let tape = Tape<Double>()
        tape.anomalyDetection = .record
        let x = tape.parameter(Tensor([4.0, 0, 1]))
        let line: UInt = #line + 1
        let root = sqrt(x)
        tape.backward(root.sum())
        let anomaly = tape.anomaly
        #expect(anomaly?.op == "sqrt" && anomaly?.phase == .backward && anomaly?.input == 0 && anomaly?.element == 1,
                "expected sqrt's gradient at x = 0, got \(String(describing: anomaly))")
        #expect(anomaly?.site?.line == line)
    }

    @Test("operators have no call site: the report names the op and the last named op before it")
    func operators() {
        let tape = Tape<Double>()
        tape.anomalyDetection = .record
        let x = tape.parameter(Tensor([1e200, 1]))
        let line: UInt = #line + 1
        let s = x.squared()
        _ = s * x
        let anomaly = tape.anomaly
        #expect(anomaly?.op == "square" && anomaly?.site?.line == line, "x² overflows first, got \(String(describing: anomaly))")
        let other = Tape<Double>()
        other.anomalyDetection = .record
        let y = other.parameter(Tensor([1e200, 1]))
        let nearby: UInt = #line + 1
        let t = tanh(y)
        _ = y * y + t
        #expect(other.anomaly?.op == "multiply" && other.anomaly?.site == nil && other.anomaly?.nearestSite?.op == "tanh"
                && other.anomaly?.nearestSite?.site.line == nearby, "got \(String(describing: other.anomaly))")
    }

    @Test("NaN that came in with the data is named at its first use, not at every op after it; off records nothing")
    func dataAndOff() {
        let tape = Tape<Float>()
        tape.anomalyDetection = .record
        let w = tape.parameter(Tensor([1, 2]))
        let data = tape.constant(Tensor([Float.nan, 1]))
        _ = exp(w * data)
        #expect(tape.anomaly?.op == "multiply" && tape.anomaly?.leaf == "constant" && tape.anomaly?.input == 1,
                "the NaN data is reported where it is first used, got \(String(describing: tape.anomaly))")
        let quiet = Tape<Double>()
        let x = quiet.parameter(Tensor([1000.0]))
        quiet.backward(exp(x).sum())
        #expect(quiet.anomaly == nil && quiet.anomalyDetection == .off)
    }

    @Test("with .stop the run ends with the message")
    func stops() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let tape = Tape<Double>()
            tape.anomalyDetection = .stop
            _ = log(tape.parameter(Tensor([1.0, 0])))
        }.map {
            let text = String(decoding: $0.standardErrorContent, as: UTF8.self)
            #expect(text.contains("anomaly in the forward pass: log recorded at AutodiffTests/AnomalyTests.swift:"), "got \(text)")
        }
    }
}
