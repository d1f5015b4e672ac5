import Foundation
import SigbookWorkbook

extension Kernel {
  /// `complete_request`: what the REPL's Tab offers at the cursor — functions, variables,
  /// labels of the call, options, fields — or file names inside a string.
  func complete(_ content: JSONObject) -> JSONObject {
    let code = content.string("code") ?? ""
    let scalars = Array(code.unicodeScalars)
    // Jupyter counts the cursor in Unicode code points.
    let cursor = min(max(content.int("cursor_pos") ?? scalars.count, 0), scalars.count)
    var before = String.UnicodeScalarView()
    before.append(contentsOf: scalars[..<cursor])
    let completion = Completer(session: session).complete(String(before))
    let matches =
      completion.isFileName ? fileNames(startingWith: completion.fragment) : completion.texts
    return [
      "status": "ok", "matches": matches,
      "cursor_start": cursor - completion.fragment.unicodeScalars.count, "cursor_end": cursor,
      "metadata": [:],
    ]
  }

  /// The names of files and folders (with a `/`) that complete `fragment`, a path relative to
  /// the session's folder.
  private func fileNames(startingWith fragment: String) -> [String] {
    let folderPart = (fragment as NSString).deletingLastPathComponent
    let prefix = fragment.hasSuffix("/") ? "" : (fragment as NSString).lastPathComponent
    let expanded = (folderPart as NSString).expandingTildeInPath
    let folder =
      expanded.hasPrefix("/") ? expanded : session.baseDirectory + "/" + expanded
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    let lead = fragment.hasSuffix("/") ? fragment : folderPart.isEmpty ? "" : folderPart + "/"
    return names.filter { $0.hasPrefix(prefix) && !$0.hasPrefix(".") }.sorted().map { name in
      var isFolder: ObjCBool = false
      _ = FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isFolder)
      return lead + name + (isFolder.boolValue ? "/" : "")
    }
  }

  /// `inspect_request`: the catalogue's help for the function named at the cursor (or of the
  /// call the cursor is in), or what a variable holds.
  func inspect(_ content: JSONObject) -> JSONObject {
    let code = Array(content.string("code") ?? "")
    let scalarCursor = content.int("cursor_pos") ?? code.count
    // From Unicode code points to characters.
    var cursor = 0
    var points = 0
    while cursor < code.count && points + code[cursor].unicodeScalars.count <= scalarCursor {
      points += code[cursor].unicodeScalars.count
      cursor += 1
    }
    var found: String?
    for name in Self.names(at: cursor, in: code) {
      if let help = Catalogue.help(for: name, session: session) {
        found = help
        break
      }
      if let value = session.variables[name] {
        found = "\(name): \(value.kind.rawValue)\n\n\(value.display)"
        break
      }
    }
    return [
      "status": "ok", "found": found != nil,
      "data": found.map { ["text/plain": $0] } ?? [:], "metadata": [:],
    ]
  }

  /// The names worth inspecting at `cursor`, best first: the word under (or just before) the
  /// cursor, then the function of each call the cursor is inside, innermost first.
  static func names(at cursor: Int, in code: [Character]) -> [String] {
    func isNameCharacter(_ c: Character) -> Bool { c == "_" || c.isLetter || c.isNumber }
    var names: [String] = []
    var start = cursor
    var end = cursor
    while start > 0 && isNameCharacter(code[start - 1]) { start -= 1 }
    while end < code.count && isNameCharacter(code[end]) { end += 1 }
    if start < end { names.append(String(code[start..<end])) }
    var depth = 0
    var index = min(start, code.count) - 1
    while index >= 0 {
      switch code[index] {
      case ")", "]", "}": depth += 1
      case "[", "{": depth = max(depth - 1, 0)
      case "(":
        if depth > 0 {
          depth -= 1
        } else {
          var nameEnd = index
          while nameEnd > 0 && code[nameEnd - 1] == " " { nameEnd -= 1 }
          var nameStart = nameEnd
          while nameStart > 0 && isNameCharacter(code[nameStart - 1]) { nameStart -= 1 }
          if nameStart < nameEnd { names.append(String(code[nameStart..<nameEnd])) }
        }
      default: break
      }
      index -= 1
    }
    return names
  }

  /// `is_complete_request`: incomplete while a bracket or block is open (as the REPL reads
  /// another line), invalid when the code cannot parse, else complete (a `:command` too).
  func isComplete(_ content: JSONObject) -> JSONObject {
    let code = content.string("code") ?? ""
    if code.trimmingCharacters(in: .whitespaces).hasPrefix(":") && !code.contains("\n") {
      return ["status": "complete"]
    }
    var input = REPLInput()
    for line in code.split(separator: "\n", omittingEmptySubsequences: false) {
      input.append(String(line))
    }
    if input.isIncomplete { return ["status": "incomplete", "indent": "  "] }
    do {
      _ = try parseCell(code, file: "In[]")
      return ["status": "complete"]
    } catch {
      return ["status": "invalid"]
    }
  }

  /// `history_request`: this kernel's stored executions (session 1, lines numbered as the
  /// cells' `In [N]`), the last `n` (`tail`), those in `start..<stop` (`range`) or those
  /// matching a glob `pattern` (`search`, optionally `unique`); with `output`, each with its
  /// text outputs.
  func history(_ content: JSONObject) -> JSONObject {
    let type = content.string("hist_access_type") ?? "tail"
    let withOutput = content.bool("output") ?? false
    var entries = history
    switch type {
    case "range":
      let start = content.int("start") ?? 1
      let stop = content.int("stop") ?? Int.max
      entries = entries.filter { $0.line >= start && $0.line < stop }
    case "search":
      let pattern = content.string("pattern") ?? "*"
      entries = entries.filter { fnmatch(pattern, $0.code, 0) == 0 }
      if content.bool("unique") ?? false {
        var seen: Set<String> = []
        entries = entries.reversed().filter { seen.insert($0.code).inserted }.reversed()
      }
      if let n = content.int("n") { entries = Array(entries.suffix(n)) }
    default:
      if let n = content.int("n") { entries = Array(entries.suffix(n)) }
    }
    return [
      "status": "ok",
      "history": entries.map { entry -> [Any] in
        [1, entry.line, withOutput ? [entry.code, entry.output] as [Any] : entry.code as Any]
      },
    ]
  }
}
