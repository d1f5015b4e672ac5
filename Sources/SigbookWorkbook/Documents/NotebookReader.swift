import Foundation
import SigbookTensor

/// Reads a Jupyter notebook (nbformat 4) as a workbook, for `sigbook convert`: Markdown (and
/// raw) cells become prose, code cells ```` ```sigbook ```` cells; outputs are left out, since a
/// workbook holds none.
public struct NotebookReader {
  /// The notebook's cells in order: prose or code, as text.
  enum Block: Equatable, Sendable {
    case prose(String)
    case code(String)
  }

  /// The language the notebook names (its kernelspec's, else its `language_info`'s), if any.
  let language: String?
  /// The notebook's kernel, if it names one.
  let kernel: String?
  let blocks: [Block]

  /// Why a notebook cannot be converted.
  public struct Failure: Error, CustomStringConvertible, Sendable {
    /// Why, naming the notebook.
    public let description: String
  }

  /// Reads the notebook at `path`.
  ///
  /// - Throws: a ``Failure`` when the file cannot be read, is not an nbformat 4 notebook, or is
  ///   written in another language than sigbook (a notebook that names no language is read).
  public init(path: String) throws(Failure) {
    let name = URL(fileURLWithPath: path).lastPathComponent
    let data: Data
    do {
      data = Data(try GuardedFile(path: path).contents(limit: DataLimits.fileBytes))
    } catch {
      throw Failure(description: "cannot read '\(path)': \(error)")
    }
    guard let notebook = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
      let cells = notebook["cells"] as? [[String: Any]]
    else {
      throw Failure(description: "'\(name)' is not a Jupyter notebook (nbformat 4 JSON)")
    }
    let metadata = notebook["metadata"] as? [String: Any] ?? [:]
    let kernelspec = metadata["kernelspec"] as? [String: Any]
    let languageInfo = metadata["language_info"] as? [String: Any]
    kernel = kernelspec?["name"] as? String
    language = (kernelspec?["language"] as? String) ?? (languageInfo?["name"] as? String)
    if let language, language.lowercased() != JupyterLanguage.name {
      throw Failure(
        description:
          "'\(name)' is a \(language) notebook"
          + (kernel.map { " (kernel '\($0)')" } ?? "")
          + ": convert reads notebooks of the sigbook kernel only")
    }
    blocks = cells.compactMap { cell in
      let source = Self.text(cell["source"])
      switch cell["cell_type"] as? String {
      case "code": return .code(source)
      case "markdown", "raw": return .prose(source)
      default: return nil
      }
    }
  }

  /// A cell's source, which nbformat writes as one string or a list of lines.
  private static func text(_ source: Any?) -> String {
    if let text = source as? String { return text }
    return (source as? [String])?.joined() ?? ""
  }

  /// The notebook as a workbook: each prose cell as it is, each code cell fenced as a
  /// ```` ```sigbook ```` cell, a blank line between them. Empty cells are left out.
  public var workbook: String {
    var parts: [String] = []
    for block in blocks {
      switch block {
      case .prose(let text):
        let trimmed = text.trimmingCharacters(in: .newlines)
        if !trimmed.isEmpty { parts.append(trimmed) }
      case .code(let code):
        let trimmed = code.trimmingCharacters(in: .newlines)
        if !trimmed.isEmpty { parts.append("```sigbook\n\(trimmed)\n```") }
      }
    }
    return parts.joined(separator: "\n\n") + "\n"
  }
}
