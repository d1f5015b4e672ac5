/// xᵇ for one value at a time, for the scalar loops that raise a distance to a fixed power (UMAP's
/// layout), where libm's `powf` is a call: every live vector register is saved around it, and the
/// loop's independent updates cannot be interleaved across it.
///
/// 2^{b·log₂x} in Double, after the table-driven `powf` of ARM's optimized-routines (Szabolcs
/// Nagy, 2018; glibc's since 2.28), with tables and polynomials worked out anew for a relative
/// error of about 10⁻⁷ (the tests hold it to 3·10⁻⁷ against `Foundation.pow`). Double keeps the
/// fraction of b·log₂x for every Float x (denormals are normal there) and 2ⁿ cannot overflow on
/// the way; the Float result rounds to ∞ or 0 where xᵇ is out of its range.
extension Kernels {
  /// xᵇ for a finite x > 0 and |b| ≤ 6 (UMAP's b lies in [0.79, 1.93]).
  ///
  /// log₂x = k + log₂c + log₂(1 + r): with z = x / 2ᵏ ∈ [0.699, 1.398) from the bits, c the centre
  /// of the sixteenth of that interval z lies in (`logCentres`), r = z/c − 1 (|r| < 0.03) and
  /// log₂(1 + r) to four terms of its series (error below 7·10⁻⁹). Then 2ᵗ for t = b·log₂x:
  /// t = (32n + j)/32 + f with |f| ≤ 1/64, 2ʲᐟ³² from `exp2Table` with n added to its exponent
  /// bits, and 2ᶠ to four terms of its series (error below 10⁻⁹). The integer parts are read from
  /// the bits of a sum with 1.5·2ᵐ, so no conversion can trap.
  @inline(__always)
  package static func power(_ x: Float, _ b: Double) -> Float {
    let bits = Double(x).bitPattern
    // The bits of 0.69921875: subtracting them leaves k in the exponent field and the table index
    // in the top four bits of the fraction.
    let shifted = bits &- 0x3FE6_6000_0000_0000
    let i = Int((shifted &>> 48) & 15)
    let z = Double(bitPattern: bits &- (shifted & 0xFFF0_0000_0000_0000))
    let exponent = UInt64(bitPattern: Int64(bitPattern: shifted) >> 52)
    // k as a Double through the bits of 1.5·2⁵² + k (an integer conversion would be slower).
    let k = Double(bitPattern: 0x4338_0000_0000_0000 &+ exponent) - 6_755_399_441_055_744
    let r = z * logReciprocals[i] - 1
    let low = 1.442_695_040_888_963_4 - 0.721_347_520_444_481_7 * r
    let high = 0.480_898_346_962_987_8 - 0.360_673_760_222_240_85 * r
    let log2x = (k + logCentres[i]) + r * (low + (r * r) * high)
    let t = b * log2x
    // 1.5·2⁴⁷: t + shift rounds t to a multiple of 1/32, whose count 32n + j is in the low bits.
    let shift = 211_106_232_532_992.0
    let rounded = t + shift
    let f = t - (rounded - shift)
    let count = rounded.bitPattern
    let scale = Double(bitPattern: exp2Table[Int(count & 31)] &+ (count &<< 47))
    let series =
      (1 + 0.693_147_180_559_945_3 * f)
      + (f * f) * (0.240_226_506_959_100_7 + 0.055_504_108_664_821_576 * f)
    return Float(series * scale)
  }

  /// 1/cᵢ for cᵢ the centre of the i-th of the 16 intervals of z in `power` (the doubles whose bits
  /// are 0x3FE66 + i followed by 48 free bits).
  static let logReciprocals: [Double] = [
    1.3989071038251366, 1.3403141361256545, 1.2864321608040201, 1.2367149758454106,
    1.1906976744186046, 1.147982062780269, 1.1082251082251082, 1.0711297071129706,
    1.0364372469635628, 0.9980506822612085, 0.9481481481481482, 0.8951048951048951,
    0.847682119205298, 0.8050314465408805, 0.7664670658682635, 0.7314285714285714,
  ]

  /// log₂cᵢ for the same centres.
  static let logCentres: [Double] = [
    -0.4843001617159575, -0.4225711719642513, -0.3633753794563512, -0.30651304250067474,
    -0.2518071504105397, -0.19910010007969528, -0.14825095858394247, -0.09913319201925144,
    -0.05163276841532235, 0.0028150156070540383, 0.0768155970508309, 0.1598713367783894,
    0.2384047393250789, 0.31288295528435534, 0.38370429247405224, 0.4512111118323288,
  ]

  /// The bits of 2ʲᐟ³² minus j·2⁴⁷, so that adding (32n + j)·2⁴⁷ gives the bits of 2ⁿ⁺ʲᐟ³².
  static let exp2Table: [UInt64] = [
    0x3FF0_0000_0000_0000, 0x3FEF_D9B0_D315_8574, 0x3FEF_B558_6CF9_890F, 0x3FEF_9301_D012_5B51,
    0x3FEF_72B8_3C7D_517B, 0x3FEF_5487_3168_B9AA, 0x3FEF_387A_6E75_6238, 0x3FEF_1E9D_F51F_DEE1,
    0x3FEF_06FE_0A31_B715, 0x3FEE_F1A7_373A_A9CB, 0x3FEE_DEA6_4C12_3422, 0x3FEE_CE08_6061_892D,
    0x3FEE_BFDA_D536_2A27, 0x3FEE_B42B_569D_4F82, 0x3FEE_AB07_DD48_5429, 0x3FEE_A47E_B03A_5585,
    0x3FEE_A09E_667F_3BCD, 0x3FEE_9F75_E8EC_5F74, 0x3FEE_A114_73EB_0187, 0x3FEE_A589_994C_CE13,
    0x3FEE_ACE5_422A_A0DB, 0x3FEE_B737_B0CD_C5E5, 0x3FEE_C491_82A3_F090, 0x3FEE_D503_B23E_255D,
    0x3FEE_E89F_995A_D3AD, 0x3FEE_FF76_F2FB_5E47, 0x3FEF_199B_DD85_529C, 0x3FEF_3720_DCEF_9069,
    0x3FEF_5818_DCFB_A487, 0x3FEF_7C97_337B_9B5F, 0x3FEF_A4AF_A2A4_90DA, 0x3FEF_D076_5B6E_4540,
  ]
}
