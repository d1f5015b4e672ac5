import Foundation

extension Plot {
  /// Writes a number for an SVG file: rounded to `decimals` places (0…6, two by default),
  /// trailing zeros dropped, never `-0`, no exponent.
  ///
  /// The rounding is done on the scaled integer (`(x · 10^decimals).rounded()`), so the text depends
  /// only on the value: the same number always gives the same bytes. Non-finite values, which a
  /// figure never draws, are written as `0` so that a document stays well-formed.
  ///
  /// ```swift
  /// Plot.number(12.3456)   // "12.35"
  /// Plot.number(-0.001)    // "0"
  /// Plot.number(3.10)      // "3.1"
  /// ```
  public static func number(_ x: Double, decimals: Int = 2) -> String {
    let places = min(max(decimals, 0), 6)
    guard x.isFinite else { return "0" }
    let factor = powersOfTen[places]
    let scaled = (x * Double(factor)).rounded()
    // Beyond 2^53 the integer path loses digits; such coordinates never occur in a figure.
    guard abs(scaled) < 9.0e15 else { return String(format: "%.0f", x) }
    let n = Int64(scaled)
    if n == 0 { return "0" }
    let magnitude = n.magnitude
    var text = n < 0 ? "-" : ""
    text += String(magnitude / UInt64(factor))
    var fraction = magnitude % UInt64(factor)
    if fraction != 0 {
      var digits = places
      while fraction % 10 == 0 {
        fraction /= 10
        digits -= 1
      }
      let body = String(fraction)
      text += "." + String(repeating: "0", count: digits - body.count) + body
    }
    return text
  }

  /// Writes a tick value with just the decimals its step needs: `0.1`, not `0.10000001`.
  ///
  /// A step of `m · 10^e` (m in 1, 2, 5) shows `max(0, −e)` decimals (`0.25` steps would show two).
  /// Values of magnitude 10^9 and above, or steps below 10^−6, use an exponent (`1e-7`, `2.5e9`).
  ///
  /// - Parameters:
  ///   - value: the tick value.
  ///   - step: the distance between neighbouring ticks (positive).
  static func tickLabel(_ value: Double, step: Double) -> String {
    guard value.isFinite else { return "" }
    if abs(value) >= 1e9 || (step > 0 && step < 1e-6) {
      return scientific(value)
    }
    return number(value, decimals: decimalsForStep(step))
  }

  /// The decimals needed to write multiples of `step` exactly: 0 for 1, 2, 5, 10…; 1 for 0.5, 0.2…
  static func decimalsForStep(_ step: Double) -> Int {
    guard step > 0, step.isFinite else { return 2 }
    var decimals = 0
    var scaled = step
    // Multiply by ten until the step is (nearly) whole; 1e-9 absorbs binary noise.
    while decimals < 6 && abs(scaled - scaled.rounded()) > 1e-9 * max(1, abs(scaled)) {
      scaled *= 10
      decimals += 1
    }
    return decimals
  }

  /// `1e-7`, `2.5e9`: three significant digits at most, no `+`, no padding of the exponent.
  static func scientific(_ value: Double) -> String {
    if value == 0 { return "0" }
    let exponent = Int(floor(log10(abs(value))))
    var mantissa = value / pow(10, Double(exponent))
    // 9.9996 rounds to 10.0: carry into the exponent.
    if abs((mantissa * 100).rounded() / 100) >= 10 {
      mantissa /= 10
      return number(mantissa, decimals: 2) + "e" + String(exponent + 1)
    }
    return number(mantissa, decimals: 2) + "e" + String(exponent)
  }

  /// Writes a number with exactly `decimals` places (0…6), trailing zeros kept, never `-0`:
  /// `fixed(0.9, decimals: 2)` is `0.90`, as a score in a legend reads.
  static func fixed(_ x: Double, decimals: Int) -> String {
    let places = min(max(decimals, 0), 6)
    var text = number(x, decimals: places)
    guard places > 0 else { return text }
    if let dot = text.firstIndex(of: ".") {
      let present = text.distance(from: dot, to: text.endIndex) - 1
      text += String(repeating: "0", count: places - present)
    } else {
      text += "." + String(repeating: "0", count: places)
    }
    return text
  }

  private static let powersOfTen: [Int64] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000]
}
