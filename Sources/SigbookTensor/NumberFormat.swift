import Foundation

/// How numbers are written for people (displays, tables) and for files (CSV).
public enum NumberFormat {
  /// A number as a workbook shows it: whole numbers as integers (`14`), others with four
  /// significant digits (`0.9877`, `123.5`, `1.235e-05`), `nan` and `inf` spelled out.
  public static func display(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    if abs(x) >= 1e4 && abs(x) < 1e15 { return String(format: "%.1f", x) }
    var text = String(format: "%.4g", x)
    if text.contains("e") {
      // 1.200e-05 → 1.2e-05
      let parts = text.split(separator: "e", maxSplits: 1)
      var mantissa = String(parts[0])
      if mantissa.contains(".") {
        while mantissa.hasSuffix("0") { mantissa.removeLast() }
        if mantissa.hasSuffix(".") { mantissa.removeLast() }
      }
      text = mantissa + "e" + parts[1]
    } else if text.contains(".") {
      while text.hasSuffix("0") { text.removeLast() }
      if text.hasSuffix(".") { text.removeLast() }
    }
    return text
  }

  /// A number written so that reading it back gives the same Double (CSV, reports of `--set`).
  public static func exact(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    return "\(x)"
  }

  /// `1 GiB`, `512 MiB`, `700 KiB`, `12 bytes`: a byte count as people read it.
  public static func bytes(_ count: Int) -> String {
    let units = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
    for (size, name) in units where count >= size {
      let value = Double(count) / Double(size)
      let text = value == value.rounded() ? String(Int(value)) : String(format1(value))
      return "\(text) \(name)"
    }
    return "\(count) byte\(count == 1 ? "" : "s")"
  }

  /// `268,435,456`: a count with thousands separators.
  public static func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return (n < 0 ? "-" : "") + out
  }

  /// One decimal: `1.5`.
  private static func format1(_ x: Double) -> String {
    let tenths = Int((x * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
  }
}
