import CRsvg
import Foundation
import SigbookTensor

/// A file format a figure is written in.
public enum FigureFormat: String, Sendable, CaseIterable {
  /// The SVG sigbook builds; always written.
  case svg
  /// A vector PDF rendered from the SVG, fonts embedded, one page the size of the figure.
  case pdf
  /// A raster PNG rendered from the SVG on white, at a chosen resolution.
  case png

  /// The format a file name asks for by its extension (`x.pdf` → `.pdf`), nil for none of them.
  public init?(fileName: String) {
    let lowered = fileName.lowercased()
    guard let format = Self.allCases.first(where: { lowered.hasSuffix("." + $0.rawValue) }) else {
      return nil
    }
    self = format
  }
}

/// Why an SVG could not be rendered; the message is complete.
public struct SVGRenderError: Error, Sendable, CustomStringConvertible {
  /// What went wrong, lower case, no final period.
  public var message: String
  /// The message.
  public var description: String { message }
}

/// Renders sigbook's SVG documents to PDF and PNG through librsvg and cairo, so that a figure
/// looks the same in all three formats.
///
/// Text is set in DejaVu Sans whatever the SVG's font stack names (Debian: `fonts-dejavu-core`,
/// installed by `scripts/setup`): before the first rendering, the process's fontconfig
/// configuration is replaced by one that holds only the DejaVu Sans files and maps every family
/// to DejaVu Sans, so neither the fonts of the machine nor a user's fontconfig settings change the
/// output. Bytes are reproducible: the PDF's dates are fixed (``pdfDate``), its font subsets are
/// named from their glyphs, and PNGs go through sigbook's own deflate encoder (``Deflate``), not
/// the zlib of the machine.
public enum SVGRenderer {
  /// CSS pixels per inch: the unit of an SVG's `width` and `height`.
  static let cssDPI = 96.0
  /// The resolution of PNGs when none is given.
  public static let defaultDPI = 150.0
  /// The resolutions a PNG may be rendered at, in dots per inch.
  public static let dpiRange = 10.0...1200.0
  /// The creation and modification date written into every PDF (ISO 8601), fixed so that the
  /// same figure gives the same bytes.
  static let pdfDate = "2000-01-01T00:00:00Z"
  /// The folders searched for the DejaVu Sans files (Debian and Ubuntu, Fedora, Arch).
  static let fontFolders = [
    "/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/share/fonts/TTF",
  ]
  /// The DejaVu Sans files: regular and bold are what figures use.
  static let fontFiles = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"]

  /// The size of an SVG document in CSS pixels (its `width` and `height`).
  ///
  /// - Throws: when librsvg cannot read the SVG or it has no size.
  static func size(of svg: String) throws(SVGRenderError) -> (width: Double, height: Double) {
    let handle = try Handle(svg)
    return handle.size
  }

  /// A one-page vector PDF of an SVG document, the page the size of the drawing (1 CSS pixel =
  /// 0.75 pt), fonts embedded as subsets.
  ///
  /// The metadata are fixed: creation and modification date ``pdfDate``, creator `sigbook`,
  /// title `title`; the producer is cairo's name and version.
  ///
  /// - Parameters:
  ///   - svg: the SVG text.
  ///   - title: the document title in the PDF's metadata (left out when empty).
  /// - Returns: the PDF file's bytes.
  /// - Throws: when the SVG cannot be read or rendered, or DejaVu Sans is missing.
  public static func pdf(_ svg: String, title: String = "") throws(SVGRenderError) -> [UInt8] {
    try loadFonts.get()
    let handle = try Handle(svg)
    let points = 72 / cssDPI
    let (width, height) = handle.size
    let sink = ByteSink()
    let closure = Unmanaged.passUnretained(sink).toOpaque()
    guard
      let surface = cairo_pdf_surface_create_for_stream(
        { closure, data, length in
          guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
          let sink = Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue()
          sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
          return CAIRO_STATUS_SUCCESS
        }, closure, width * points, height * points)
    else { throw SVGRenderError(message: "cairo cannot create a PDF surface") }
    defer { cairo_surface_destroy(surface) }
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, pdfDate)
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, pdfDate)
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "sigbook")
    if !title.isEmpty { cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title) }
    try draw(handle, on: surface, width: width * points, height: height * points)
    cairo_surface_finish(surface)
    try check(cairo_surface_status(surface), "the PDF")
    return withExtendedLifetime(sink) { sink.bytes }
  }

  /// An opaque PNG of an SVG document on a white background, `size × dpi / 96` pixels on each
  /// side (rounded): a 640 × 480 figure at 300 dpi is 2000 × 1500 pixels.
  ///
  /// 8-bit RGB, no interlace, a `pHYs` chunk giving the resolution (so word processors place it
  /// at the figure's size), compressed by ``Deflate``.
  ///
  /// - Parameters:
  ///   - svg: the SVG text.
  ///   - dpi: dots per inch (default 150), within ``dpiRange``.
  ///   - isCancelled: told the fraction done between bands of rows; rendering stops (throwing
  ///     `interrupted`) when it returns true.
  /// - Returns: the PNG file's bytes.
  /// - Throws: when the SVG cannot be read or rendered, the resolution is out of range, or
  ///   DejaVu Sans is missing.
  public static func png(
    _ svg: String, dpi: Double = defaultDPI, isCancelled: (Double) -> Bool = { _ in false }
  ) throws(SVGRenderError) -> [UInt8] {
    guard dpiRange.contains(dpi) else {
      throw SVGRenderError(
        message: "dpi must be between \(Int(dpiRange.lowerBound)) and \(Int(dpiRange.upperBound)), "
          + "not \(Plot.number(dpi))")
    }
    try loadFonts.get()
    let handle = try Handle(svg)
    let scale = dpi / cssDPI
    let (width, height) = handle.size
    let columns = max(Int(min(width * scale, 1e15).rounded()), 1)
    let rows = max(Int(min(height * scale, 1e15).rounded()), 1)
    try checkPNGSize(columns: columns, rows: rows, dpi: dpi)
    guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(columns), Int32(rows))
    else { throw SVGRenderError(message: "cairo cannot create a \(columns) × \(rows) image") }
    defer { cairo_surface_destroy(surface) }
    try check(cairo_surface_status(surface), "a \(columns) × \(rows) image")
    // An image surface rounds glyph advances to whole pixels (hinted metrics), which would set
    // text narrower or wider than in the PDF. A recording surface lays text out as a vector
    // surface does; replaying it scales outlines, not laid-out pixels, so the PNG shows the PDF.
    guard
      let recording = withUnsafePointer(
        to: cairo_rectangle_t(x: 0, y: 0, width: width, height: height),
        { cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, $0) })
    else { throw SVGRenderError(message: "cairo cannot create a recording surface") }
    defer { cairo_surface_destroy(recording) }
    try draw(handle, on: recording, width: width, height: height)
    guard let cr = cairo_create(surface) else {
      throw SVGRenderError(message: "cairo cannot create a drawing context")
    }
    cairo_set_source_rgb(cr, 1, 1, 1)
    cairo_paint(cr)
    // Replayed in bands of whole pixel rows (cairo culls what lies outside each band's clip),
    // so that Ctrl-C is seen between bands of a large image.
    var top = 0
    var cancelled = false
    while top < rows && !cancelled {
      if isCancelled(0.9 * Double(top) / Double(rows)) {
        cancelled = true
        break
      }
      let band = min(pngBandRows, rows - top)
      cairo_save(cr)
      cairo_rectangle(cr, 0, Double(top), Double(columns), Double(band))
      cairo_clip(cr)
      cairo_scale(cr, scale, scale)
      cairo_set_source_surface(cr, recording, 0, 0)
      cairo_paint(cr)
      cairo_restore(cr)
      top += band
    }
    let status = cairo_status(cr)
    cairo_destroy(cr)
    if cancelled { throw SVGRenderError(message: "interrupted") }
    try check(status, "the image")
    cairo_surface_flush(surface)
    let stride = Int(cairo_image_surface_get_stride(surface))
    guard let data = cairo_image_surface_get_data(surface) else {
      throw SVGRenderError(message: "cairo gave no pixels for the image")
    }
    // ARGB32 is one native-endian (little-endian here) UInt32 a pixel: bytes B, G, R, A. The
    // white background makes every pixel opaque, so premultiplied and straight colours agree.
    var raw = [UInt8](repeating: 0, count: (columns * 3 + 1) * rows)
    raw.withUnsafeMutableBufferPointer { out in
      for row in 0..<rows {
        if row % pngBandRows == 0, isCancelled(0.9 + 0.1 * Double(row) / Double(rows)) {
          cancelled = true
          return
        }
        let line = data + row * stride
        var o = row * (columns * 3 + 1) + 1  // the row's filter byte stays 0 (none)
        for column in 0..<columns {
          out[o] = line[4 * column + 2]
          out[o + 1] = line[4 * column + 1]
          out[o + 2] = line[4 * column]
          o += 3
        }
      }
    }
    if cancelled { throw SVGRenderError(message: "interrupted") }
    var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    let header =
      Plot.bigEndian32(UInt32(columns)) + Plot.bigEndian32(UInt32(rows)) + [8, 2, 0, 0, 0]
    Plot.appendChunk("IHDR", header, to: &file)
    let perMetre = Plot.bigEndian32(UInt32((dpi / 0.0254).rounded()))
    Plot.appendChunk("pHYs", perMetre + perMetre + [1], to: &file)
    Plot.appendChunk("IDAT", Deflate.zlib(raw, rowLength: columns * 3 + 1), to: &file)
    Plot.appendChunk("IEND", [], to: &file)
    return file
  }

  /// The rows of a PNG drawn, and packed, between two polls of `isCancelled`.
  static let pngBandRows = 256

  /// The widest or tallest PNG rendered, in pixels: cairo's image surfaces stop at 32,767.
  static let maximumPNGSide = 32_767
  /// The most pixels a PNG holds: 2²⁶ (a 640 × 480 figure at 1,200 dpi is 48 million), about
  /// 470 MB while it is drawn and packed.
  static let maximumPNGPixels = 1 << 26

  /// Refuses a PNG too large to render, before anything is drawn (a figure of five million
  /// rows of images would otherwise draw for seconds and then fail inside cairo).
  static func checkPNGSize(columns: Int, rows: Int, dpi: Double) throws(SVGRenderError) {
    let pixels = DataLimits.product([columns, rows]) ?? .max
    guard columns > maximumPNGSide || rows > maximumPNGSide || pixels > maximumPNGPixels else {
      return
    }
    throw SVGRenderError(
      message: "a PNG of \(NumberFormat.grouped(columns)) × \(NumberFormat.grouped(rows)) pixels "
        + "at \(Plot.number(dpi)) dpi is too large: sigbook renders at most "
        + "\(NumberFormat.grouped(maximumPNGSide)) pixels a side and "
        + "\(NumberFormat.grouped(maximumPNGPixels)) pixels in all; write the figure as SVG or PDF, "
        + "or use a lower dpi")
  }

  /// Draws the document over the whole of a `width × height` surface (in surface units).
  private static func draw(
    _ handle: Handle, on surface: OpaquePointer, width: Double, height: Double
  ) throws(SVGRenderError) {
    guard let cr = cairo_create(surface) else {
      throw SVGRenderError(message: "cairo cannot create a drawing context")
    }
    defer { cairo_destroy(cr) }
    var viewport = RsvgRectangle(x: 0, y: 0, width: width, height: height)
    var error: UnsafeMutablePointer<GError>?
    if rsvg_handle_render_document(handle.pointer, cr, &viewport, &error) == 0 {
      throw SVGRenderError(message: "librsvg cannot render the SVG: " + consume(error))
    }
    try check(cairo_status(cr), "the drawing")
  }

  private static func check(_ status: cairo_status_t, _ what: String) throws(SVGRenderError) {
    guard status == CAIRO_STATUS_SUCCESS else {
      let reason = cairo_status_to_string(status).map { String(cString: $0) } ?? "unknown error"
      throw SVGRenderError(message: "cairo failed on \(what): \(reason)")
    }
  }

  /// The message of a GError, which it frees.
  private static func consume(_ error: UnsafeMutablePointer<GError>?) -> String {
    guard let error else { return "no reason given" }
    defer { g_error_free(error) }
    return error.pointee.message.map { String(cString: $0) } ?? "no reason given"
  }

  /// Makes fontconfig (and so Pango and librsvg) see DejaVu Sans only, once a process.
  ///
  /// fontconfig's current configuration is process-wide state of the C library; it is replaced
  /// once, before anything is rendered, and never changed again.
  static let loadFonts: Result<Void, SVGRenderError> = {
    let files = fontFiles.compactMap { name in
      fontFolders.map { $0 + "/" + name }.first { FileManager.default.fileExists(atPath: $0) }
    }
    guard files.count == fontFiles.count else {
      return .failure(
        SVGRenderError(
          message: "DejaVu Sans is not installed (looked for \(fontFiles.joined(separator: ", ")) "
            + "in \(fontFolders.joined(separator: ", "))); on Debian run scripts/setup or "
            + "apt-get install fonts-dejavu-core"))
    }
    // Every family the SVG names (system-ui, Helvetica, sans-serif…) becomes DejaVu Sans; bold
    // text still picks the bold face by weight. Glyphs are drawn unhinted with grey
    // antialiasing, as a PDF viewer draws them, so the PNG and the PDF's rendering agree.
    let rules = """
      <?xml version="1.0"?>
      <!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
      <fontconfig>
        <match target="pattern">
          <edit name="family" mode="assign_replace" binding="strong"><string>DejaVu Sans</string></edit>
        </match>
        <match target="font">
          <edit name="hinting" mode="assign"><bool>false</bool></edit>
          <edit name="hintstyle" mode="assign"><const>hintnone</const></edit>
          <edit name="autohint" mode="assign"><bool>false</bool></edit>
          <edit name="antialias" mode="assign"><bool>true</bool></edit>
          <edit name="rgba" mode="assign"><const>none</const></edit>
        </match>
      </fontconfig>
      """
    guard let config = FcConfigCreate() else {
      return .failure(SVGRenderError(message: "fontconfig cannot create a configuration"))
    }
    guard FcConfigParseAndLoadFromMemory(config, rules, 1) != 0 else {
      return .failure(SVGRenderError(message: "fontconfig rejects sigbook's font rules"))
    }
    for file in files where FcConfigAppFontAddFile(config, file) == 0 {
      return .failure(SVGRenderError(message: "fontconfig cannot read the font '\(file)'"))
    }
    guard FcConfigSetCurrent(config) != 0 else {
      return .failure(SVGRenderError(message: "fontconfig refuses sigbook's font configuration"))
    }
    return .success(())
  }()

  /// Collects the bytes cairo writes.
  private final class ByteSink {
    var bytes: [UInt8] = []
  }

  /// A parsed SVG document (an `RsvgHandle`) and its size in CSS pixels.
  private final class Handle {
    let pointer: UnsafeMutablePointer<RsvgHandle>
    let size: (width: Double, height: Double)

    init(_ svg: String) throws(SVGRenderError) {
      var error: UnsafeMutablePointer<GError>?
      let bytes = Array(svg.utf8)
      guard let pointer = rsvg_handle_new_from_data(bytes, gsize(bytes.count), &error) else {
        throw SVGRenderError(message: "librsvg cannot read the SVG: " + SVGRenderer.consume(error))
      }
      rsvg_handle_set_dpi(pointer, SVGRenderer.cssDPI)
      var width = 0.0
      var height = 0.0
      guard rsvg_handle_get_intrinsic_size_in_pixels(pointer, &width, &height) != 0,
        width > 0, height > 0
      else {
        g_object_unref(pointer)
        throw SVGRenderError(message: "the SVG has no width and height in pixels")
      }
      self.pointer = pointer
      self.size = (width, height)
    }

    deinit { g_object_unref(pointer) }
  }
}
