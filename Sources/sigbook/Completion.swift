import CReadline
import Foundation
import SigbookWorkbook

/// A NULL-terminated array of C strings, as readline takes matches.
typealias CStringArray = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

/// `rl_completion_func_t`: the word to complete and its bounds → `malloc`ed matches or nil.
typealias CompletionFunction = @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> CStringArray?

/// Readline's attempted-completion function: asks `Completer` what fits at the cursor and hands
/// readline its matches (file names come from readline's own generator).
///
/// Readline has already cut out the word to replace, `text`, by its word-break characters; the
/// completer's fragment may start earlier (`.t` of an option, `:ex` of a command) or later (`hi`
/// of `net.hi`). Candidates are shifted by the difference so that they replace exactly `text`.
let attemptCompletion: CompletionFunction = { text, _, _ in
  // Never fall back to readline's default (file names everywhere).
  sigbook_rl_set_attempted_completion_over(1)
  sigbook_rl_set_completion_append_character(0)
  guard let text, let completion = completionAtCursor() else { return nil }
  if completion.isFileName {
    sigbook_rl_set_filename_completion_desired(1)
    return sigbook_rl_filename_matches(text)
  }
  let word = String(cString: text)
  let shift: (String) -> String?
  if completion.fragment.hasSuffix(word) {
    let lead = completion.fragment.dropLast(word.count)
    shift = { $0.hasPrefix(lead) ? String($0.dropFirst(lead.count)) : nil }
  } else if word.hasSuffix(completion.fragment) {
    let extra = word.dropLast(completion.fragment.count)
    shift = { extra + $0 }
  } else {
    return nil
  }
  let matches: [String]
  if completion.candidates.count == 1, let only = completion.candidates.first {
    matches = [only.insertion].compactMap(shift)
  } else {
    let words = completion.texts.compactMap(shift)
    matches = words.isEmpty ? [] : [commonPrefix(of: words)] + words
  }
  return cStringArray(matches)
}

/// Readline's word-break hook: file names break only at spaces, code at operators too.
let wordBreakCharacters: @convention(c) () -> UnsafeMutablePointer<CChar>? = {
  sigbook_rl_word_break_characters(completionAtCursor()?.isFileName == true ? 1 : 0)
}

/// What completes the input before readline's cursor, earlier lines of an open statement
/// included.
private func completionAtCursor() -> Completion? {
  guard let buffer = sigbook_rl_line_buffer() else { return nil }
  let point = max(0, Int(sigbook_rl_point()))
  let before = buffer.withMemoryRebound(to: UInt8.self, capacity: point) {
    String(decoding: UnsafeBufferPointer(start: $0, count: point), as: UTF8.self)
  }
  let (completer, pending) = lineEditorState.withLock { ($0.completer, $0.pending) }
  return completer.complete(pending + before)
}

/// The longest prefix all the words share (by characters).
func commonPrefix(of words: [String]) -> String {
  guard var prefix = words.first else { return "" }
  for word in words.dropFirst() {
    while !word.hasPrefix(prefix) { prefix.removeLast() }
  }
  return prefix
}

/// A NULL-terminated array of `strdup`ed C strings in `malloc`ed memory, which readline frees;
/// nil when `strings` is empty (no match).
private func cStringArray(_ strings: [String]) -> CStringArray? {
  guard !strings.isEmpty else { return nil }
  let size = MemoryLayout<UnsafeMutablePointer<CChar>?>.stride * (strings.count + 1)
  guard let raw = malloc(size) else { return nil }
  let array = raw.bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: strings.count + 1)
  for (i, string) in strings.enumerated() { array[i] = strdup(string) }
  array[strings.count] = nil
  return array
}
