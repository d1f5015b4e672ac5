/// The figure kinds of the workbook catalogue, drawn as SVG 1.1.
///
/// Every function here is pure: it takes plain values (arrays of numbers and names, tensors of
/// images or weights) and returns a ``Figure`` whose `svg` depends only on those values, byte for
/// byte. Numbers in the SVG go through one formatter (``Plot/number(_:decimals:)``, at most two
/// decimals, never `-0`) and all text through one escaper (`SVGDocument.escape(_:inAttribute:)`),
/// so a label like `a<b & c` is harmless.
///
/// The kinds and their functions: `scatter` ``scatter(x:y:categories:names:title:xLabel:yLabel:legendTitle:crossed:crossedNote:)``,
/// `sankey` ``sankey(assignments:labels:labelNames:nodeNames:columnTitles:title:)``,
/// `silhouette_plot` ``silhouettePlot(names:ks:scores:chosenK:title:)``,
/// `loss_plot` ``lossPlot(loss:accuracy:validationLoss:validationAccuracy:batchLoss:names:perBatch:title:)``,
/// `images` ``images(_:labels:columns:title:)``,
/// `reconstructions` ``reconstructions(originals:reconstructions:labels:columns:title:)``,
/// `heatmap` ``heatmap(values:rowNames:columnNames:rowTitle:columnTitle:valueTitle:domain:showsValues:title:)``,
/// `confusion_plot` ``confusionPlot(counts:classNames:title:)``,
/// `boundary` ``boundary(x:y:labels:classNames:resolution:title:xLabel:yLabel:classify:)``,
/// `roc` ``roc(names:scores:isPositive:title:)``,
/// `line` ``line(x:y:names:dashed:title:xLabel:yLabel:yRange:)``,
/// `filters` ``filters(_:groups:outputs:inputs:columns:title:)``,
/// `feature_maps` ``featureMaps(inputs:captions:layerNames:maps:channels:columns:title:)``,
/// `attribution_plot` ``attributions(inputs:maps:labels:columns:title:)``, and `grid`
/// ``grid(_:columns:title:shareY:)``, which nests other figures as its panels.
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
