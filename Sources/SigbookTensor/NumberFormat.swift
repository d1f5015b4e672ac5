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
}
