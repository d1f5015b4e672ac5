import SigbookTensor

extension Plot {
  /// The side of the box an image is drawn in, in pixels (a 28 × 28 digit at 2×).
  static let imageBox = 56.0

  /// `images`: a grid of greyscale images, each with its label underneath.
  ///
  /// Each image is an SVG `<image>` holding a PNG as a `data:` URI (8-bit grey, see
  /// ``png(_:scale:)``), shown in a 56 px box (a 28 × 28 digit at 2×). Pixels stay crisp squares
  /// everywhere: the PNG itself holds every pixel as a 4 × 4 block (so a viewer that smooths images,
  /// like librsvg or a PDF export, smooths only the block edges), and the style asks browsers for
  /// nearest-neighbour scaling (`image-rendering: pixelated`, SVG 1.1's `optimizeSpeed` as
  /// fallback). Compared with one `<rect>` per pixel (or per run of equal pixels) this is about
  /// 1–2 kB per digit instead of 10–40 kB, draws at once, and has no seams between rects; the PNG's
  /// bytes depend only on the pixels.
  ///
  /// - Parameters:
  ///   - images: the images, `[count, height, width]`, intensities 0 (black) … 1 (white), in
  ///     order (left to right, then top to bottom).
  ///   - labels: the text under each image (missing labels leave the space empty).
  ///   - columns: images per row (at least 1).
  ///   - title: the figure's title.
  /// - Returns: a figure of kind `images`.
  /// - Precondition: `images` has rank 3.
  public static func images(
    _ images: Tensor, labels: [String], columns: Int = 8, title: String
  ) -> Figure {
    self.images(GreyImage.slices(of: images), labels: labels, columns: columns, title: title)
  }

  /// `images`, polling `isCancelled` with the fraction drawn every 64 images.
  ///
  /// - Throws: `CancellationError` when `isCancelled` returns true (Ctrl-C).
  /// - Precondition: `images` has rank 3, `[count, height, width]`.
  public static func images(
    _ images: Tensor, labels: [String], columns: Int = 8, title: String,
    isCancelled: (Double) -> Bool
  ) throws(CancellationError) -> Figure {
    try self.images(
      GreyImage.slices(of: images), labels: labels, columns: columns, title: title,
      isCancelled: isCancelled)
  }

  /// `images` of images already cut apart (see ``images(_:labels:columns:title:)``).
  static func images(
    _ images: [GreyImage], labels: [String], columns: Int = 8, title: String
  ) -> Figure {
    // Never cancelled, so never throws.
    (try? self.images(images, labels: labels, columns: columns, title: title) { _ in false })
      ?? Figure(kind: "images", document: SVGDocument(width: 1, height: 1, title: title))
  }

  /// `images` of images already cut apart, polling `isCancelled` every 64 images.
  static func images(
    _ images: [GreyImage], labels: [String], columns: Int = 8, title: String,
    isCancelled: (Double) -> Bool
  ) throws(CancellationError) -> Figure {
    let columns = max(1, min(columns, max(images.count, 1)))
    let rows = (images.count + columns - 1) / columns
    let labelHeight = FontSize.small + 8
    let cellWidth =
      max(imageBox, (labels.map { textWidth($0, size: FontSize.small) }.max() ?? 0))
      + 10
    let cellHeight = imageBox + labelHeight + 6
    let top = ChartLayout.titleHeight + 4
    var width = 2 * ChartLayout.pad + Double(columns) * cellWidth
    width = max(width, textWidth(title, size: FontSize.title, bold: true) + 2 * ChartLayout.pad)
    let height = top + Double(rows) * cellHeight + ChartLayout.pad
    var document = SVGDocument(
      width: width, height: height, title: title,
      description: "\(images.count) images with their labels")
    addBaseStyles(to: &document)
    addImageStyle(to: &document)
    drawTitle(title, into: &document)
    for (i, image) in images.enumerated() {
      if i % 64 == 0, isCancelled(Double(i) / Double(images.count)) { throw CancellationError() }
      let x = ChartLayout.pad + Double(i % columns) * cellWidth + (cellWidth - imageBox) / 2
      let y = top + Double(i / columns) * cellHeight
      drawImage(image, x: x, y: y, into: &document)
      if i < labels.count {
        document.text(
          labels[i], x: x + imageBox / 2, y: y + imageBox + FontSize.small + 4,
          ["class": "sb-small", "text-anchor": "middle"])
      }
    }
    return Figure(kind: "images", document: document)
  }

  /// `reconstructions`: each original above its reconstruction by an autoencoder, labels below the
  /// pair, headings `original` and `reconstruction` at the left of every band of pairs.
  ///
  /// Images are drawn as in ``images(_:labels:columns:title:)``.
  ///
  /// - Parameters:
  ///   - originals: the inputs, `[count, height, width]`.
  ///   - reconstructions: the autoencoder's outputs, one per original (extra ones are ignored),
  ///     `[count, height, width]`.
  ///   - labels: the text under each pair.
  ///   - columns: pairs per band (at least 1).
  ///   - title: the figure's title.
  /// - Returns: a figure of kind `reconstructions`.
  /// - Precondition: both tensors have rank 3.
  public static func reconstructions(
    originals: Tensor, reconstructions: Tensor, labels: [String], columns: Int = 10,
    title: String
  ) -> Figure {
    self.reconstructions(
      originals: GreyImage.slices(of: originals),
      reconstructions: GreyImage.slices(of: reconstructions), labels: labels, columns: columns,
      title: title)
  }

  /// `reconstructions` of images already cut apart.
  static func reconstructions(
    originals: [GreyImage], reconstructions: [GreyImage], labels: [String], columns: Int = 10,
    title: String
  ) -> Figure {
    let count = min(originals.count, reconstructions.count)
    let columns = max(1, min(columns, max(count, 1)))
    let bands = (count + columns - 1) / columns
    let headings = ["original", "reconstruction"]
    let headingWidth =
      (headings.map { textWidth($0, size: FontSize.small) }.max() ?? 0) + 10
    let cellWidth =
      max(imageBox, (labels.map { textWidth($0, size: FontSize.small) }.max() ?? 0))
      + 8
    let pairHeight = 2 * imageBox + 4
    let bandHeight = pairHeight + FontSize.small + 16
    let top = ChartLayout.titleHeight + 4
    let left = ChartLayout.pad + headingWidth
    var width = left + Double(columns) * cellWidth + ChartLayout.pad
    width = max(width, textWidth(title, size: FontSize.title, bold: true) + 2 * ChartLayout.pad)
    let height = top + Double(bands) * bandHeight + ChartLayout.pad
    var document = SVGDocument(
      width: width, height: height, title: title,
      description: "\(count) inputs above their reconstructions")
    addBaseStyles(to: &document)
    addImageStyle(to: &document)
    drawTitle(title, into: &document)
    for band in 0..<bands {
      let y = top + Double(band) * bandHeight
      for (row, heading) in headings.enumerated() {
        document.text(
          heading, x: left - 8, y: y + Double(row) * (imageBox + 4) + imageBox / 2 + 4,
          ["class": "sb-small", "text-anchor": "end"])
      }
    }
    for i in 0..<count {
      let x = left + Double(i % columns) * cellWidth + (cellWidth - imageBox) / 2
      let y = top + Double(i / columns) * bandHeight
      drawImage(originals[i], x: x, y: y, into: &document)
      drawImage(reconstructions[i], x: x, y: y + imageBox + 4, into: &document)
      if i < labels.count {
        document.text(
          labels[i], x: x + imageBox / 2, y: y + pairHeight + FontSize.small + 4,
          ["class": "sb-small", "text-anchor": "middle"])
      }
    }
    return Figure(kind: "reconstructions", document: document)
  }

  static func addImageStyle(to document: inout SVGDocument) {
    // Later declarations win where understood: pixelated (CSS), else optimizeSpeed (SVG 1.1).
    document.style(".sb-px", "image-rendering: optimizeSpeed; image-rendering: pixelated")
  }

  /// The block size that makes the PNG at least twice the box (4 for 28 × 28 digits).
  static func pixelScale(_ image: GreyImage) -> Int {
    let side = max(image.width, image.height, 1)
    return min(16, max(1, Int((2 * imageBox / Double(side)).rounded(.up))))
  }

  /// One image in an `imageBox` square at (x, y), aspect ratio kept.
  static func drawImage(_ image: GreyImage, x: Double, y: Double, into document: inout SVGDocument)
  {
    drawPixels(
      of: image, pngURI: pngDataURI(image, scale: pixelScale(image)), x: x, y: y, into: &document)
  }

  /// A PNG of `image`'s size (its own pixels or colours drawn from them) in a `box` square
  /// (`imageBox` unless given) at (x, y), aspect ratio kept.
  ///
  /// - Parameter framed: adds a rectangle of class `sb-frame` around it, so that an image of pale
  ///   colours (weights or activations near 0) still shows where it ends.
  static func drawPixels(
    of image: GreyImage, pngURI: String, x: Double, y: Double, box: Double = imageBox,
    framed: Bool = false, into document: inout SVGDocument
  ) {
    let side = Double(max(image.width, image.height, 1))
    let w = box * Double(image.width) / side
    let h = box * Double(image.height) / side
    document.add(
      "image",
      [
        "class": "sb-px", "x": x + (box - w) / 2, "y": y + (box - h) / 2, "width": w,
        "height": h, "image-rendering": "optimizeSpeed", "preserveAspectRatio": "none",
        "xlink:href": pngURI,
      ])
    if framed {
      document.add(
        "rect",
        [
          "class": "sb-frame", "x": x + (box - w) / 2, "y": y + (box - h) / 2, "width": w,
          "height": h,
        ])
    }
  }
}
