extension FunctionDefinition {
  /// The definition as an entry of the same shape as the catalogue's, so calls to it are bound,
  /// checked and explained (`help(study)`) the same way.
  ///
  /// - Parameters:
  ///   - defaults: the values of the labelled parameters' defaults; a labelled parameter
  ///     without one (in `check`, which runs nothing) may be left out.
  ///   - file: the workbook it is defined in, for its help text.
  func entry(defaults: [String: Value], file: String) -> FunctionEntry {
    let parameters: [SigbookWorkbook.Parameter] = self.parameters.map { p in
      if let e = p.defaultValue {
        return .labelled(
          p.name.name, .any, doc: "default \(e.source)", default: defaults[p.name.name],
          defaultText: e.source, optional: defaults[p.name.name] == nil)
      }
      return .positional(p.name.name, .any, doc: "")
    }
    let definition = self
    let written = parameters.map(\.signature).joined(separator: ", ")
    return FunctionEntry(
      name.name, category: "Defined in this workbook", parameters: parameters, returns: .any,
      summary: "A function defined in \(file) at line \(span.start.line).",
      example: "func \(name.name)(\(written)) { … }"
    ) { call in
      try call.session.invoke(definition, call)
    }
  }
}
