/// The figure kinds of the workbook catalogue, drawn as SVG 1.1.
///
/// Every function here is pure: it takes plain values (arrays of numbers, names, the small input
/// structs nested in this namespace) and returns a ``Figure`` whose `svg` depends only on those
/// values, byte for byte. Numbers in the SVG go through one formatter (``Plot/number(_:decimals:)``,
/// at most two decimals, never `-0`) and all text through one escaper
/// (``SVGDocument/escape(_:inAttribute:)``), so a label like `a<b & c` is harmless.
///
/// The kinds and their functions: `scatter` ``scatter(x:y:categories:names:title:xLabel:yLabel:legendTitle:)``,
/// `sankey` ``sankey(_:title:)``, `silhouette_plot` ``silhouettePlot(_:title:)``,
/// `loss_plot` ``lossPlot(_:names:perBatch:title:)``, `images` ``images(_:labels:columns:title:)``,
/// `reconstructions` ``reconstructions(originals:reconstructions:labels:title:)``,
/// `heatmap` ``heatmap(_:title:)``, `confusion_plot` ``confusionPlot(counts:classNames:title:)``,
/// `boundary` ``boundary(_:points:title:xLabel:yLabel:)``, `roc` ``roc(_:title:)``,
/// `line` ``line(_:title:xLabel:yLabel:logY:)``, and `grid` ``grid(_:columns:title:)``, which
/// nests other figures as its panels.
public enum Plot {}

extension Figure {
  /// A figure of the given catalogue kind whose SVG is the rendered document.
  ///
  /// - Parameters:
  ///   - kind: the catalogue name of the plot (`scatter`, `sankey`…).
  ///   - document: the drawing; its title becomes the figure's title.
  init(kind: String, document: SVGDocument) {
    self.init(kind: kind, title: document.title, svg: document.render())
  }
}
