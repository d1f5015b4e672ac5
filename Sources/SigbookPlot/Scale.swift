import Foundation

extension Plot {
  /// A map from data values to pixels along one axis, with the ticks to mark on it.
  protocol AxisScale: Sendable {
    /// The pixel coordinate of a data value (values outside the domain extrapolate).
    func position(_ value: Double) -> Double
    /// The values to mark with ticks, increasing, all inside the domain.
    var ticks: [Double] { get }
    /// The text under (or beside) the tick at `value`.
    func tickLabel(_ value: Double) -> String
  }

  /// A linear scale from a domain of values to a range of pixels, with "nice" ticks.
  ///
  /// Ticks are the multiples of a step of 1, 2 or 5 times a power of ten that fall inside the
  /// domain (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990): the range is first
  /// rounded to a nice number, then divided by `tickCount − 1` and rounded again. Tick values are
  /// built as integer multiples of the step divided by an exact power of ten, so `0.1 · 3` is the
  /// double nearest 0.3 and labels read `0.3`.
  struct LinearScale: AxisScale {
    /// The smallest value of the domain.
    let lower: Double
    /// The largest value of the domain.
    let upper: Double
    /// The pixel of `lower`.
    let start: Double
    /// The pixel of `upper` (smaller than `start` on a y axis, where pixels grow downwards).
    let end: Double
    /// The tick values, increasing.
    private(set) var ticks: [Double]
    /// The distance between neighbouring ticks.
    private(set) var step: Double

    /// A scale over `lower...upper` drawn from pixel `start` to pixel `end`.
    ///
    /// A degenerate domain (equal bounds or non-finite values) is widened so that the scale stays
    /// usable: by 10% of the value on each side, or to −1…1 around zero.
    ///
    /// - Parameters:
    ///   - lower: the value at `start`.
    ///   - upper: the value at `end`.
    ///   - start: the pixel of `lower`.
    ///   - end: the pixel of `upper`.
    ///   - tickCount: about how many ticks to show (5 by default).
    ///   - nice: extend the domain outwards to whole steps, so the axis starts and ends on a tick.
    init(
      lower: Double, upper: Double, start: Double, end: Double, tickCount: Int = 5,
      nice: Bool = false
    ) {
      var (lo, hi) = Plot.usableDomain(lower, upper)
      var ticks = Plot.niceTicks(lower: lo, upper: hi, count: tickCount)
      if nice {
        let k0 = Int(floor(lo / ticks.step + 1e-9))
        let k1 = Int(ceil(hi / ticks.step - 1e-9))
        lo = Plot.multiple(k0, of: ticks)
        hi = Plot.multiple(k1, of: ticks)
        ticks.values = (k0...k1).map { Plot.multiple($0, of: ticks) }
      }
      self.lower = lo
      self.upper = hi
      self.start = start
      self.end = end
      self.step = ticks.step
      self.ticks = ticks.values
    }

    /// A scale over the finite values given, widened by `padding` (a fraction of the extent, 4% by
    /// default) on each side so that points at the extremes are not cut by the frame.
    init(
      fitting values: [Double], start: Double, end: Double, padding: Double = 0.04,
      tickCount: Int = 5, nice: Bool = false
    ) {
      let finite = values.filter(\.isFinite)
      let lo = finite.min() ?? 0
      let hi = finite.max() ?? 1
      let (a, b) = Plot.usableDomain(lo, hi)
      let pad = (b - a) * padding
      self.init(
        lower: a - pad, upper: b + pad, start: start, end: end, tickCount: tickCount, nice: nice)
    }

    /// The pixel coordinate of `value`.
    func position(_ value: Double) -> Double {
      start + (value - lower) / (upper - lower) * (end - start)
    }

    /// The same scale with ticks at the integers of the domain: every one when there are at most
    /// `maximum`, else nice multiples of a whole step (for k, epochs, indices).
    func integerTicks(maximum: Int = 12) -> LinearScale {
      var copy = self
      let first = Int(ceil(lower - 1e-9))
      let last = Int(floor(upper + 1e-9))
      guard last >= first else { return copy }
      if last - first + 1 <= maximum {
        copy.ticks = (first...last).map(Double.init)
        copy.step = 1
      } else {
        let nice = Plot.niceTicks(lower: lower, upper: upper, count: min(maximum, 6))
        if nice.step >= 1 {
          copy.ticks = nice.values
          copy.step = nice.step
        } else {
          copy.ticks = (first...last).map(Double.init)
          copy.step = 1
        }
      }
      return copy
    }

    /// The tick label: just the decimals the step needs.
    func tickLabel(_ value: Double) -> String {
      Plot.tickLabel(value, step: step)
    }

    /// The scale with a tick at each of `values` (the few x values a line plot was drawn at, so
    /// that every plotted point is labelled), when there are at most `maximum` of them inside the
    /// domain and their labels do not overlap; otherwise the scale as it is.
    func ticks(at values: [Double], maximum: Int = 12) -> LinearScale {
      let kept = Array(Set(values.filter { $0 >= lower && $0 <= upper })).sorted()
      guard kept.count >= 2, kept.count <= maximum else { return self }
      var copy = self
      copy.step = zip(kept, kept.dropFirst()).map { $1 - $0 }.min() ?? step
      // Each label must fit between its neighbours' positions.
      for (a, b) in zip(kept, kept.dropFirst()) {
        let room = abs(position(b) - position(a))
        let widest = max(
          Plot.textWidth(copy.tickLabel(a), size: Plot.FontSize.tick),
          Plot.textWidth(copy.tickLabel(b), size: Plot.FontSize.tick))
        if room < widest + 4 { return self }
      }
      copy.ticks = kept
      return copy
    }
  }

  /// A base-10 logarithmic scale for positive values.
  ///
  /// Ticks at the powers of ten inside the domain; over at most 2.5 decades also at 2 and 5
  /// times them (1-2-5); over more than eight decades at every second (third…) power only.
  struct LogScale: AxisScale {
    /// The smallest value of the domain (positive).
    let lower: Double
    /// The largest value of the domain.
    let upper: Double
    /// The pixel of `lower`.
    let start: Double
    /// The pixel of `upper`.
    let end: Double
    /// The tick values, increasing.
    let ticks: [Double]

    /// A scale over `lower...upper` (both made positive: non-positive bounds become 1e-3 and 1).
    ///
    /// - Parameter nice: extend the domain outwards to whole powers of ten.
    init(lower: Double, upper: Double, start: Double, end: Double, nice: Bool = false) {
      var lo = lower.isFinite && lower > 0 ? lower : 1e-3
      var hi = upper.isFinite && upper > lo ? upper : max(lo * 10, 1)
      if nice {
        lo = Plot.powerOfTen(Int(floor(log10(lo) + 1e-9)))
        hi = Plot.powerOfTen(Int(ceil(log10(hi) - 1e-9)))
        if hi <= lo { hi = lo * 10 }
      }
      self.lower = lo
      self.upper = hi
      self.start = start
      self.end = end
      let e0 = Int(floor(log10(lo) - 1e-9))
      let e1 = Int(ceil(log10(hi) + 1e-9))
      let decades = log10(hi) - log10(lo)
      let stride = max(1, Int((decades / 8).rounded(.up)))
      let multipliers: [Int] = decades <= 2.5 ? [1, 2, 5] : [1]
      var values: [Double] = []
      for e in e0...e1 where e % stride == 0 || stride == 1 {
        for m in multipliers {
          let v = Plot.decimal(m, exponent: e)
          if v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9) { values.append(v) }
        }
      }
      self.ticks = values
    }

    /// The pixel coordinate of `value` (non-positive values go to the lower end).
    func position(_ value: Double) -> Double {
      let v = value > 0 ? value : lower
      return start + (log10(v) - log10(lower)) / (log10(upper) - log10(lower)) * (end - start)
    }

    /// `0.001`, `0.02`, `100`, `1e-7`: the value's own decimals.
    func tickLabel(_ value: Double) -> String {
      Plot.tickLabel(value, step: Plot.powerOfTen(Int(floor(log10(value) + 1e-9))))
    }
  }

  /// Nice tick values inside `lower...upper`: multiples of a step of 1, 2 or 5 × 10^e chosen so that
  /// about `count` of them fall in the range (Heckbert 1990).
  ///
  /// ```swift
  /// Plot.niceTicks(lower: 0, upper: 1, count: 5).values  // [0, 0.2, 0.4, 0.6, 0.8, 1]
  /// ```
  ///
  /// - Returns: the values, increasing, and the step with its mantissa and exponent.
  static func niceTicks(lower: Double, upper: Double, count: Int = 5) -> NiceTicks {
    let (lo, hi) = usableDomain(lower, upper)
    let range = niceNumber(hi - lo, round: false)
    let rangeValue = Double(range.mantissa) * powerOfTen(range.exponent)
    let raw = niceNumber(rangeValue / Double(max(count - 1, 1)), round: true)
    var ticks = NiceTicks(values: [], mantissa: raw.mantissa, exponent: raw.exponent)
    let k0 = Int(ceil(lo / ticks.step - 1e-9))
    let k1 = Int(floor(hi / ticks.step + 1e-9))
    if k1 >= k0 {
      ticks.values = (k0...k1).map { multiple($0, of: ticks) }
    }
    return ticks
  }

  /// The ticks of ``niceTicks(lower:upper:count:)``.
  struct NiceTicks: Sendable, Equatable {
    /// The tick values, increasing.
    var values: [Double]
    /// The step's leading digit: 1, 2 or 5.
    var mantissa: Int
    /// The step's power of ten.
    var exponent: Int
    /// The distance between ticks, `mantissa · 10^exponent`.
    var step: Double { Plot.decimal(mantissa, exponent: exponent) }
  }

  /// Heckbert's nice number: 1, 2, 5 or 10 times a power of ten, near `x` (`round`) or at least `x`.
  static func niceNumber(_ x: Double, round: Bool) -> (mantissa: Int, exponent: Int) {
    var exponent = Int(floor(log10(x)))
    let fraction = x / powerOfTen(exponent)
    var mantissa: Int
    if round {
      mantissa = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
    } else {
      mantissa = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
    }
    if mantissa == 10 {
      mantissa = 1
      exponent += 1
    }
    return (mantissa, exponent)
  }

  /// k steps of the ticks' step, as the double nearest the exact decimal.
  static func multiple(_ k: Int, of ticks: NiceTicks) -> Double {
    decimal(k * ticks.mantissa, exponent: ticks.exponent)
  }

  /// n · 10^e as the double nearest the exact decimal (for |e| ≤ 22).
  static func decimal(_ n: Int, exponent e: Int) -> Double {
    // Dividing by an exact power of ten rounds once, to the double nearest the decimal.
    e >= 0 ? Double(n) * pow(10, Double(e)) : Double(n) / pow(10, Double(-e))
  }

  /// 10^e, the double nearest it.
  static func powerOfTen(_ e: Int) -> Double { decimal(1, exponent: e) }

  /// Bounds that a scale can use: finite, ordered and apart.
  static func usableDomain(_ lower: Double, _ upper: Double) -> (Double, Double) {
    var lo = lower.isFinite ? lower : 0
    var hi = upper.isFinite ? upper : lo + 1
    if hi < lo { swap(&lo, &hi) }
    if hi - lo <= 1e-12 * max(1, abs(lo)) {
      let delta = lo == 0 ? 1 : abs(lo) * 0.1
      lo -= delta
      hi += delta
    }
    return (lo, hi)
  }
}
