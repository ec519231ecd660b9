import CMPI

/// A number type MPI sends as itself: Float, Double, Int64.
public protocol MessageElement: BitwiseCopyable {
    /// The matching MPI datatype.
    static var datatype: MPI_Datatype { get }
    /// `target[i] += source[i]` for `i < count`, in this concrete type (a vectorised loop, not a
    /// generic one).
    static func add(_ source: UnsafePointer<Self>, into target: UnsafeMutablePointer<Self>, count: Int)
}

extension Float: MessageElement {
    /// MPI_FLOAT.
    public static var datatype: MPI_Datatype { cmpi_float() }
    /// Adds element by element.
    public static func add(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { target[i] += source[i] }
    }
}

extension Double: MessageElement {
    /// MPI_DOUBLE.
    public static var datatype: MPI_Datatype { cmpi_double() }
    /// Adds element by element.
    public static func add(_ source: UnsafePointer<Double>, into target: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { target[i] += source[i] }
    }
}

extension Int64: MessageElement {
    /// MPI_INT64_T.
    public static var datatype: MPI_Datatype { cmpi_int64() }
    /// Adds element by element (wrapping, as MPI_SUM does).
    public static func add(_ source: UnsafePointer<Int64>, into target: UnsafeMutablePointer<Int64>, count: Int) {
        for i in 0..<count { target[i] &+= source[i] }
    }
}
