import Foundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// What an SVG file holds, as Foundation's XMLParser reads it.
public final class ParsedSVG: NSObject, XMLParserDelegate {
  public struct Element {
    public var name: String
    public var attributes: [String: String]
    public var text: String
    public var depth: Int
  }

  public private(set) var elements: [Element] = []
  private var stack: [Int] = []
  public private(set) var error: Error?

  /// Parses `svg`; `error` is set when the file is not well-formed XML.
  public init(_ svg: String) {
    super.init()
    let parser = XMLParser(data: Data(svg.utf8))
    parser.delegate = self
    if !parser.parse() { error = parser.parserError ?? CocoaError(.fileReadCorruptFile) }
  }

  public var root: Element? { elements.first }

  /// Elements with this name.
  public func all(_ name: String) -> [Element] { elements.filter { $0.name == name } }

  /// The texts of all `<text>` elements.
  public var texts: [String] { all("text").map(\.text) }

  public func parser(
    _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
  ) {
    elements.append(
      Element(name: elementName, attributes: attributeDict, text: "", depth: stack.count))
    stack.append(elements.count - 1)
  }

  public func parser(
    _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
    qualifiedName qName: String?
  ) {
    stack.removeLast()
  }

  public func parser(_ parser: XMLParser, foundCharacters string: String) {
    if let last = stack.last { elements[last].text += string }
  }
}
