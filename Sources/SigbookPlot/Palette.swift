import Foundation

extension Plot {
  /// An opaque sRGB colour with 8 bits per channel.
  struct Color: Sendable, Equatable, Hashable {
    /// Red, 0…255.
    var red: UInt8
    /// Green, 0…255.
    var green: UInt8
    /// Blue, 0…255.
    var blue: UInt8

    /// A colour from its channels.
    init(red: UInt8, green: UInt8, blue: UInt8) {
      self.red = red
      self.green = green
      self.blue = blue
    }

    /// A colour from a `0xRRGGBB` literal: `Color(hex: 0x0072B2)`.
    init(hex: UInt32) {
      self.init(
        red: UInt8((hex >> 16) & 0xFF), green: UInt8((hex >> 8) & 0xFF), blue: UInt8(hex & 0xFF))
    }

    /// `#rrggbb`, lower case, as CSS and SVG attributes take it.
    var css: String {
      let digits = Array("0123456789abcdef")
      var text = "#"
      for channel in [red, green, blue] {
        text.append(digits[Int(channel >> 4)])
        text.append(digits[Int(channel & 0xF)])
      }
      return text
    }

    /// Relative luminance (WCAG 2), 0 for black to 1 for white.
    var luminance: Double {
      func linear(_ c: UInt8) -> Double {
        let s = Double(c) / 255
        return s <= 0.04045 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4)
      }
      return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    }

    /// Black or white, whichever reads better on this colour (higher WCAG contrast).
    var readableText: Color {
      // Contrast with black is (L + 0.05) / 0.05, with white 1.05 / (L + 0.05); equal at L ≈ 0.179.
      luminance > 0.179 ? Color(hex: 0x000000) : Color(hex: 0xFFFFFF)
    }

    /// The colour a fraction `t` of the way to `other` (0 gives self), channel by channel in sRGB,
    /// rounded to the nearest integer.
    func mixed(with other: Color, by t: Double) -> Color {
      let u = min(max(t, 0), 1)
      func mix(_ a: UInt8, _ b: UInt8) -> UInt8 {
        UInt8((Double(a) + (Double(b) - Double(a)) * u).rounded())
      }
      return Color(
        red: mix(red, other.red), green: mix(green, other.green), blue: mix(blue, other.blue))
    }
  }

  /// The colours of sigbook's figures.
  ///
  /// **Categorical** (labels, clusters, layers, scorers): the eight colours of Okabe & Ito,
  /// "Color Universal Design" (2002, https://jfly.uni-koeln.de/color/), distinguishable with the
  /// common colour-vision deficiencies, reordered so that two classes get the strongest pair (blue,
  /// orange), followed by two colours of Paul Tol's "muted" scheme (wine `#882255`, olive
  /// `#999933`, https://personal.sron.nl/~pault/) for ten in all; an 11th category reuses the
  /// first colour.
  ///
  /// **Sequential** (heatmaps, confusion matrices): viridis (van der Walt & Smith, matplotlib
  /// 2015), perceptually uniform and readable in grey, sampled at 11 points (R's `viridis(11)`) and
  /// linearly interpolated between them.
  enum Palette {
    /// The ten categorical colours, in order.
    static let categorical: [Color] = [
      Color(hex: 0x0072B2),  // blue
      Color(hex: 0xE69F00),  // orange
      Color(hex: 0x009E73),  // bluish green
      Color(hex: 0xD55E00),  // vermillion
      Color(hex: 0xCC79A7),  // reddish purple
      Color(hex: 0x56B4E9),  // sky blue
      Color(hex: 0xF0E442),  // yellow
      Color(hex: 0x000000),  // black
      Color(hex: 0x882255),  // wine (Tol muted)
      Color(hex: 0x999933),  // olive (Tol muted)
    ]

    /// The colour of category `index` (cycling after ten; negative indices give grey).
    static func category(_ index: Int) -> Color {
      guard index >= 0 else { return Color(hex: 0x999999) }
      return categorical[index % categorical.count]
    }

    /// viridis at 0, 0.1, …, 1.
    static let viridisStops: [Color] = [
      Color(hex: 0x440154), Color(hex: 0x482576), Color(hex: 0x414487), Color(hex: 0x35608D),
      Color(hex: 0x2A788E), Color(hex: 0x21908C), Color(hex: 0x22A884), Color(hex: 0x43BF71),
      Color(hex: 0x7AD151), Color(hex: 0xBBDF27), Color(hex: 0xFDE725),
    ]

    /// viridis at `t` in [0, 1] (clamped; NaN gives the low end): dark purple to yellow.
    static func viridis(_ t: Double) -> Color {
      let u = t.isNaN ? 0 : min(max(t, 0), 1)
      let position = u * Double(viridisStops.count - 1)
      let lower = min(Int(position), viridisStops.count - 2)
      return viridisStops[lower].mixed(with: viridisStops[lower + 1], by: position - Double(lower))
    }

    /// ColorBrewer's RdBu (11 classes), blue for −1 through near-white at 0 to red for +1: the
    /// diverging palette of signed values (weights, attributions), readable with the common
    /// colour-vision deficiencies.
    static let divergingStops: [Color] = [
      Color(hex: 0x053061), Color(hex: 0x2166AC), Color(hex: 0x4393C3), Color(hex: 0x92C5DE),
      Color(hex: 0xD1E5F0), Color(hex: 0xF7F7F7), Color(hex: 0xFDDBC7), Color(hex: 0xF4A582),
      Color(hex: 0xD6604D), Color(hex: 0xB2182B), Color(hex: 0x67001F),
    ]

    /// RdBu at `t` in [−1, 1] (clamped; NaN gives the centre): dark blue, white at 0, dark red.
    static func diverging(_ t: Double) -> Color {
      let u = t.isNaN ? 0.5 : (min(max(t, -1), 1) + 1) / 2
      let position = u * Double(divergingStops.count - 1)
      let lower = min(Int(position), divergingStops.count - 2)
      return divergingStops[lower].mixed(
        with: divergingStops[lower + 1], by: position - Double(lower))
    }
  }
}
